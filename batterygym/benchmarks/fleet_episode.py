"""The fleet setting's episodes for ``batterygym solve fleet``: generated or from a price CSV (and an assets CSV)."""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand

EXAMPLES = """\
  batterygym solve fleet --seed 3 --assets 8 --markets 6 --plot fleet.png
  batterygym solve fleet --csv prices.csv --directions up,down,down,up
  batterygym solve fleet --csv prices.csv --assets-csv assets.csv
"""

CSV_FORMAT = """\
A fleet price CSV has a timestamp column and one price column (EUR/MWh) per market, each market's
direction given by --directions or by its name ending in _up or _down.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fleet's options, in their own group."""
    fleet = parser.add_argument_group("fleet")
    fleet.add_argument("--assets", type=int, default=None, help="number of assets of a generated fleet (default: 5)")
    fleet.add_argument("--markets", type=int, default=None, help="number of markets, generated (default: 4)")
    fleet.add_argument("--directions", default=None, metavar="LIST",
                       help="market directions, e.g. up,down,down,up (for a CSV also name=up,name2=down)")
    fleet.add_argument("--layout-seed", type=int, default=None,
                       help="seed of the fleet's assets and prequalification (default: 0)")
    fleet.add_argument("--assets-csv", type=Path, default=None, metavar="FILE",
                       help="the fleet's assets instead of generated ones (with --csv): columns name, capacity_kwh, "
                            "power_kw, eta_charge, eta_discharge, soc_min, soc0, optionally prequalified_kw:<market>")


def make_env(args: argparse.Namespace) -> Any:
    """The fleet env the options describe: generated (``--seed``) or from ``--csv`` prices."""
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.fleet_generator import FleetConfig
    from batterygym.core.fleet_io import load_fleet_assets, load_fleet_csv
    from batterygym.envs.fleet import FleetEnv
    from batterygym.settings import SETTINGS

    fleet: dict[str, Any] = {}
    for opt, field in (("assets", "n_assets"), ("layout_seed", "layout_seed")):
        if getattr(args, opt) is not None:
            fleet[field] = getattr(args, opt)
    if args.csv is None:
        if args.assets_csv is not None:
            raise ValueError("--assets-csv needs --csv (the price CSV whose markets the assets trade in)")
        for opt, field in (("markets", "n_markets"), ("days", "n_days")):
            if getattr(args, opt) is not None:
                fleet[field] = getattr(args, opt)
        if args.directions is not None:
            fleet["directions"] = tuple(d.strip().lower() for d in args.directions.split(","))
            fleet.setdefault("n_markets", len(fleet["directions"]))
        cfg = FleetConfig.from_kwargs(**fleet)
        return gym.make(SETTINGS["fleet"].env_id, max_episode_steps=cfg.n_steps, **fleet)
    not_for_csv = [f"--{k}" for k in ("days", "markets") if getattr(args, k) is not None]
    if not_for_csv:
        raise ValueError(f"{', '.join(not_for_csv)} cannot be used with --csv: the CSV gives the episode's "
                         "length and markets")
    directions = args.directions
    if directions is not None and "=" in directions:
        directions = dict(item.split("=", 1) for item in directions.split(","))
    if args.assets_csv is not None:
        if fleet:
            given = ", ".join(f"--{k.replace('_', '-')}" for k in ("assets", "layout_seed")
                              if getattr(args, k) is not None)
            raise ValueError(f"{given} cannot be used with --assets-csv: the assets CSV gives the fleet")
        assets = load_fleet_assets(args.assets_csv)
        return FleetEnv(scenario=load_fleet_csv(args.csv, directions, assets=assets))
    return FleetEnv(scenario=load_fleet_csv(args.csv, directions, **fleet))


def describe(s: Any, args: argparse.Namespace) -> str:
    source = f"CSV {args.csv}" if args.csv is not None else f"seed {args.seed}"
    assets = ", ".join(f"{name} {b.p_discharge_kw / 1000:g} MW/{b.capacity_kwh / 1000:g} MWh "
                       f"(round trip {b.eta_charge * b.eta_discharge:.2f})"
                       for name, b in zip(s.asset_names, s.assets, strict=True))
    markets = ", ".join(f"{name} ({d}) {s.prices[:, m].min():.0f} to {s.prices[:, m].max():.0f}"
                        for m, (name, d) in enumerate(zip(s.market_names, s.directions, strict=True)))
    return (f"fleet episode ({source}): {s.n_steps} steps of {s.dt_h:g} h from {s.timestamps[0]:%a %Y-%m-%d %H:%M}\n"
            f"assets: {assets}\nmarkets (price range EUR/MWh): {markets}")


def scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_steps": s.n_steps, "dt_h": s.dt_h,
        "markets": [{"name": n, "direction": d} for n, d in zip(s.market_names, s.directions, strict=True)],
        "assets": [{"name": n, **asdict(b)} for n, b in zip(s.asset_names, s.assets, strict=True)],
        "prequalified_kw": s.prequalified_kw.tolist(),
        "terminal_value_eur_per_mwh": s.terminal_value_eur_per_mwh,
    }


def _plot(schedules: dict[str, Any], path: Any, title: str) -> Any:
    from batterygym.benchmarks.fleet_plots import plot_fleet

    return plot_fleet(schedules, path, title=title)


def adapter() -> EpisodeAdapter:
    """What ``solve fleet`` settles and reports (imports the fleet model)."""
    from batterygym.core.fleet import cost_breakdown, simulate

    columns = {"revenue_eur": "revenue EUR", "degradation_eur": "degradation EUR",
               "terminal_credit_eur": "terminal credit EUR", "profit_eur": "profit EUR",
               "discharged_mwh": "up MWh", "charged_mwh": "down MWh", "saving_eur": "gain vs idle EUR",
               "share_of_optimum": "share of optimum"}
    return EpisodeAdapter(make_env=make_env, describe=describe, schedule=simulate, breakdown=cost_breakdown,
                          power_key="allocation_kw", columns=columns,
                          note="profit = revenue (up markets pay, down markets charge) - degradation + terminal "
                               "credit",
                          scenario_json=scenario_json, plot=_plot)


COMMAND = EpisodeCommand(owner="fleet", add_arguments=add_arguments, adapter=adapter, default_days=1,
                         examples=EXAMPLES, csv_format=CSV_FORMAT)
