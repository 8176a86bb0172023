"""``batterygym solve``: one episode's cost breakdown for idle, the heuristics and the exact optimum.

The episode comes from the env (a seed) or from a site's CSV. Each heuristic plays it in the env,
and its dispatch is settled again by the setting's ``simulate``, which must pay exactly what the
env paid (the one-model rule, checked every run); the optimum's plan is replayed in the env the
same way. The table, the MILP's status and timings are printed; ``--json`` and ``--plot`` save them.
"""
from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batterygym.benchmarks.site_options import (
    BATTERY_NUMBERS,
    add_site_arguments,
    check_output_paths,
    describe_industrial,
    industrial_env,
    industrial_scenario_json,
)

REL_TOL_ROLLOUT = 1e-6  # simulate() against the env's own return
REL_TOL_PLAN = 1e-9  # the plan's objective against its replay (exact to rounding)
SECONDS_PER_DAY = 60.0  # the MILP's default time limit per day of the episode


@dataclass(frozen=True)
class Setting:
    """What ``solve`` needs of a setting: its episode, its settlement and its breakdown."""

    make_env: Callable[[argparse.Namespace], Any]  # args -> env, ready for reset(seed=args.seed)
    describe: Callable[[Any, argparse.Namespace], str]  # (scenario, args) -> one line about the episode
    schedule: Callable[[Any, np.ndarray], pd.DataFrame]  # (scenario, power per step) -> settled record
    breakdown: Callable[[pd.DataFrame], dict[str, float]]  # record -> cost terms, total, peak
    # the set-points the env applied: an info key, keys stacked on a last axis, or a function of the info
    power_key: str | tuple[str, ...] | Callable[[dict[str, Any]], np.ndarray] = "battery_kw"
    # Optional, for settings whose table, JSON and plot differ from the industrial ones (None: industrial's)
    columns: dict[str, str] | None = None  # breakdown key -> printed header, in order
    note: str | None = None  # the line printed under the table
    scenario_json: Callable[[Any], dict[str, Any]] | None = None  # scenario -> its JSON block
    plot: Callable[[dict[str, pd.DataFrame], Path, str], Any] | None = None  # (schedules, path, title) -> file


def _refuse(args: argparse.Namespace, options: tuple[str, ...], owner: str, setting: str) -> None:
    """A one-line error naming the options of setting ``owner`` given to ``setting``."""
    given = [f"--{k.replace('_', '-')}" for k in options if getattr(args, k, None) not in (None, False)]
    if given:
        raise ValueError(f"{', '.join(given)}: {owner} option(s), not for the {setting} setting")


# ---------------------------------------------------------------------------------------- industrial
def _industrial_env(args: argparse.Namespace) -> Any:
    _refuse(args, FLEET_OPTIONS, "fleet", "industrial")
    _refuse(args, V2G_OPTIONS, "v2g", "industrial")
    _refuse(args, MICROGRID_OPTIONS, "microgrid", "industrial")
    return industrial_env(args)


def _industrial_setting() -> Setting:
    from batterygym.core.industrial import cost_breakdown, simulate

    return Setting(make_env=_industrial_env, describe=describe_industrial, schedule=simulate,
                   breakdown=cost_breakdown, scenario_json=industrial_scenario_json)


# ---------------------------------------------------------------------------------------- fleet
FLEET_OPTIONS = ("assets", "markets", "directions", "layout_seed", "assets_csv")
V2G_OPTIONS = ("evs",)
MICROGRID_OPTIONS = ("off_grid",)
SITE_OPTIONS = ("pv_kwp", "capacity_kwh", "power_kw", "connection_kw", "max_cycles_per_day", "billing",
                "demand_charge_eur_per_kw_month", "timezone") + BATTERY_NUMBERS


def _fleet_env(args: argparse.Namespace) -> Any:
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.fleet_generator import FleetConfig
    from batterygym.core.fleet_io import load_fleet_assets, load_fleet_csv
    from batterygym.envs.fleet import FleetEnv

    site_only = [f"--{k.replace('_', '-')}" for k in SITE_OPTIONS if getattr(args, k) is not None]
    site_only += ["--no-export"] if args.no_export else []
    if site_only:
        raise ValueError(f"{', '.join(site_only)}: industrial site option(s), not for the fleet setting")
    _refuse(args, V2G_OPTIONS, "v2g", "fleet")
    _refuse(args, MICROGRID_OPTIONS, "microgrid", "fleet")
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
        return gym.make("batterygym/Fleet-v0", max_episode_steps=cfg.n_steps, **fleet)
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


