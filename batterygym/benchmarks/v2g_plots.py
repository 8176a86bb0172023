"""The V2G figure: per policy, the aggregate charging power and the regulation capacity offered, over prices.

Works on :func:`batterygym.core.v2g.simulate` records (any policy's, or ``Plan.schedule``). Matplotlib
is imported inside the function and drawn on an Agg canvas, as for the other settings' plots.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from batterygym.benchmarks._figures import bar_width, date_axis, finish, policy_grid

COLUMNS = ("power_kw", "reg_up_kw", "reg_down_kw", "plugged", "energy_price", "reg_up_price")


def _check(schedule: pd.DataFrame, name: str) -> None:
    missing = [c for c in COLUMNS if c not in schedule.columns]
    if missing or len(schedule) == 0:
        raise ValueError(f"{name} is not a V2G record (missing {missing}); pass batterygym.core.v2g.simulate(...) "
                         "or Plan.schedule")


def plot_v2g(schedules: dict[str, pd.DataFrame], path: str | os.PathLike[str], title: str = "V2G aggregator",
             max_days: int = 7) -> Path:
    """Save one column per policy: top, the fleet's net power and the capacity offered (MW); bottom, the
    prices (EUR/MWh). Long episodes show their first ``max_days`` days. Returns the path."""
    path = Path(path)
    fig, axes = policy_grid(schedules, _check, "plot_v2g", 4.5, 6.5)
    for c, (name, df) in enumerate(schedules.items()):
        df = df.iloc[: 24 * max_days]
        idx = df.index
        width = bar_width(idx)
        ax = axes[0, c]
        ax.bar(idx, df["reg_up_kw"] / 1000, width=width, align="edge", color="tab:green", alpha=0.6,
               label="reg-up offered")
        ax.bar(idx, -df["reg_down_kw"] / 1000, width=width, align="edge", color="tab:purple", alpha=0.6,
               label="reg-down offered (< 0)")
        ax.step(idx, df["power_kw"] / 1000, where="post", color="black", lw=1.4, label="net power (charging > 0)")
        ax.axhline(0.0, color="black", lw=0.5)
        ax.set_title(f"{name}", fontsize=10)
        ax.grid(alpha=0.3)
        ax2 = axes[1, c]
        ax2.step(idx, df["energy_price"], where="post", color="tab:blue", label="energy")
        ax2.step(idx, df["reg_up_price"], where="post", color="tab:green", label="reg-up capacity")
        ax2.step(idx, df["reg_down_price"], where="post", color="tab:purple", label="reg-down capacity")
        ax2.grid(alpha=0.3)
        date_axis(ax2)
    longest = max(len(df) for df in schedules.values())
    return finish(fig, axes, path, title, ("MW", "EUR/MWh"), longest > 24 * max_days, max_days)
