"""The fleet's two figures (as in the source): SoC per asset over time, and bid allocation per market over time.

Each works on a :func:`batterygym.core.fleet.simulate` record of any policy or of the optimum
(``Plan.schedule``). Matplotlib is imported inside the functions and drawn on an Agg canvas, so
plotting neither slows ``import batterygym`` nor changes the backend of a user's session.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batterygym.benchmarks._figures import bar_width, date_axis, policy_grid

COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
          "tab:cyan", "tab:gray"]


def _names(schedule: pd.DataFrame, prefix: str) -> list[str]:
    return [c.split(":", 1)[1] for c in schedule.columns if c.startswith(prefix)]


def _check(schedule: pd.DataFrame, name: str = "schedule") -> None:
    if not _names(schedule, "soc:") or not _names(schedule, "bid_kw:") or len(schedule) == 0:
        raise ValueError(f"{name} is not a fleet record (no soc:<asset> / bid_kw:<market> columns); "
                         "pass batterygym.core.fleet.simulate(...) or Plan.schedule")


def _edges(index: pd.Index) -> pd.Index:
    """Start of every step and the end of the last one."""
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
    return index.append(pd.Index([index[-1] + step]))


def plot_soc(ax: Any, schedule: pd.DataFrame, title: str | None = "State of charge per asset") -> None:
    """SoC of every asset over time on ``ax`` (the state at the start of each step and after the last)."""
    _check(schedule)
    edges = _edges(schedule.index)
    soc0 = schedule.attrs.get("soc0", {})
    for j, asset in enumerate(_names(schedule, "soc:")):
        after = schedule[f"soc:{asset}"].to_numpy(dtype=float)
        start = soc0.get(asset, np.nan)
        ax.plot(edges, np.concatenate([[start], after]), color=COLORS[j % len(COLORS)], lw=1.4, marker=".", ms=3,
                label=asset)
    ax.set_ylabel("SoC")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=7, ncol=min(5, len(soc0) or 5))
    if title:
        ax.set_title(title, fontsize=10)


def plot_bids(ax: Any, schedule: pd.DataFrame, title: str | None = "Bid allocation per market") -> None:
    """The fleet's allocation to every market over time on ``ax``, in MW: stacked bars, up markets
    (discharge) above zero and down markets (charge) below."""
    _check(schedule)
    idx = schedule.index
    width = bar_width(idx)
    pos, neg = np.zeros(len(idx)), np.zeros(len(idx))
    for j, market in enumerate(_names(schedule, "bid_kw:")):
        mw = schedule[f"bid_kw:{market}"].to_numpy(dtype=float) / 1000.0
        up = str(schedule[f"direction:{market}"].iloc[0]) == "up"
        base = pos if up else neg
        ax.bar(idx, mw if up else -mw, width=width, bottom=base, align="edge", color=COLORS[j % len(COLORS)],
               label=f"{market} ({'up' if up else 'down'})")
        if up:
            pos = pos + mw
        else:
            neg = neg - mw
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel("MW (up > 0, down < 0)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=7, ncol=2)
    if title:
        ax.set_title(title, fontsize=10)


def plot_fleet(schedules: dict[str, pd.DataFrame], path: str | os.PathLike[str], title: str = "Battery fleet"
               ) -> Path:
    """Save both figures for one or more policies of the same episode (a column per policy); returns the path.

    The file format follows the suffix of ``path`` (PNG, SVG, PDF, ...).
    """
    path = Path(path)
    fig, axes = policy_grid(schedules, _check, "plot_fleet", 5.5, 7.5)
    for c, (name, df) in enumerate(schedules.items()):
        plot_soc(axes[0, c], df, title=f"{name}: SoC per asset")
        plot_bids(axes[1, c], df, title=f"{name}: bids per market")
        date_axis(axes[1, c])
    fig.suptitle(title)
    fig.savefig(path)
    return path