def _fleet_describe(s: Any, args: argparse.Namespace) -> str:
    source = f"CSV {args.csv}" if args.csv is not None else f"seed {args.seed}"
    assets = ", ".join(f"{name} {b.p_discharge_kw / 1000:g} MW/{b.capacity_kwh / 1000:g} MWh "
                       f"(round trip {b.eta_charge * b.eta_discharge:.2f})"
                       for name, b in zip(s.asset_names, s.assets, strict=True))
    markets = ", ".join(f"{name} ({d}) {s.prices[:, m].min():.0f} to {s.prices[:, m].max():.0f}"
                        for m, (name, d) in enumerate(zip(s.market_names, s.directions, strict=True)))
    return (f"fleet episode ({source}): {s.n_steps} steps of {s.dt_h:g} h from {s.timestamps[0]:%a %Y-%m-%d %H:%M}\n"
            f"assets: {assets}\nmarkets (price range EUR/MWh): {markets}")


def _fleet_scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_steps": s.n_steps, "dt_h": s.dt_h,
        "markets": [{"name": n, "direction": d} for n, d in zip(s.market_names, s.directions, strict=True)],
        "assets": [{"name": n, **asdict(b)} for n, b in zip(s.asset_names, s.assets, strict=True)],
        "prequalified_kw": s.prequalified_kw.tolist(),
        "terminal_value_eur_per_mwh": s.terminal_value_eur_per_mwh,
    }


def _fleet_setting() -> Setting:
    from batterygym.benchmarks.fleet_plots import plot_fleet
    from batterygym.core.fleet import cost_breakdown, simulate

    columns = {"revenue_eur": "revenue EUR", "degradation_eur": "degradation EUR",
               "terminal_credit_eur": "terminal credit EUR", "profit_eur": "profit EUR",
               "discharged_mwh": "up MWh", "charged_mwh": "down MWh", "saving_eur": "gain vs idle EUR",
               "share_of_optimum": "share of optimum"}
    return Setting(make_env=_fleet_env, describe=_fleet_describe, schedule=simulate, breakdown=cost_breakdown,
                   power_key="allocation_kw", columns=columns,
                   note="profit = revenue (up markets pay, down markets charge) - degradation + terminal credit",
                   scenario_json=_fleet_scenario_json,
                   plot=lambda schedules, path, title: plot_fleet(schedules, path, title=title))


# ---------------------------------------------------------------------------------------- v2g


def _v2g_env(args: argparse.Namespace) -> Any:
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.v2g_generator import V2GConfig, load_v2g_prices, v2g_scenario_from_prices
    from batterygym.envs.v2g import V2GEnv

    site = tuple(k for k in SITE_OPTIONS if k != "timezone" or args.csv is None)  # --timezone reads a CSV
    _refuse(args, site + ("no_export",), "industrial site", "v2g")
    _refuse(args, FLEET_OPTIONS, "fleet", "v2g")
    _refuse(args, MICROGRID_OPTIONS, "microgrid", "v2g")
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
    return gym.make("batterygym/V2G-v0", max_episode_steps=cfg.n_steps, **v2g)


def _v2g_describe(s: Any, args: argparse.Namespace) -> str:
    b = s.ev
    source = f"prices from CSV {args.csv}, EVs from seed {args.seed}" if args.csv is not None else f"seed {args.seed}"
    return (f"V2G episode ({source}): {s.n_days} day(s) hourly from {s.timestamps[0]:%a %Y-%m-%d}, "
            f"{s.n_evs} EVs ({b.capacity_kwh:g} kWh, {b.p_charge_kw:g} kW chargers, efficiency {b.eta_charge:g}, "
            f"wear {b.degradation_cost_per_kwh:.4f} EUR/kWh)\n"
            f"prices (mean EUR/MWh): energy {s.energy_price.mean():.2f}, reg-up {s.reg_up_price.mean():.2f} "
            f"(zero in {100 * (s.reg_up_price == 0).mean():.1f} % of hours), reg-down {s.reg_down_price.mean():.2f}")


def _v2g_scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_days": s.n_days, "n_evs": s.n_evs, "ev": asdict(s.ev),
        "expected_up": s.expected_up, "expected_down": s.expected_down,
        "driver_fee_eur_per_kwh": s.driver_fee_eur_per_kwh,
        "mean_price_eur_per_mwh": {"energy": float(s.energy_price.mean()), "reg_up": float(s.reg_up_price.mean()),
                                   "reg_down": float(s.reg_down_price.mean())},
    }


