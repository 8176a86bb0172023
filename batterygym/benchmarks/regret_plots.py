"""The benchmark's regret figure: each env's policies against the optimum, in money and in share of its gain.

Matplotlib is imported inside the function and drawn on an Agg canvas without pyplot, so plotting
neither slows ``import batterygym`` nor changes the backend of a user's session.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd


def plot_regret(summary: pd.DataFrame, path: str | os.PathLike[str], title: str = "Regret against the optimum"
                ) -> Path:
    """Bar charts per env of each policy's mean regret (money) and captured share of the optimum's gain.

    ``summary`` is :func:`batterygym.benchmarks.regret.summarize`'s table (columns env_id, policy,
    mean_regret, regret_std, captured); bars are in the table's order, error bars one standard deviation.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    missing = [c for c in ("env_id", "policy", "mean_regret", "regret_std", "captured") if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks column(s) {missing}; pass batterygym.benchmarks.regret.summarize()")
    env_ids = list(dict.fromkeys(summary["env_id"]))
    if not env_ids:
        raise ValueError("plot_regret needs at least one row, got none")
    path = Path(path)
    fig = Figure(figsize=(6 + 1.2 * summary["policy"].nunique(), 3.2 * len(env_ids)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(env_ids), 2, squeeze=False)
    for row, env_id in enumerate(env_ids):
        df = summary[summary["env_id"] == env_id]
        x = np.arange(len(df))
        ax_r, ax_c = axes[row]
        ax_r.bar(x, df["mean_regret"], yerr=df["regret_std"].fillna(0.0), color="tab:red", alpha=0.8, capsize=3)
        ax_r.set_ylabel("mean regret (EUR / episode)")
        ax_c.bar(x, 100 * df["captured"].astype(float), color="tab:green", alpha=0.8)
        ax_c.axhline(100, color="0.3", lw=0.8, ls="--")
        ax_c.set_ylabel("gain over idle captured (%)")
        for ax in (ax_r, ax_c):
            ax.set_xticks(x, df["policy"], rotation=30, ha="right")
            ax.set_title(env_id, fontsize=10)
            ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
