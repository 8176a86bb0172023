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