def _v2g_setting() -> Setting:
    from batterygym.benchmarks.v2g_plots import plot_v2g
    from batterygym.core.v2g import cost_breakdown, shares_of, simulate

    def settle(s: Any, applied: np.ndarray) -> pd.DataFrame:
        """The applied (power, reg-up, reg-down) per step and EV, requested again and settled."""
        actions = shares_of(s, applied[..., 0], applied[..., 1], applied[..., 2])
        return simulate(s, actions)

    columns = {"reg_up_eur": "reg-up EUR", "reg_down_eur": "reg-down EUR", "energy_cost_eur": "energy EUR",
               "driver_fee_eur": "driver fees EUR", "degradation_eur": "degradation EUR", "profit_eur": "profit EUR",
               "charged_mwh": "charged MWh", "discharged_mwh": "discharged MWh", "saving_eur": "gain vs idle EUR",
               "share_of_optimum": "share of optimum"}
    return Setting(make_env=_v2g_env, describe=_v2g_describe, schedule=settle, breakdown=cost_breakdown,
                   power_key=("power_kw", "reg_up_kw", "reg_down_kw"), columns=columns,
                   note="profit = reg-up + reg-down capacity payments - energy bought + driver fees - degradation; "
                        "every departure requirement is met by every policy",
                   scenario_json=_v2g_scenario_json,
                   plot=lambda schedules, path, title: plot_v2g(schedules, path, title=title))


# ---------------------------------------------------------------------------------------- microgrid
def _microgrid_env(args: argparse.Namespace) -> Any:
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.microgrid_generator import MicrogridConfig

    _refuse(args, SITE_OPTIONS + ("no_export",), "industrial site", "microgrid")
    _refuse(args, FLEET_OPTIONS, "fleet", "microgrid")
    _refuse(args, V2G_OPTIONS, "v2g", "microgrid")
    if args.csv is not None:
        raise ValueError("--csv is not available for microgrid: its episodes are generated (--seed, --days, "
                         "--off-grid)")
    mg: dict[str, Any] = {}
    if args.days is not None:
        mg["n_days"] = args.days
    if args.off_grid:
        mg["off_grid"] = True
    cfg = MicrogridConfig.from_kwargs(**mg)
    return gym.make("batterygym/MicrogridBSS-v0", max_episode_steps=24 * cfg.n_days, **mg)


def _microgrid_describe(s: Any, args: argparse.Namespace) -> str:
    packs = ", ".join(f"{c} {q:g} kWh x {n}" for c, q, n in zip(s.categories, s.pack_kwh, s.n_packs, strict=True))
    soh = ", ".join(f"{b.soh0:.2f}" for b in s.storage)
    grid = "off-grid" if s.off_grid else f"grid-connected (import limit {s.import_limit_kw:,.0f} kW)"
    return (f"microgrid episode (seed {args.seed}): {s.n_steps} hours from {s.timestamps[0]:%a %Y-%m-%d}, {grid}\n"
            f"PV {s.pv_kwp:g} kWp ({s.pv_kw.sum() / 1000:.2f} MWh), wind {s.wind_rated_kw:g} kW "
            f"({s.wind_kw.sum() / 1000:.2f} MWh), load {s.load_kw.sum() / 1000:.2f} MWh, "
            f"{s.n_requests} swap requests\nstation: {packs}; storage: {s.n_storage} second-life packs at SoH {soh}")


def _microgrid_scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_steps": s.n_steps, "off_grid": s.off_grid,
        "import_limit_kw": s.import_limit_kw,
        "station": [{"category": c, "pack_kwh": q, "packs": n}
                    for c, q, n in zip(s.categories, s.pack_kwh, s.n_packs, strict=True)],
        "storage": [asdict(b) for b in s.storage], "swap_requests": s.n_requests,
        "energy_mwh": {"pv": float(s.pv_kw.sum()) / 1000, "wind": float(s.wind_kw.sum()) / 1000,
                       "load": float(s.load_kw.sum()) / 1000},
    }


