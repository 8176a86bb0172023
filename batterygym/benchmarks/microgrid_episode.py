"""The microgrid setting's episodes for the commands: ``batterygym solve microgrid`` and the MILP speed cases.

Its episodes are generated (``--seed``, ``--days``, ``--off-grid``); it reads no CSV.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand, env_scenarios

EXAMPLES = """\
  batterygym solve microgrid --seed 3 --off-grid --plot microgrid.png
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The microgrid's options, in their own group."""
    mg = parser.add_argument_group("microgrid")
    mg.add_argument("--off-grid", action="store_true",
                    help="no grid: a deficit is unserved residential load, priced at the value of lost load")


def make_env(args: argparse.Namespace) -> Any:
    """The microgrid env of ``--days`` (and ``--off-grid``), for ``reset(seed=args.seed)``."""
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.microgrid_generator import MicrogridConfig
    from batterygym.settings import SETTINGS

    if args.csv is not None:
        raise ValueError("--csv is not available for microgrid: its episodes are generated (--seed, --days, "
                         "--off-grid)")
    mg: dict[str, Any] = {}
    if args.days is not None:
        mg["n_days"] = args.days
    if args.off_grid:
        mg["off_grid"] = True
    cfg = MicrogridConfig.from_kwargs(**mg)
    return gym.make(SETTINGS["microgrid"].env_id, max_episode_steps=24 * cfg.n_days, **mg)


def describe(s: Any, args: argparse.Namespace) -> str:
    packs = ", ".join(f"{c} {q:g} kWh x {n}" for c, q, n in zip(s.categories, s.pack_kwh, s.n_packs, strict=True))
    soh = ", ".join(f"{b.soh0:.2f}" for b in s.storage)
    grid = "off-grid" if s.off_grid else f"grid-connected (import limit {s.import_limit_kw:,.0f} kW)"
    return (f"microgrid episode (seed {args.seed}): {s.n_steps} hours from {s.timestamps[0]:%a %Y-%m-%d}, {grid}\n"
            f"PV {s.pv_kwp:g} kWp ({s.pv_kw.sum() / 1000:.2f} MWh), wind {s.wind_rated_kw:g} kW "
            f"({s.wind_kw.sum() / 1000:.2f} MWh), load {s.load_kw.sum() / 1000:.2f} MWh, "
            f"{s.n_requests} swap requests\nstation: {packs}; storage: {s.n_storage} second-life packs at SoH {soh}")


def scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_steps": s.n_steps, "off_grid": s.off_grid,
        "import_limit_kw": s.import_limit_kw,
        "station": [{"category": c, "pack_kwh": q, "packs": n}
                    for c, q, n in zip(s.categories, s.pack_kwh, s.n_packs, strict=True)],
        "storage": [asdict(b) for b in s.storage], "swap_requests": s.n_requests,
        "energy_mwh": {"pv": float(s.pv_kw.sum()) / 1000, "wind": float(s.wind_kw.sum()) / 1000,
                       "load": float(s.load_kw.sum()) / 1000},
    }


def applied_kw(info: dict[str, Any]) -> np.ndarray:
    """The step's applied set-points: every slot's charging power, then every storage pack's signed power."""
    return np.concatenate([np.asarray(info["station_kw"], dtype=np.float64),
                           np.asarray(info["storage_kw"], dtype=np.float64)])


def _plot(schedules: dict[str, Any], path: Any, title: str) -> Any:
    from batterygym.benchmarks.microgrid_plots import plot_microgrid

    return plot_microgrid(schedules, path, title=title)


def adapter() -> EpisodeAdapter:
    """What ``solve microgrid`` settles and reports (imports the microgrid model)."""
    from batterygym.core.battery import shares_of_powers
    from batterygym.core.microgrid import cost_breakdown, simulate

    def settle(s: Any, power: np.ndarray) -> Any:
        """The applied slot charges and storage powers, requested again as shares and settled."""
        station, storage = power[:, :s.n_slots], power[:, s.n_slots:]
        shares = np.zeros_like(power)
        slot_kw = np.asarray(s.slot_max_kw)[None, :]
        shares[:, :s.n_slots] = shares_of_powers(station, slot_kw, slot_kw)
        for k, b in enumerate(s.storage):
            shares[:, s.n_slots + k] = shares_of_powers(storage[:, k], b.p_charge_kw, b.p_discharge_kw)
        return simulate(s, np.clip(shares, -1.0, 1.0))

    columns = {"swap_revenue_eur": "swaps EUR", "lost_penalty_eur": "lost swaps EUR",
               "resident_revenue_eur": "residents EUR", "grid_cost_eur": "grid EUR",
               "unserved_cost_eur": "unserved EUR", "pack_wear_eur": "pack wear EUR",
               "fast_charge_eur": "fast charge EUR", "storage_wear_eur": "storage wear EUR",
               "terminal_eur": "terminal EUR", "profit_eur": "profit EUR", "swaps_served_share": "swaps served",
               "renewable_share": "renewable share", "storage_share": "storage share", "grid_mwh": "grid MWh",
               "saving_eur": "gain vs idle EUR", "share_of_optimum": "share of optimum"}
    return EpisodeAdapter(make_env=make_env, describe=describe, schedule=settle, breakdown=cost_breakdown,
                          power_key=applied_kw, columns=columns,
                          note="profit = swaps - lost swaps + residents - grid - unserved - wear - fast charging + "
                               "terminal; shares: swaps served / requested, renewables used / energy delivered, "
                               "storage discharge / energy to load and station",
                          scenario_json=scenario_json, plot=_plot)


COMMAND = EpisodeCommand(owner="microgrid", add_arguments=add_arguments, adapter=adapter, default_days=1,
                         examples=EXAMPLES)


def speed_scenarios(n_days: int, seeds: Sequence[int]) -> list[Any]:
    """MicrogridBSS episodes of ``n_days`` as the env draws them (``n_days == 1``: its default day)."""
    return env_scenarios("microgrid", seeds, n_days=n_days)


HEAVY_SWAPS_PER_DAY = 72.0  # twice the default demand


def heavy_scenarios(n_days: int, seeds: Sequence[int]) -> list[Any]:
    """MicrogridBSS episodes of ``n_days`` with twice the default swap demand (``swaps_per_day=72``)."""
    return env_scenarios("microgrid", seeds, n_days=n_days, swaps_per_day=HEAVY_SWAPS_PER_DAY)
