"""Plots of episodes: the dispatch of one or more policies on the same episode, panel by panel.

Matplotlib is imported inside the functions and drawn on an Agg canvas without pyplot, so plotting
neither slows ``import batterygym`` nor changes the backend of a user's session.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

DISPATCH_COLUMNS = ("load_kw", "pv_kw", "price_import", "battery_kw", "import_kw", "soc")


def _step_of(index: pd.Index) -> object:
    """The step length of an evenly spaced index (1 for a one-step record)."""
    if len(index) > 1:
        return index[1] - index[0]
    return pd.Timedelta(hours=1) if isinstance(index, pd.DatetimeIndex) else 1


def _steps(series: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """Per-step values drawn over their whole step: the last value is held to the episode's end."""
    index = series.index
    x = index.append(pd.Index([index[-1] + _step_of(index)]))
    y = series.to_numpy(dtype=float)
    return x, np.append(y, y[-1])


def _ends(series: pd.Series) -> pd.Index:
    """End-of-step times, where a state recorded after each step (SoC) belongs."""
    return series.index + _step_of(series.index)


def plot_dispatch(
    schedules: dict[str, pd.DataFrame],
    path: str | os.PathLike[str],
    title: str = "Battery dispatch",
) -> Path:
    """Save a three-panel dispatch plot of one or more schedules of the same episode; returns the path.

    ``schedules`` maps a policy name to its record from :func:`batterygym.core.industrial.simulate`.
    Panels share the time axis: (a) load and PV (from the first schedule), the grid exchange of each
    policy (import > 0, export < 0) with its episode peak dotted, and the import price on a twin axis;
    (b) battery power per policy (charge > 0); (c) state of charge per policy. The file format
    follows the suffix of ``path`` (PNG, SVG, PDF, ...).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DateFormatter, DayLocator
    from matplotlib.figure import Figure

    if not schedules:
        raise ValueError("plot_dispatch needs at least one schedule, got none")
    for name, df in schedules.items():
        missing = [c for c in DISPATCH_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"schedule {name!r} lacks column(s) {missing}; pass records of simulate()")
        if len(df) == 0:
            raise ValueError(f"schedule {name!r} is empty")
    path = Path(path)

    first = next(iter(schedules.values()))
    t = first.index
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax_grid, ax_bat, ax_soc = fig.subplots(3, 1, sharex=True, height_ratios=[1.6, 1.0, 0.9])
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
              "tab:olive", "tab:cyan"]
    step = {"drawstyle": "steps-post"}

    ax_grid.fill_between(*_steps(first["load_kw"]), step="post", color="0.85", label="load")
    if (first["pv_kw"] > 0).any():
        ax_grid.plot(*_steps(first["pv_kw"]), color="goldenrod", lw=1.5, label="PV", **step)
    for i, (name, df) in enumerate(schedules.items()):
        color = colors[i % len(colors)]
        grid = df["import_kw"] - (df["export_kw"] if "export_kw" in df.columns else 0.0)
        peak = float(df["import_kw"].max())
        ax_grid.plot(*_steps(grid), color=color, lw=1.3, label=f"grid: {name}", **step)
        ax_grid.axhline(peak, color=color, lw=1.0, ls=":", label=f"peak: {name} ({peak:,.0f} kW)")
        ax_bat.plot(*_steps(df["battery_kw"]), color=color, lw=1.3, label=name, **step)
        ax_soc.plot(_ends(df["soc"]), df["soc"], color=color, lw=1.3, label=name)
    ax_grid.set_ylabel("power (kW)")
    ax_grid.set_title("(a) load, PV and grid exchange (import > 0), price on the right", loc="left", fontsize=10)
    ax_price = ax_grid.twinx()
    ax_price.plot(*_steps(first["price_import"]), color="0.35", lw=1.0, ls="--", label="import price", **step)
    ax_price.set_ylabel("price (EUR/kWh)")
    ax_price.set_ylim(0, max(float(first["price_import"].max()) * 1.6, 1e-6))
    handles, labels = ax_grid.get_legend_handles_labels()
    h2, l2 = ax_price.get_legend_handles_labels()
    ax_grid.legend(handles + h2, labels + l2, loc="upper left", bbox_to_anchor=(1.07, 1.0), fontsize=9,
                   frameon=False)

    ax_bat.axhline(0.0, color="0.5", lw=0.8)
    ax_bat.set_ylabel("battery (kW)")
    ax_bat.set_title("(b) battery power (charge > 0, discharge < 0)", loc="left", fontsize=10)
    ax_bat.legend(loc="upper left", bbox_to_anchor=(1.07, 1.0), fontsize=9, frameon=False)

    ax_soc.set_ylabel("state of charge")
    ax_soc.set_ylim(0.0, 1.0)
    ax_soc.set_title("(c) state of charge (share of the current capacity)", loc="left", fontsize=10)
    ax_soc.legend(loc="upper left", bbox_to_anchor=(1.07, 1.0), fontsize=9, frameon=False)

    for ax in (ax_grid, ax_bat, ax_soc):
        ax.grid(True, color="0.9", lw=0.6)
        ax.set_axisbelow(True)
    end = t[-1] + _step_of(t)
    if isinstance(t, pd.DatetimeIndex):
        if end - t[0] <= pd.Timedelta(days=15):  # weekday names: shifts and weekends show
            ax_soc.xaxis.set_major_locator(DayLocator())
            ax_soc.xaxis.set_major_formatter(DateFormatter("%a %d %b"))
        else:
            locator = AutoDateLocator()
            ax_soc.xaxis.set_major_locator(locator)
            ax_soc.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax_soc.set_xlim(t[0], end)
    fig.suptitle(title, fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
