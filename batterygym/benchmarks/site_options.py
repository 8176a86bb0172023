"""The industrial site on the command line: its options, and the episode they describe.

``batterygym solve industrial`` and the techno-economic commands (``size``, ``lifetime``, ``sweep``)
share them, so each option means the same everywhere: a generated site (``--seed``, ``--days``) or a
CSV (``--csv``), the battery, the tariff's demand charge and its billing, export. A bad value is one
line naming the option.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

# battery options parsed from text (so a bad value is one line naming it); BATTERY_FIELDS also apply to a CSV
BATTERY_NUMBERS = ("eta_charge", "eta_discharge", "soc_min", "soc_max", "calendar_fade_per_day",
                   "pack_price_eur_per_kwh")
BATTERY_FIELDS = ("capacity_kwh", "power_kw", "max_cycles_per_day") + BATTERY_NUMBERS
BILLING_CHOICES = ("auto", "episode", "month")  # for --help; checked against core.tariff.BILLING_MODES


def option_of(field: str) -> str:
    """The command-line option of an ``IndustrialSiteConfig`` (or tariff) field."""
    return "--days" if field == "n_days" else f"--{field.replace('_', '-')}"


def option_error(exc: ValueError) -> ValueError:
    """A config's ``ValueError`` (its message starts with the field's name) prefixed with that field's option."""
    return ValueError(f"{option_of(str(exc).split(' ', 1)[0])}: {exc}")


