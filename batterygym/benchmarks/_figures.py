"""What every setting's plot of policies side by side shares: checking the records, a grid of axes with a
column per policy, bar widths, date axes. Matplotlib is imported inside, on an Agg canvas."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def policy_grid(schedules: dict[str, pd.DataFrame], check: Callable[[pd.DataFrame, str], None], what: str,
                col_width: float, height: float) -> tuple[Any, np.ndarray]:
    """A figure with two rows and a column per policy (rows share their y axis); every record checked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not schedules:
        raise ValueError(f"{what} needs at least one schedule, got none")
    for name, df in schedules.items():
        check(df, f"schedule {name!r}")
    cols = len(schedules)
    fig = Figure(figsize=(col_width * cols + 1, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_2d(np.array(fig.subplots(2, cols, sharex=True, sharey="row", squeeze=False)))
    return fig, axes


def bar_width(index: pd.Index) -> Any:
    """Bars a little narrower than one step."""
    return (index[1] - index[0]) * 0.85 if len(index) > 1 else pd.Timedelta(hours=0.85)


def date_axis(ax: Any) -> None:
    """Concise dates on ``ax``'s x axis."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def finish(fig: Any, axes: np.ndarray, path: Any, title: str, ylabels: tuple[str, str], truncated: bool,
           max_days: int) -> Any:
    """Label the first column, give both rows a legend, title the figure (saying when a long episode is
    cut to its first ``max_days``) and save it to ``path``."""
    for row, label in enumerate(ylabels):
        axes[row, 0].set_ylabel(label)
        axes[row, 0].legend(loc="best", fontsize=7)
    fig.suptitle(f"{title} (first {max_days} days shown)" if truncated else title)
    fig.savefig(path)
    return path
