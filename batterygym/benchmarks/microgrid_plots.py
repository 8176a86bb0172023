"""The microgrid figure: per policy, where each hour's energy came from and went, and the swaps served.

Works on :func:`batterygym.core.microgrid.simulate` records (any policy's, or ``Plan.schedule``).
Matplotlib is imported inside the function and drawn on an Agg canvas, as for the other settings.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from batterygym.benchmarks._figures import bar_width, date_axis, finish, policy_grid

COLUMNS = ("res_used_kw", "storage_discharge_kw", "storage_charge_kw", "grid_kw", "unserved_kw", "load_kw",
           "station_kw", "curtailed_kw")


def _check(schedule: pd.DataFrame, name: str) -> None:
    missing = [c for c in COLUMNS if c not in schedule.columns]
    if missing or len(schedule) == 0:
        raise ValueError(f"{name} is not a microgrid record (missing {missing}); pass "
                         "batterygym.core.microgrid.simulate(...) or Plan.schedule")


def plot_microgrid(schedules: dict[str, pd.DataFrame], path: str | os.PathLike[str],
                   title: str = "Microgrid with a battery swapping station", max_days: int = 7) -> Path:
    """Save one column per policy: top, supply (renewables used, storage discharge, grid, unserved load)
    as stacked bars against the demand (load, + station, + storage charge); bottom, swaps requested and
    served per hour. Long episodes show their first ``max_days`` days. Returns the path."""
    path = Path(path)
    fig, axes = policy_grid(schedules, _check, "plot_microgrid", 4.5, 6.5)
    for c, (name, df) in enumerate(schedules.items()):
        df = df.iloc[: 24 * max_days]
        idx = df.index
        width = bar_width(idx)
        ax = axes[0, c]
        bottom = np.zeros(len(df))
        for key, color, label in (("res_used_kw", "tab:green", "renewables used"),
                                  ("storage_discharge_kw", "tab:purple", "storage discharge"),
                                  ("grid_kw", "tab:gray", "grid import"), ("unserved_kw", "tab:red", "unserved load")):
            v = df[key].to_numpy(dtype=float)
            ax.bar(idx, v, width=width, bottom=bottom, align="edge", color=color, alpha=0.75, label=label)
            bottom = bottom + v
        load = df["load_kw"].to_numpy(dtype=float)
        ax.step(idx, load, where="post", color="black", lw=1.2, label="residential load")
        ax.step(idx, load + df["station_kw"], where="post", color="tab:orange", lw=1.2, label="+ station charging")
        ax.step(idx, load + df["station_kw"] + df["storage_charge_kw"], where="post", color="tab:blue", lw=1.0,
                ls="--", label="+ storage charging")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        ax2 = axes[1, c]
        req = df[[k for k in df.columns if k.startswith("requests:")]].sum(axis=1)
        srv = df[[k for k in df.columns if k.startswith("served:")]].sum(axis=1)
        ax2.bar(idx, req, width=width, align="edge", color="tab:red", alpha=0.35, label="requested")
        ax2.bar(idx, srv, width=width, align="edge", color="tab:green", alpha=0.8, label="served")
        ax2.grid(alpha=0.3)
        date_axis(ax2)
    longest = max(len(df) for df in schedules.values())
    return finish(fig, axes, path, title, ("kW", "swaps per hour"), longest > 24 * max_days, max_days)


def plot_economics(results: dict[str, dict], runs: dict[str, object], path: str | os.PathLike[str]) -> Path:
    """Save the economics figure: left, each mode's cumulative cash flow by year (``results[mode]``:
    :func:`~batterygym.benchmarks.microgrid_year.appraise_year`); right, the packs' SoH over the run
    (``runs[mode]``: a :class:`~batterygym.benchmarks.microgrid_year.YearRun`), the station's mean and
    lowest slot and every storage place, with the first- and second-life thresholds. Returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not results:
        raise ValueError("plot_economics needs at least one mode, got none")
    path = Path(path)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(1, 2)
    for mode, r in results.items():
        cum = np.cumsum(r["cash_flows_eur"]) / 1e6
        ax.plot(np.arange(cum.size), cum, marker="o", ms=3, label=f"{mode} (payback {_years(r)})")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("cumulative cash flow (M EUR)")
    ax.set_title("cash flow")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    for i, (mode, run) in enumerate(runs.items()):
        days = np.arange(run.station_soh.shape[0])
        color = f"C{i}"
        ax2.plot(days, run.station_soh.mean(axis=1), color=color, lw=1.5, label=f"{mode}: station mean")
        ax2.plot(days, run.station_soh.min(axis=1), color=color, lw=0.8, ls=":", label=f"{mode}: station lowest")
        if run.storage_soh.shape[1] and i == 0:
            for k in range(run.storage_soh.shape[1]):
                ax2.plot(days, run.storage_soh[:, k], color="tab:purple", lw=0.8,
                         label="storage places" if k == 0 else None)
    for level in (0.8, 0.6):
        ax2.axhline(level, color="gray", lw=0.8, ls="--")
    ax2.set_xlabel("day")
    ax2.set_ylabel("state of health")
    ax2.set_title("packs' state of health")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    fig.suptitle("Battery swapping station: integrated with the microgrid and standalone")
    fig.savefig(path)
    return path


def _years(r: dict) -> str:
    p = r.get("simple_payback_years")
    return "never" if p is None else f"{p:.1f} y"
