"""The V2G setting's episodes for the commands: ``batterygym solve v2g`` and the MILP speed cases.

A generated episode, or hourly prices from a CSV (``--timezone`` reads its timestamps) with the EVs'
days drawn from ``--seed``.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand, env_scenarios, refuse

EXAMPLES = """\
  batterygym solve v2g --days 92 --plot v2g.png     # the source's quarter, 100 EVs
  batterygym solve v2g --csv prices.csv --seed 3 --evs 20   # hourly energy/reg-up/reg-down prices, whole days
"""

CSV_FORMAT = """\
A V2G price CSV is hourly, whole days from 00:00: timestamp, energy_eur_per_mwh, reg_up_eur_per_mwh,
reg_down_eur_per_mwh (EUR/MWh; regulation prices >= 0); the EVs' days are drawn from --seed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The V2G options, in their own group."""
    v2g = parser.add_argument_group("v2g")
    v2g.add_argument("--evs", type=int, default=None, help="number of EVs of a generated V2G episode (default: 100)")


def make_env(args: argparse.Namespace) -> Any:
    """The V2G env the options describe: generated, or the prices of ``--csv`` with generated EVs."""
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.v2g_generator import V2GConfig, load_v2g_prices, v2g_scenario_from_prices
    from batterygym.envs.v2g import V2GEnv
    from batterygym.settings import SETTINGS

    if args.csv is None:  # --timezone reads a CSV's timestamps
        refuse(args, ("timezone",), "industrial site", "v2g")
    v2g: dict[str, Any] = {}
    if args.evs is not None:
        v2g["n_evs"] = args.evs
    if args.csv is not None:
        if args.days is not None:
            raise ValueError("--days cannot be used with --csv: the CSV's whole days give the episode's length")
        prices = load_v2g_prices(args.csv, args.timezone)
        cfg = V2GConfig.from_kwargs(**v2g, n_days=prices.n_days)
        return V2GEnv(scenario=v2g_scenario_from_prices(prices, np.random.default_rng(args.seed), cfg))
    if args.days is not None:
        v2g["n_days"] = args.days
    cfg = V2GConfig.from_kwargs(**v2g)
    return gym.make(SETTINGS["v2g"].env_id, max_episode_steps=cfg.n_steps, **v2g)


def describe(s: Any, args: argparse.Namespace) -> str:
    b = s.ev
    source = f"prices from CSV {args.csv}, EVs from seed {args.seed}" if args.csv is not None else f"seed {args.seed}"
    return (f"V2G episode ({source}): {s.n_days} day(s) hourly from {s.timestamps[0]:%a %Y-%m-%d}, "
            f"{s.n_evs} EVs ({b.capacity_kwh:g} kWh, {b.p_charge_kw:g} kW chargers, efficiency {b.eta_charge:g}, "
            f"wear {b.degradation_cost_per_kwh:.4f} EUR/kWh)\n"
            f"prices (mean EUR/MWh): energy {s.energy_price.mean():.2f}, reg-up {s.reg_up_price.mean():.2f} "
            f"(zero in {100 * (s.reg_up_price == 0).mean():.1f} % of hours), reg-down {s.reg_down_price.mean():.2f}")


def scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_days": s.n_days, "n_evs": s.n_evs, "ev": asdict(s.ev),
        "expected_up": s.expected_up, "expected_down": s.expected_down,
        "driver_fee_eur_per_kwh": s.driver_fee_eur_per_kwh,
        "mean_price_eur_per_mwh": {"energy": float(s.energy_price.mean()), "reg_up": float(s.reg_up_price.mean()),
                                   "reg_down": float(s.reg_down_price.mean())},
    }


def _plot(schedules: dict[str, Any], path: Any, title: str) -> Any:
    from batterygym.benchmarks.v2g_plots import plot_v2g

    return plot_v2g(schedules, path, title=title)


def adapter() -> EpisodeAdapter:
    """What ``solve v2g`` settles and reports (imports the V2G model)."""
    from batterygym.core.v2g import cost_breakdown, shares_of, simulate

    def settle(s: Any, applied: np.ndarray) -> Any:
        """The applied (power, reg-up, reg-down) per step and EV, requested again and settled."""
        actions = shares_of(s, applied[..., 0], applied[..., 1], applied[..., 2])
        return simulate(s, actions)

    columns = {"reg_up_eur": "reg-up EUR", "reg_down_eur": "reg-down EUR", "energy_cost_eur": "energy EUR",
               "driver_fee_eur": "driver fees EUR", "degradation_eur": "degradation EUR", "profit_eur": "profit EUR",
               "charged_mwh": "charged MWh", "discharged_mwh": "discharged MWh", "saving_eur": "gain vs idle EUR",
               "share_of_optimum": "share of optimum"}
    return EpisodeAdapter(make_env=make_env, describe=describe, schedule=settle, breakdown=cost_breakdown,
                          power_key=("power_kw", "reg_up_kw", "reg_down_kw"), columns=columns,
                          note="profit = reg-up + reg-down capacity payments - energy bought + driver fees - "
                               "degradation; every departure requirement is met by every policy",
                          scenario_json=scenario_json, plot=_plot)


COMMAND = EpisodeCommand(owner="v2g", add_arguments=add_arguments, adapter=adapter, default_days=1,
                         examples=EXAMPLES, csv_format=CSV_FORMAT, borrows=("timezone",))


def speed_scenarios(n_days: int, seeds: Sequence[int]) -> list[Any]:
    """V2G episodes of 100 EVs: the env's default day for ``n_days == 1``, else the source's quarter from 1 August."""
    from batterygym.core.v2g_generator import generate_quarter

    if n_days == 1:
        return env_scenarios("v2g", seeds)
    return [generate_quarter(seed=s, n_days=n_days) for s in seeds]
