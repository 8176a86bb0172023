"""Plots of the techno-economic studies: NPV against battery size with the chosen battery's dispatch,
the pack's state of health under each throughput cap, and a parameter sweep with its break-even.

Matplotlib is imported inside the functions, on an Agg canvas (no pyplot).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from batterygym.benchmarks._figures import date_axis

NPV_CURVE_FACTORS = (0.25, 0.5, 0.75, 1.25, 1.5, 2.0)  # sizes re-solved around the chosen one


def _figure(width: float, height: float, rows: int = 1, cols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, cols, squeeze=False)


def npv_curve(s: Any, finance: Any, result: Any, progress: bool = False, ray: str | None = None,
              ray_cpus: int | None = None) -> list[tuple[float, float, float]]:
    """``(capacity_kwh, power_kw, npv_eur)`` of fixed sizes around the chosen one (its power-to-energy
    ratio kept), each re-solved by the same sizing model with both sizes fixed; the chosen size included.
    The sizes are the pieces of one :func:`~batterygym.scale.tasks.map_tasks` (Ray tasks under ``ray``)."""
    from batterygym.benchmarks.economics import size
    from batterygym.scale.tasks import map_tasks

    cap = result.capacity_kwh or result.candidate_capacity_kwh
    pw = result.power_kw or result.candidate_power_kw
    if cap <= 0 or pw <= 0:
        return []
    if not result.capacity_kwh:
        result = size(s, finance, fixed_capacity_kwh=cap, fixed_power_kw=pw, always_build=True)
    sizes = [(cap * f, pw * f) for f in NPV_CURVE_FACTORS]
    npvs = map_tasks(_fixed_size_npv, [(s, finance, c, p) for c, p in sizes], keys=[f"{c:,.0f} kWh" for c, _ in sizes],
                     ray=ray, ray_cpus=ray_cpus, desc="NPV curve", unit="solve", progress=progress)
    return sorted([(cap, pw, result.npv_eur), *((c, p, v) for (c, p), v in zip(sizes, npvs, strict=True))])


def _fixed_size_npv(piece: tuple[Any, Any, float, float]) -> float:
    """The NPV of one fixed size ``(scenario, finance, capacity_kwh, power_kw)``, by the sizing model."""
    from batterygym.benchmarks.economics import size

    s, finance, cap, pw = piece
    return size(s, finance, fixed_capacity_kwh=cap, fixed_power_kw=pw, always_build=True).npv_eur


def plot_sizing(s: Any, finance: Any, result: Any, path: str | os.PathLike[str], bounds: dict[str, Any],
                progress: bool = False, ray: str | None = None, ray_cpus: int | None = None) -> Any:
    """NPV against size (left) and the chosen battery's dispatch in the week of the year's peak import (right)."""
    fig, axes = _figure(13, 4.5, 1, 2)
    ax = axes[0, 0]
    curve = npv_curve(s, finance, result, progress, ray, ray_cpus)
    if curve:
        x = [c for c, _, _ in curve]
        y = [v / 1000 for _, _, v in curve]
        ax.plot(x, y, "o-", color="tab:blue", label="fixed sizes (power/energy ratio of the choice)")
        if result.capacity_kwh:
            ax.plot([result.capacity_kwh], [result.npv_eur / 1000], "*", ms=14, color="tab:red",
                    label=f"chosen {result.capacity_kwh:,.0f} kWh / {result.power_kw:,.0f} kW")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("nominal capacity (kWh)")
    ax.set_ylabel(f"NPV over {finance.horizon_years:g} years (kEUR)")
    ax.set_title("NPV against battery size")
    ax.legend(fontsize=8, loc="lower center")
    ax = axes[0, 1]
    df = result.schedule
    if df is not None:
        t = int(np.argmax(df["import_kw"].to_numpy()))
        lo = max(0, t - 84)
        week = df.iloc[lo:lo + 168]
        ax.plot(week.index, week["load_kw"] - week["pv_kw"], color="grey", lw=1, label="load - PV")
        ax.plot(week.index, week["import_kw"], color="tab:blue", lw=1.2, label="import with battery")
        ax.plot(week.index, week["battery_kw"], color="tab:green", lw=1, label="battery (+ charge)")
        ax.set_ylabel("kW")
        date_axis(ax)
        ax2 = ax.twinx()
        ax2.plot(week.index, week["soc"], color="tab:orange", lw=1, ls="--", label="SoC")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("SoC")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title("chosen battery: the week of the year's peak import")
    else:
        ax.text(0.5, 0.5, "no battery pays", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle("Second-life battery sizing")
    fig.savefig(path)
    return path


def plot_lifetime(rows: list[Any], s: Any, path: str | os.PathLike[str]) -> Any:
    """State of health against years of operation under each throughput cap, to end of life."""
    fig, axes = _figure(7, 4.5)
    ax = axes[0, 0]
    b = s.battery
    for r in rows:
        label = "no cap" if r.cap is None else f"cap {r.cap:g} cycles/day"
        if r.years_to_end_of_life is None:
            ax.plot([0, 30], [b.soh0, b.soh0], label=f"{label}: no ageing")
            continue
        ext = "" if r.life_extension is None else f", {100 * r.life_extension:+.0f} %"
        ax.plot([0, r.years_to_end_of_life], [b.soh0, b.soh_end_of_life],
                label=f"{label}: {r.years_to_end_of_life:.1f} y{ext}")
    ax.axhline(b.soh_end_of_life, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("years of operation")
    ax.set_ylabel("state of health")
    ax.set_title("Second-life pack life under throughput caps")
    ax.legend(fontsize=8)
    fig.savefig(path)
    return path


def plot_sweep(res: Any, path: str | os.PathLike[str]) -> Any:
    """NPV and annual saving against the swept parameter, with the break-even marked."""
    fig, axes = _figure(7, 4.5)
    ax = axes[0, 0]
    pts = [p for p in res.points if p.value is not None]
    pts.sort(key=lambda p: p.value)
    x = [p.value for p in pts]
    ax.plot(x, [p.npv_eur / 1000 for p in pts], "o-", label="NPV")
    ax.plot(x, [p.annual_saving_eur / 1000 for p in pts], "s--", label="annual saving")
    ax.axhline(0, color="grey", lw=0.8)
    if res.break_even is not None:
        ax.axvline(res.break_even, color="tab:red", lw=1, ls=":", label=f"break-even {res.break_even:.4g}")
    ax.set_xlabel(res.param)
    ax.set_ylabel("kEUR")
    ax.set_title(f"Sweep of {res.param}")
    ax.legend(fontsize=8)
    fig.savefig(path)
    return path