def _microgrid_setting() -> Setting:
    from batterygym.core.microgrid import cost_breakdown, simulate

    def applied(info: dict[str, Any]) -> np.ndarray:
        return np.concatenate([np.asarray(info["station_kw"], dtype=np.float64),
                               np.asarray(info["storage_kw"], dtype=np.float64)])

    def settle(s: Any, power: np.ndarray) -> pd.DataFrame:
        """The applied slot charges and storage powers, requested again as shares and settled."""
        station, storage = power[:, :s.n_slots], power[:, s.n_slots:]
        shares = np.zeros_like(power)
        shares[:, :s.n_slots] = station / np.asarray(s.slot_max_kw)[None, :]
        for k, b in enumerate(s.storage):
            p = storage[:, k]
            shares[:, s.n_slots + k] = np.where(p >= 0, p / max(b.p_charge_kw, 1e-300),
                                                p / max(b.p_discharge_kw, 1e-300))
        return simulate(s, np.clip(shares, -1.0, 1.0))

    columns = {"swap_revenue_eur": "swaps EUR", "lost_penalty_eur": "lost swaps EUR",
               "resident_revenue_eur": "residents EUR", "grid_cost_eur": "grid EUR",
               "unserved_cost_eur": "unserved EUR", "pack_wear_eur": "pack wear EUR",
               "fast_charge_eur": "fast charge EUR", "storage_wear_eur": "storage wear EUR",
               "terminal_eur": "terminal EUR", "profit_eur": "profit EUR", "swaps_served_share": "swaps served",
               "renewable_share": "renewable share", "storage_share": "storage share", "grid_mwh": "grid MWh",
               "saving_eur": "gain vs idle EUR", "share_of_optimum": "share of optimum"}
    return Setting(make_env=_microgrid_env, describe=_microgrid_describe, schedule=settle, breakdown=cost_breakdown,
                   power_key=applied, columns=columns,
                   note="profit = swaps - lost swaps + residents - grid - unserved - wear - fast charging + terminal; "
                        "shares: swaps served / requested, renewables used / energy delivered, storage discharge / "
                        "energy to load and station",
                   scenario_json=_microgrid_scenario_json,
                   plot=lambda schedules, path, title: _microgrid_plot(schedules, path, title))


def _microgrid_plot(schedules: dict[str, pd.DataFrame], path: Path, title: str) -> Any:
    from batterygym.benchmarks.microgrid_plots import plot_microgrid

    return plot_microgrid(schedules, path, title=title)


# setting name -> factory of its Setting (imported lazily: the CLI builds its parser from this module)
SETTINGS: dict[str, Callable[[], Setting]] = {
    "industrial": _industrial_setting,
    "fleet": _fleet_setting,
    "v2g": _v2g_setting,
    "microgrid": _microgrid_setting,
}


# ---------------------------------------------------------------------------------------- command
EXAMPLES = """\
examples:
  batterygym solve industrial --seed 3 --plot dispatch.png
  batterygym solve industrial --csv site.csv --capacity-kwh 1000 --power-kw 400 --json costs.json
  batterygym solve industrial --days 365 --billing month --max-cycles-per-day none --eta-charge 0.93
  batterygym solve fleet --seed 3 --assets 8 --markets 6 --plot fleet.png
  batterygym solve fleet --csv prices.csv --directions up,down,down,up
  batterygym solve fleet --csv prices.csv --assets-csv assets.csv
  batterygym solve v2g --days 92 --plot v2g.png     # the source's quarter, 100 EVs
  batterygym solve v2g --csv prices.csv --seed 3 --evs 20   # hourly energy/reg-up/reg-down prices, whole days
  batterygym solve microgrid --seed 3 --off-grid --plot microgrid.png

A CSV has one row per step: timestamp (ISO 8601, evenly spaced), load_kw, price_eur_per_kwh and
optionally pv_kw and export_price_eur_per_kwh (export is allowed when that column is present).
Its demand charge (--demand-charge-eur-per-kw-month) is billed per calendar month when it covers more
than a month (--billing auto), a partly covered month pro-rated by its share.
A fleet price CSV has a timestamp column and one price column (EUR/MWh) per market, each market's
direction given by --directions or by its name ending in _up or _down.
A V2G price CSV is hourly, whole days from 00:00: timestamp, energy_eur_per_mwh, reg_up_eur_per_mwh,
reg_down_eur_per_mwh (EUR/MWh; regulation prices >= 0); the EVs' days are drawn from --seed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``batterygym solve``."""
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("setting", choices=sorted(SETTINGS), help="which setting's episode to solve")
    src = parser.add_argument_group("episode")
    src.add_argument("--seed", type=int, default=0, help="seed of the generated episode (default: 0)")
    src.add_argument("--csv", type=Path, default=None, metavar="FILE",
                     help="site data instead of a generated episode: columns timestamp, load_kw, price_eur_per_kwh "
                          "and optionally pv_kw, export_price_eur_per_kwh")
    src.add_argument("--days", type=int, default=None,
                     help="episode length in days of a generated episode (default: 7 industrial, 1 the others)")
    add_site_arguments(parser.add_argument_group("site"))
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
    v2g = parser.add_argument_group("v2g")
    v2g.add_argument("--evs", type=int, default=None, help="number of EVs of a generated V2G episode (default: 100)")
    mg = parser.add_argument_group("microgrid")
    mg.add_argument("--off-grid", action="store_true",
                    help="no grid: a deficit is unserved residential load, priced at the value of lost load")
    out = parser.add_argument_group("output")
    out.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                     help="MILP time limit (default: 60 s per day of the episode)")
    out.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the breakdown as JSON")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE",
                     help="save the dispatch plot of every policy (format from the suffix, e.g. .png)")


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _check_outputs(args: argparse.Namespace) -> None:
    """Reject bad options before the solve, so a typo costs no time."""
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit!r}")
    check_output_paths(args)