def _number(opt: str, text: str) -> float:
    """The number an option's text gives, or a one-line error naming the option."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option_of(opt)}: {text!r} is not a number") from None


def industrial_site(args: argparse.Namespace) -> dict[str, Any]:
    """``IndustrialSiteConfig`` fields given on the command line (plain numbers and strings: env kwargs)."""
    site: dict[str, Any] = {}
    for opt, field in (("pv_kwp", "pv_kwp"), ("capacity_kwh", "capacity_kwh"), ("power_kw", "power_kw"),
                       ("connection_kw", "connection_kw"), ("days", "n_days")):
        value = getattr(args, opt)
        if value is not None:
            site[field] = value
    if args.no_export:
        site["allow_export"] = False
    for opt in BATTERY_NUMBERS:
        if getattr(args, opt) is not None:
            site[opt] = _number(opt, getattr(args, opt))
    if args.max_cycles_per_day is not None:
        text = args.max_cycles_per_day.strip().lower()
        cycles = None if text == "none" else _number("max_cycles_per_day", text)
        if cycles is not None and not (math.isfinite(cycles) and cycles >= 0):
            raise ValueError(f"--max-cycles-per-day: must be a non-negative number of equivalent full cycles a "
                             f"day or none, got {args.max_cycles_per_day!r}")
        site["max_cycles_per_day"] = cycles
    if args.billing is not None:
        from batterygym.core.tariff import BILLING_MODES

        if args.billing not in BILLING_MODES:
            raise ValueError(f"--billing: must be one of {', '.join(BILLING_MODES)}, got {args.billing!r}")
        site["billing"] = args.billing
    if args.demand_charge_eur_per_kw_month is not None:
        rate = _number("demand_charge_eur_per_kw_month", args.demand_charge_eur_per_kw_month)
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"--demand-charge-eur-per-kw-month: must be a non-negative number of EUR per kW, "
                             f"got {args.demand_charge_eur_per_kw_month!r}")
        site["tariff"] = {"demand_charge_eur_per_kw_month": rate}
    return site


def naming_option(exc: ValueError, site: dict[str, Any]) -> ValueError:
    """``exc`` prefixed with the given option its message names first (it names fields, not options)."""
    msg = str(exc)
    given = (set(site) - {"tariff"}) | set(site.get("tariff", {}))
    hits = [(m.start(), name) for name in given if (m := re.search(rf"\b{name}\b", msg))]
    if not hits:
        return exc
    field = min(hits)[1]
    value = site["tariff"][field] if field in site.get("tariff", {}) else site[field]
    return ValueError(f"{option_of(field)} {'none' if value is None else value}: {msg}")


def industrial_env(args: argparse.Namespace) -> Any:
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.core.industrial_generator import IndustrialSiteConfig
    from batterygym.core.industrial_io import load_industrial_csv
    from batterygym.core.tariff import TOUTariff
    from batterygym.envs.industrial import IndustrialEnv

    site = industrial_site(args)
    if args.csv is None:
        try:
            cfg = IndustrialSiteConfig.from_kwargs(**site)
            env = gym.make("batterygym/Industrial-v0", max_episode_steps=cfg.n_steps, **site)
        except ValueError as exc:
            raise naming_option(exc, site) from None
        try:
            env.reset(seed=args.seed)  # the battery's and the episode's checks now, naming the option
        except ValueError as exc:
            env.close()
            raise naming_option(exc, site) from None
        return env
    not_for_csv = [f"--{k.replace('_', '-')}" for k in ("days", "pv_kwp") if getattr(args, k) is not None]
    if not_for_csv:
        raise ValueError(f"{', '.join(not_for_csv)} cannot be used with --csv: the CSV gives the episode's "
                         "length and PV")
    battery_site = {k: v for k, v in site.items() if k in BATTERY_FIELDS + ("billing", "tariff")}
    try:
        cfg = IndustrialSiteConfig.from_kwargs(**battery_site)
        battery = cfg.battery()
    except ValueError as exc:
        raise naming_option(exc, battery_site) from None
    try:
        notes: list[str] = []
        scenario = load_industrial_csv(args.csv, battery=battery, connection_kw=args.connection_kw,
                                       allow_export=False if args.no_export else None, billing=cfg.billing,
                                       timezone=getattr(args, "timezone", None), notes=notes)
        for note in notes:  # what reading the timestamps did, said once
            print(f"{args.csv}: {note}", file=sys.stderr)
        if "tariff" in site:  # the given monthly rate, billed on the CSV's periods
            demand = TOUTariff(**site["tariff"]).billing(scenario.start, scenario.n_steps, scenario.dt_h, cfg.billing)
            scenario = replace(scenario, **demand)
    except ValueError as exc:
        raise naming_option(exc, site) from None
    return IndustrialEnv(scenario=scenario)


def billing_text(s: Any) -> str:
    """The demand charge as billed: one peak for the episode, or a monthly rate on its periods."""
    share = s.billing_share
    if s.n_periods == 1 and share[0] == 1.0:
        return f"demand charge {s.demand_charge_eur_per_kw:.3f} EUR/kW for the episode's peak"
    partial = int((share < 1.0).sum())
    return (f"demand charge {s.demand_charge_eur_per_kw:.3f} EUR/kW per month, {s.n_periods} "
            f"period{'s' if s.n_periods > 1 else ''}" + (f" ({partial} partial, pro-rated)" if partial else ""))


def describe_industrial(s: Any, args: argparse.Namespace) -> str:
    b = s.battery
    source = f"CSV {args.csv}" if args.csv is not None else f"seed {args.seed}"
    cap = "no cycle cap" if b.max_cycles_per_day is None else f"{b.max_cycles_per_day:g} cycles/day"
    return (
        f"industrial episode ({source}): {s.n_steps} steps of {s.dt_h:g} h from "
        f"{s.timestamps[0]:%a %Y-%m-%d %H:%M}, peak load {s.load_kw.max():,.0f} kW, PV peak {s.pv_kw.max():,.0f} kW, "
        f"export {'allowed' if s.allow_export else 'barred'}\n"
        f"site: connection {s.connection_kw:,.0f} kW, {billing_text(s)}; battery {b.capacity_kwh:,.0f} kWh / "
        f"{b.p_charge_kw:,.0f} kW at SoH {b.soh0:.2f}, SoC {b.soc_min:g}-{b.soc_max:g}, efficiency "
        f"{b.eta_charge:g}/{b.eta_discharge:g}, {cap}, wear {b.degradation_cost_per_kwh:.4f} EUR/kWh"
    )


def industrial_scenario_json(s: Any) -> dict[str, Any]:
    return {
        "start": str(s.timestamps[0].isoformat()), "n_steps": s.n_steps, "dt_h": s.dt_h,
        "connection_kw": s.connection_kw, "demand_charge_eur_per_kw": s.demand_charge_eur_per_kw,
        "billing_periods": s.n_periods, "billing_share": s.billing_share.tolist(),
        "allow_export": s.allow_export, "charge_budget_kwh": s.charge_budget_kwh,
        "terminal_value_eur_per_kwh": s.terminal_value_eur_per_kwh, "battery": asdict(s.battery),
    }


def add_site_arguments(site: Any) -> None:
    """The site's and battery's options, on an argument group (or parser)."""
    site.add_argument("--pv-kwp", type=float, default=None, help="PV peak power of a generated site (default: 200)")
    site.add_argument("--capacity-kwh", type=float, default=None, help="battery nominal capacity (default: 500)")
    site.add_argument("--power-kw", type=float, default=None, help="battery charge/discharge rating (default: 200)")
    site.add_argument("--connection-kw", type=float, default=None,
                      help="grid connection (default: 1000; for a CSV 1.25 x its peak net load, rounded up)")
    site.add_argument("--no-export", action="store_true", help="bar export to the grid (PV surplus is curtailed)")
    site.add_argument("--max-cycles-per-day", default=None, metavar="X",
                      help="charge cap in equivalent full cycles a day, or none for no cap (default: 1)")
    site.add_argument("--eta-charge", default=None, metavar="X", help="charge efficiency, (0, 1] (default: 0.95)")
    site.add_argument("--eta-discharge", default=None, metavar="X",
                      help="discharge efficiency, (0, 1] (default: 0.95)")
    site.add_argument("--soc-min", default=None, metavar="X",
                      help="lowest state of charge, share of the remaining capacity (default: 0.1)")
    site.add_argument("--soc-max", default=None, metavar="X", help="highest state of charge (default: 0.9)")
    site.add_argument("--calendar-fade-per-day", default=None, metavar="X",
                      help="state of health lost per day to calendar ageing (default: 0)")
    site.add_argument("--pack-price-eur-per-kwh", default=None, metavar="X",
                      help="second-life pack price per kWh of remaining capacity; sets the wear cost (default: 80)")
    site.add_argument("--demand-charge-eur-per-kw-month", default=None, metavar="X",
                      help="the tariff's demand charge per kW of a month's peak import (default: 10)")
    site.add_argument("--timezone", default=None, metavar="ZONE",
                      help="the CSV's timestamps are local time in this IANA zone (e.g. Europe/Rome): daylight-saving "
                           "changes are read through (default: as written; UTC offsets need no zone)")
    site.add_argument("--billing", default=None, metavar="{" + ",".join(BILLING_CHOICES) + "}",
                      help="demand-charge billing: one peak per calendar month (month), one pro-rated peak for the "
                           "episode (episode), or month for episodes longer than a month (auto, the default)")


def add_episode_arguments(parser: argparse.ArgumentParser, default_days: int) -> None:
    """Where the site's data come from: a seed and a length, or a CSV."""
    src = parser.add_argument_group("site data")
    src.add_argument("--seed", type=int, default=0, help="seed of the generated site (default: 0)")
    src.add_argument("--days", type=int, default=None, help=f"days of a generated site (default: {default_days})")
    src.add_argument("--csv", type=Path, default=None, metavar="FILE",
                     help="site data instead: columns timestamp, load_kw, price_eur_per_kwh (pv_kw, "
                          "export_price_eur_per_kwh optional)")
    parser.set_defaults(default_days=default_days)


def industrial_scenario(args: argparse.Namespace) -> Any:
    """The episode the options describe (``args.days`` defaults to ``args.default_days``)."""
    if args.csv is None and args.days is None:
        args = argparse.Namespace(**{**vars(args), "days": args.default_days})
    env = industrial_env(args)
    env.reset(seed=args.seed)
    scenario = env.unwrapped.scenario
    env.close()
    return scenario


def check_output_paths(args: argparse.Namespace) -> None:
    """Reject an unknown plot format or a directory given as a file, before any solve."""
    if getattr(args, "plot", None) is not None:
        from matplotlib.figure import Figure

        formats = Figure().canvas.get_supported_filetypes()
        suffix = args.plot.suffix.lower().lstrip(".")
        if suffix not in formats:
            raise ValueError(f"--plot {args.plot}: unknown image format {suffix or '(no suffix)'!r}; "
                             f"use one of {', '.join(sorted(formats))}")
    for opt in ("json", "plot"):
        target = getattr(args, opt, None)
        if target is not None and target.is_dir():
            raise ValueError(f"--{opt} {target} is a directory, expected a file name")