def play(env: Any, policy: Callable[[np.ndarray], np.ndarray], seed: int, setting: Setting,
         name: str) -> tuple[float, pd.DataFrame]:
    """Roll ``policy`` out in ``env`` and settle its dispatch with the setting's model.

    Raises ``AssertionError`` when the settled record does not pay the env's return (the env and
    the model disagree: a bug, never bad input).
    """
    from batterygym.baselines.industrial_heuristics import rollout

    total, infos = rollout(env, policy, seed=seed)
    keys = setting.power_key
    if isinstance(keys, str):
        power = np.array([info[keys] for info in infos], dtype=np.float64)
    elif callable(keys):
        power = np.array([keys(info) for info in infos], dtype=np.float64)
    else:  # several set-points per step, stacked on a last axis
        power = np.array([np.stack([info[k] for k in keys], axis=-1) for info in infos], dtype=np.float64)
    schedule = setting.schedule(env.unwrapped.scenario, power)
    settled = float(schedule["reward"].sum())
    if not _close(settled, total, REL_TOL_ROLLOUT):
        raise AssertionError(f"one-model rule broken for {name!r}: the env returned {total!r} but the same "
                             f"dispatch settles to {settled!r}")
    return total, schedule


def _replay(actions: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    it = iter(actions)
    return lambda obs: next(it)


def cost_table(breakdowns: dict[str, dict[str, float]], reference: str = "idle",
               optimum: str = "optimal") -> pd.DataFrame:
    """One row per policy: cost terms, total, peak, saving against ``reference``, share of the optimum's."""
    df = pd.DataFrame.from_dict(breakdowns, orient="index")
    df["saving_eur"] = df.loc[reference, "total_cost_eur"] - df["total_cost_eur"]
    best = float(df.loc[optimum, "saving_eur"])
    df["share_of_optimum"] = df["saving_eur"] / best if abs(best) > 1e-9 else float("nan")
    return df


def format_table(df: pd.DataFrame, columns: dict[str, str] | None = None) -> str:
    """The cost table as printed: EUR with cents, kW whole, the share in percent. ``columns`` maps
    breakdown keys to headers (default: the industrial table)."""
    if columns is not None:
        shown = pd.DataFrame({header: df[key] for key, header in columns.items()})
        formatters = {c: "{:,.2f}".format for c in shown.columns if c.endswith(("EUR", "MWh"))}
        for c in shown.columns:
            if c.endswith(("share", "served")) or c == "share of optimum":
                formatters[c] = lambda x: "n/a" if not math.isfinite(x) else f"{100 * x:.1f} %"
        return shown.to_string(formatters=formatters)
    shown = pd.DataFrame({
        "energy EUR": df["energy_eur"],
        "demand EUR": df["demand_eur"],
        "degradation EUR": df["degradation_eur"],
        "terminal credit EUR": df["terminal_credit_eur"],
        "total cost EUR": df["total_cost_eur"],
        "peak kW": df["peak_kw"],
        "saving vs idle EUR": df["saving_eur"],
        "share of optimum": df["share_of_optimum"],
    })
    money = "{:,.2f}".format
    formatters = {c: money for c in shown.columns if c.endswith("EUR")}
    formatters["peak kW"] = "{:,.1f}".format
    formatters["share of optimum"] = lambda x: "n/a" if not math.isfinite(x) else f"{100 * x:.1f} %"
    return shown.to_string(formatters=formatters)


def _json_clean(value: Any) -> Any:
    """Plain JSON: non-finite floats become null, numpy scalars python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    """Solve one episode and print its cost table; see the module docstring."""
    from batterygym.baselines import solve_optimal
    from batterygym.baselines.industrial_heuristics import heuristics_for

    _check_outputs(args)
    setting = SETTINGS[args.setting]()
    env = setting.make_env(args)
    try:
        returns: dict[str, float] = {}
        schedules: dict[str, pd.DataFrame] = {}
        for name, policy in heuristics_for(env).items():
            returns[name], schedules[name] = play(env, policy, args.seed, setting, name)
        scenario = env.unwrapped.scenario
        days = scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0
        limit = args.time_limit if args.time_limit is not None else SECONDS_PER_DAY * max(1.0, days)
        plan = solve_optimal(scenario, time_limit=limit)
        returns["optimal"], schedules["optimal"] = play(env, _replay(plan.actions), args.seed, setting, "optimal")
    finally:
        env.close()
    if plan.status != "optimal":  # a time-limited incumbent is not "the optimum": say so in the row's name
        best = f"best found ({plan.status}, gap {plan.mip_gap:.1e})"
        returns[best], schedules[best] = returns.pop("optimal"), schedules.pop("optimal")
    else:
        best = "optimal"
    if not _close(returns[best], plan.objective, REL_TOL_PLAN):
        raise AssertionError(f"the plan's objective {plan.objective!r} differs from its replay in the env "
                             f"{returns[best]!r}")
    table = cost_table({name: setting.breakdown(df) for name, df in schedules.items()}, optimum=best)

    print(setting.describe(scenario, args))
    print()
    print(format_table(table, setting.columns))
    print(setting.note or "total cost = energy + demand + degradation - terminal credit (the energy left in the "
          "battery, valued against its start; < 0: it ended emptier)")
    print()
    bound = plan.bound if plan.bound is not None else float("nan")
    print(f"MILP: {plan.status}, objective {plan.objective:,.2f} EUR (replayed in the env: "
          f"{returns[best]:,.2f}), bound {bound:,.2f},"
          f" gap {plan.mip_gap:.1e}, build {plan.build_seconds:.2f} s, "
          f"solve {plan.solve_seconds:.2f} s (LP rounds {int(plan.details.get('rounds', 0))}, "
          f"binaries added {int(plan.details.get('binaries', 0))})")

    if args.json is not None:
        report = {
            "setting": args.setting,
            "source": {"csv": str(args.csv)} if args.csv is not None else {"seed": args.seed},
            "scenario": setting.scenario_json(scenario) if setting.scenario_json is not None else {
                "start": str(scenario.timestamps[0].isoformat()), "n_steps": scenario.n_steps,
                "dt_h": scenario.dt_h, "connection_kw": scenario.connection_kw,
                "demand_charge_eur_per_kw": scenario.demand_charge_eur_per_kw,
                "allow_export": scenario.allow_export, "charge_budget_kwh": scenario.charge_budget_kwh,
                "terminal_value_eur_per_kwh": scenario.terminal_value_eur_per_kwh,
                "battery": asdict(scenario.battery),
            },
            "policies": {name: {"return_eur": returns[name], **row} for name, row in
                         table.to_dict(orient="index").items()},
            "solver": {"status": plan.status, "objective_eur": plan.objective, "bound_eur": plan.bound,
                       "mip_gap": plan.mip_gap, "time_limit_s": limit,
                       "build_seconds": plan.build_seconds, "solve_seconds": plan.solve_seconds,
                       **plan.details},
        }
        _write(args.json, lambda p: p.write_text(json.dumps(_json_clean(report), indent=2, allow_nan=False) + "\n"))
        print(f"wrote {args.json}")
    if args.plot is not None:
        from batterygym.benchmarks.industrial_plots import plot_dispatch

        source = f"CSV {args.csv.name}" if args.csv is not None else f"seed {args.seed}"
        days = scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0
        title = f"batterygym {args.setting}: {source}, {scenario.timestamps[0]:%Y-%m-%d}, {days:g} days"
        draw = setting.plot or (lambda sched, p, t: plot_dispatch(sched, p, title=t))
        _write(args.plot, lambda p: draw(schedules, p, title))
        print(f"wrote {args.plot}")
    return 0


def _write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write an output, creating its folder; an unwritable path is bad input (one line, exit 2)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
