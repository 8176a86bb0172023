"""``batterygym size | lifetime | sweep industrial`` and ``size microgrid``: the techno-economic questions.

A thin layer over :mod:`batterygym.benchmarks.economics`: it reads the site (a CSV or a generated
year), the battery and the finance from the options, prints the table, and writes ``--json`` and
``--plot``. Bad options print one line naming the option and exit with status 2, before any solve.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from batterygym.benchmarks.site_options import (
    add_episode_arguments,
    add_site_arguments,
    check_output_paths,
    industrial_scenario,
    industrial_site,
    option_error,
)
from batterygym.core.finance import MICROGRID_FIELDS, Finance
from batterygym.scale.tasks import add_ray_argument

FINANCE_HELP = {
    "pack_price_eur_per_kwh": "second-life pack price per kWh of remaining capacity",
    "power_price_eur_per_kw": "power electronics price per kW",
    "fixed_cost_eur": "fixed installation cost",
    "om_share_per_year": "O&M per year as a share of capex",
    "discount_rate": "real discount rate per year, in (-1, 1)",
    "horizon_years": "analysis horizon in years",
    "salvage_share": "value recovered at the horizon, share of capex",
    "pv_eur_per_kw": "PV installed cost per kWp",
    "wind_eur_per_kw": "wind installed cost per kW",
    "station_fixed_eur": "the swap station's fixed cost (robot, building, works)",
    "charger_eur_per_kw": "station chargers per kW of 1C charging",
    "new_pack_eur_per_kwh": "a new station pack per kWh (also each replacement)",
}


def add_common(parser: argparse.ArgumentParser, settings: tuple[str, ...] = ("industrial",)) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("setting", choices=list(settings),
                        help="the setting: " + ", ".join({"industrial": "industrial (the industrial site)",
                                                          "microgrid": "microgrid (the BSS microgrid's storage)"}[x]
                                                         for x in settings))
    add_episode_arguments(parser, default_days=365)
    add_site_arguments(parser.add_argument_group("site and battery (--pack-price-eur-per-kwh is also the capex's)"))
    fin = parser.add_argument_group("finance (defaults and sources: batterygym.core.finance.Finance)")
    defaults = Finance()
    for f in fields(Finance):
        # a site option already (it sets the wear cost too), or read by the microgrid's capex only
        if f.name == "pack_price_eur_per_kwh" or f.name in MICROGRID_FIELDS:
            continue
        fin.add_argument(f"--{f.name.replace('_', '-')}", type=float, default=None, metavar="X",
                         help=f"{FINANCE_HELP[f.name]} (default: {getattr(defaults, f.name):g})")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the results as JSON")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE", help="save the plot (format from the suffix)")


def finance_of(args: argparse.Namespace) -> Finance:
    given = {f.name: getattr(args, f.name) for f in fields(Finance) if getattr(args, f.name, None) is not None}
    if "pack_price_eur_per_kwh" in given:
        given["pack_price_eur_per_kwh"] = industrial_site(args)["pack_price_eur_per_kwh"]
    try:
        return Finance(**given)
    except ValueError as exc:
        raise option_error(exc) from None


def parse_values(text: str, option: str, allow_none: bool = False) -> list[float | None]:
    """A comma-separated list of numbers (and ``none`` where allowed), or a one-line error."""
    out: list[float | None] = []
    for item in text.split(","):
        item = item.strip().lower()
        if allow_none and item == "none":
            out.append(None)
            continue
        try:
            value = float(item)
        except ValueError:
            extra = " or none" if allow_none else ""
            raise ValueError(f"{option} {text!r}: {item!r} is not a number{extra}") from None
        if not math.isfinite(value):
            raise ValueError(f"{option} {text!r}: {item!r} is not a finite number")
        out.append(value)
    if not out:
        raise ValueError(f"{option}: give at least one value")
    return out


def _fmt(x: Any, spec: str = ",.0f", none: str = "-") -> str:
    return none if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def _write_json(path: Path | None, payload: Any) -> None:
    if path is not None:
        path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {path}")


# ---------------------------------------------------------------------------------------- size
def size_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser, ("industrial", "microgrid"))
    b = parser.add_argument_group("size bounds")
    b.add_argument("--max-capacity-kwh", type=float, default=None,
                   help="largest capacity (default: 10 h of the connection)")
    b.add_argument("--max-power-kw", type=float, default=None, help="largest power (default: the connection)")
    b.add_argument("--capex-budget-eur", type=float, default=None, help="largest capex (default: none)")
    b.add_argument("--fixed-capacity-kwh", type=float, default=None, help="fix the capacity, size the power")
    b.add_argument("--fixed-power-kw", type=float, default=None, help="fix the power, size the capacity")
    b.add_argument("--time-limit", type=float, default=300.0, metavar="SECONDS", help="MILP time limit (default 300)")
    add_ray_argument(b)
    microgrid_size_arguments(parser)


def size_run(args: argparse.Namespace) -> int:
    if args.setting == "microgrid":
        return microgrid_size_run(args)
    from batterygym.benchmarks.economics import size

    check_output_paths(args)
    finance = finance_of(args)
    bounds: dict[str, Any] = {}
    for opt in ("max_capacity_kwh", "max_power_kw", "fixed_capacity_kwh", "fixed_power_kw"):
        value = getattr(args, opt)
        if value is not None:
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"--{opt.replace('_', '-')} must be a positive number, got {value!r}")
            bounds[opt] = value
    if args.capex_budget_eur is not None:
        if not (args.capex_budget_eur > 0 and math.isfinite(args.capex_budget_eur)):
            raise ValueError(f"--capex-budget-eur must be a positive number, got {args.capex_budget_eur!r}")
        if args.capex_budget_eur < finance.fixed_cost_eur:
            raise ValueError(f"--capex-budget-eur {args.capex_budget_eur:g} is below the fixed installation cost "
                             f"{finance.fixed_cost_eur:g} EUR: no battery fits")
        bounds["capex_budget_eur"] = args.capex_budget_eur
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit!r}")
    s = industrial_scenario(args)
    print(f"sizing over {s.n_steps} steps of {s.dt_h:g} h ({s.days:g} days, {s.n_periods} billing period(s)) ...",
          file=sys.stderr)
    r = size(s, finance, time_limit=args.time_limit, **bounds)
    print(format_sizing(r, finance))
    _write_json(args.json, r.to_dict() | {"finance": finance.__dict__})
    if args.plot is not None:
        from batterygym.benchmarks.economics_plots import plot_sizing

        plot_sizing(s, finance, r, args.plot, bounds, progress=True, ray=args.ray, ray_cpus=args.ray_cpus)
        print(f"wrote {args.plot}")
    return 0


def format_sizing(r: Any, finance: Finance) -> str:
    lines = []
    if r.capacity_kwh == 0:
        lines.append(f"no battery pays at this site: the best one, {r.candidate_capacity_kwh:,.0f} kWh / "
                     f"{r.candidate_power_kw:,.0f} kW, costs more a year than it saves "
                     f"(annual cost {r.annual_cost_no_battery_eur:,.0f} EUR without a battery)")
        return "\n".join(lines)
    op = r.operation
    lines.append(f"chosen battery: {r.capacity_kwh:,.1f} kWh nominal ({r.capacity_kwh * r.scenario.battery.soh0:,.1f} "
                 f"kWh remaining) / {r.power_kw:,.1f} kW   [MILP {r.status}, build {r.build_seconds:.1f} s, "
                 f"solve {r.solve_seconds:.1f} s]")
    lines.append("")
    lines.append(f"{'bill per year (EUR)':<24}{'without':>12}{'with':>12}{'saving':>12}")
    for k, label in (("energy_eur", "energy"), ("demand_eur", "demand charge"), ("degradation_eur", "wear")):
        a, b = op.bill_without[k], op.bill_with[k]
        if k == "degradation_eur" and a == b == 0:
            continue  # a sizing prices the pack's ageing in its capital cost, not as wear
        lines.append(f"{label:<24}{a:>12,.0f}{b:>12,.0f}{a - b:>12,.0f}")
    lines.append(f"{'total':<24}{op.bill_without['total_eur']:>12,.0f}{op.bill_with['total_eur']:>12,.0f}"
                 f"{op.bill_without['total_eur'] - op.bill_with['total_eur']:>12,.0f}")
    lines.append("")
    rows = [
        ("capex", f"{r.capex_eur:,.0f} EUR"),
        ("annual saving", f"{r.annual_saving_eur:,.0f} EUR"),
        ("simple payback", f"{_fmt(r.simple_payback_years, '.1f', 'never')} years"),
        ("discounted payback", f"{_fmt(r.discounted_payback_years, '.1f', 'never')} years"),
        (f"NPV ({finance.horizon_years:g} y at {100 * finance.discount_rate:g} %)", f"{r.npv_eur:,.0f} EUR"),
        ("IRR", "-" if r.irr is None else f"{100 * r.irr:.1f} %"),
        ("LCOS", f"{_fmt(r.lcos_eur_per_kwh, '.3f')} EUR/kWh discharged"),
        ("cycles", f"{op.equivalent_full_cycles_per_year:,.0f} equivalent full cycles a year"),
        ("years to end of life", f"{_fmt(r.years_to_end_of_life, '.1f', 'no ageing')} (SoH "
                                 f"{r.scenario.battery.soh0:g} -> {r.scenario.battery.soh_end_of_life:g})"),
    ]
    lines += [f"{k:<28}{v}" for k, v in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- size microgrid
MICROGRID_CONFIG_OPTIONS = ("pv_kwp", "wind_rated_kw", "load_peak_kw", "swaps_per_day", "storage_price_eur_per_kwh")
# what ``size microgrid`` reads; every other option is the industrial site's and is refused when given
MICROGRID_SIZE_OPTIONS = {"setting", "json", "time_limit", "discount_rate", "horizon_years", "om_share_per_year",
                          "default_days", "max_count", "soh", "margin", "gap_value", *MICROGRID_CONFIG_OPTIONS}


def microgrid_size_arguments(parser: argparse.ArgumentParser) -> None:
    from batterygym.baselines.microgrid_sizing import DEFAULT_MAX_COUNT
    from batterygym.core.microgrid_generator import MicrogridConfig

    g = parser.add_argument_group("microgrid storage sizing (size microgrid; it also reads --pv-kwp, default 500 "
                                  "there, and the finance's discount rate, horizon and O&M share)")
    g.add_argument("--max-count", type=int, default=DEFAULT_MAX_COUNT, metavar="N",
                   help=f"most storage packs of each category (default {DEFAULT_MAX_COUNT})")
    g.add_argument("--soh", type=float, default=None, metavar="X",
                   help="state of health of the second-life packs (default: the middle of the storage's SoH range)")
    g.add_argument("--margin", type=float, default=None, metavar="X",
                   help="demand variation allowance, a share of the demand (default: the load noise, 0.05)")
    g.add_argument("--gap-value", type=float, default=None, metavar="EUR_PER_KWH",
                   help="what an uncovered kWh costs (default: the grid price of the deficit's hours)")
    cfg = MicrogridConfig()
    for name in MICROGRID_CONFIG_OPTIONS[1:]:  # --pv-kwp is a site option already
        g.add_argument(f"--{name.replace('_', '-')}", type=float, default=None, metavar="X",
                       help=f"the microgrid's {name} (default: {getattr(cfg, name):g})")


def _refuse_industrial_options(args: argparse.Namespace) -> None:
    ref = argparse.ArgumentParser()
    size_arguments(ref)
    defaults = vars(ref.parse_args(["industrial"]))
    for name, value in vars(args).items():
        if name in defaults and name not in MICROGRID_SIZE_OPTIONS and value != defaults[name]:
            raise ValueError(f"--{name.replace('_', '-')} {value}: an option of size industrial, "
                             "not of size microgrid")


def microgrid_size_run(args: argparse.Namespace) -> int:
    """``batterygym size microgrid``: the storage's pack counts per category for the mean day."""
    from batterygym.baselines.microgrid_sizing import SizingProblem, solve_sizing
    from batterygym.core.microgrid_generator import MicrogridConfig

    _refuse_industrial_options(args)
    check_output_paths(args)
    if args.max_count < 0:
        raise ValueError(f"--max-count must be a non-negative integer, got {args.max_count!r}")
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit!r}")
    for name in ("soh", "margin", "gap_value"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value >= 0 and (name != "soh" or 0 < value <= 1)):
            need = "in (0, 1]" if name == "soh" else "a non-negative number"
            raise ValueError(f"--{name.replace('_', '-')} must be {need}, got {value!r}")
    overrides = {k: getattr(args, k) for k in MICROGRID_CONFIG_OPTIONS if getattr(args, k) is not None}
    try:
        cfg = MicrogridConfig(**overrides)
    except ValueError as exc:
        raise option_error(exc) from None
    if args.json is not None and not args.json.parent.is_dir():
        raise ValueError(f"--json {args.json}: no directory {args.json.parent}")
    finance = finance_of(args)
    try:
        p = SizingProblem.from_config(cfg, finance, soh=args.soh, margin=args.margin, gap_value=args.gap_value,
                                      max_count=args.max_count)
    except ValueError as exc:
        raise ValueError(f"--max-count {args.max_count}: {exc}" if str(exc).startswith("max_count") else exc) from None
    r = solve_sizing(p, time_limit=args.time_limit)
    print(format_microgrid_sizing(r))
    _write_json(args.json, r.to_dict() | {"config": overrides, "finance": finance.__dict__})
    return 0


def format_microgrid_sizing(r: Any) -> str:
    p = r.problem
    deficit = sum(p.deficit_kw)
    state = "optimal" if r.status == "optimal" else f"{r.status}: best found, not proven optimal"
    lines = [f"storage sizing on the mean day: deficit {deficit:,.1f} kWh, renewable surplus {sum(p.surplus_kw):,.1f} "
             f"kWh, an uncovered kWh at {p.gap_value_eur_per_kwh:.4f} EUR   [IP {state}, {r.solve_seconds:.2f} s]",
             "", f"{'category':<10}{'pack kWh':>10}{'SoH':>6}{'count':>7}{'nominal kWh':>13}"]
    for c, q, h in zip(p.categories, p.pack_kwh, p.soh, strict=True):
        lines.append(f"{c:<10}{q:>10,.1f}{h:>6.2f}{r.counts[c]:>7d}{r.counts[c] * q:>13,.1f}")
    lines.append(f"{'total':<10}{'':>16}{sum(r.counts.values()):>7d}{r.nominal_kwh:>13,.1f}")
    lines.append("")
    share = r.covered_kwh / deficit if deficit > 0 else 1.0
    rows = [("covered", f"{r.covered_kwh:,.1f} of {deficit:,.1f} kWh a day ({100 * share:.1f} %)"),
            ("packs' price", f"{r.capex_eur:,.0f} EUR ({r.remaining_kwh:,.1f} kWh remaining)"),
            ("daily cost", f"{r.objective_eur_per_day:,.2f} EUR (uncovered energy + annualised packs)"),
            ("env keywords", " ".join(f"{k}={v:g}" for k, v in r.env_kwargs().items()))]
    lines += [f"{k:<14}{v}" for k, v in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- lifetime
def lifetime_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--caps", default="none,1,0.75,0.5", metavar="LIST",
                        help="throughput caps, equivalent full cycles a day, 'none' for no cap "
                             "(default: none,1,0.75,0.5)")
    parser.add_argument("--target-extension", type=float, default=None, metavar="X",
                        help="also find the cap at which the pack lives X longer than uncapped (0.35: 35 %%)")
    add_ray_argument(parser)


def lifetime_run(args: argparse.Namespace) -> int:
    from batterygym.benchmarks.economics import lifetime

    caps = parse_values(args.caps, "--caps", allow_none=True)
    bad = [c for c in caps if c is not None and c < 0]
    if bad:
        raise ValueError(f"--caps {args.caps!r}: a cap must be >= 0 (equivalent full cycles a day), got {bad[0]:g}")
    te = args.target_extension
    if te is not None and not (math.isfinite(te) and te > 0):
        raise ValueError(f"--target-extension must be a positive share (0.35 = 35 % longer), got {te!r}")
    check_output_paths(args)
    finance = finance_of(args)
    s = industrial_scenario(args)
    rows = lifetime(s, caps, finance, progress=True, target_extension=te, ray=args.ray, ray_cpus=args.ray_cpus)
    print(format_lifetime(rows, s))
    _write_json(args.json, [r.to_dict() for r in rows])
    if args.plot is not None:
        from batterygym.benchmarks.economics_plots import plot_lifetime

        plot_lifetime(rows, s, args.plot)
        print(f"wrote {args.plot}")
    return 0


def format_lifetime(rows: list[Any], s: Any) -> str:
    b = s.battery
    head = (f"{'cap (cycles/day)':<18}{'throughput MWh/y':>18}{'cycles/y':>10}{'SoH fade/y':>12}{'life (y)':>10}"
            f"{'extension':>11}{'saving EUR/y':>14}{'NPV EUR':>12}")
    lines = [f"battery {b.capacity_kwh:,.0f} kWh / {b.p_charge_kw:,.0f} kW, SoH {b.soh0:g} -> {b.soh_end_of_life:g}",
             head]
    for r in rows:
        cap = "none" if r.cap is None else f"{r.cap:g}" + ("" if r.binds else " (slack)")
        ext = "-" if r.life_extension is None else f"{100 * r.life_extension:+.1f} %"
        lines.append(f"{cap:<18}{r.throughput_kwh_per_year / 1000:>18,.1f}{r.equivalent_full_cycles_per_year:>10,.0f}"
                     f"{r.soh_fade_per_year:>12.4f}{_fmt(r.years_to_end_of_life, '.2f'):>10}{ext:>11}"
                     f"{r.annual_saving_eur:>14,.0f}{r.npv_eur:>12,.0f}")
    slack = [f"{r.cap:g}" for r in rows if r.cap is not None and not r.binds]
    if slack:
        lines.append(f"cap(s) {', '.join(slack)} do not bind: the optimum cycles less than the cap allows")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- sweep
def sweep_arguments(parser: argparse.ArgumentParser) -> None:
    from batterygym.benchmarks.economics import SWEEP_PARAMS

    add_common(parser)
    parser.add_argument("--param", required=True, choices=SWEEP_PARAMS,
                        help="tariff_spread (EUR/kWh, max - min import price), pack_price (EUR/kWh), cycle_cap "
                             "(cycles/day or none), demand_charge (EUR/kW per month), load_scale (x)")
    parser.add_argument("--values", required=True, metavar="LIST", help="comma-separated values, e.g. 0.1,0.15,0.2")
    parser.add_argument("--resize", action="store_true",
                        help="re-size the battery at every value (default: the given battery's dispatch)")
    add_ray_argument(parser)


def sweep_run(args: argparse.Namespace) -> int:
    from batterygym.benchmarks.economics import apply_param, sweep

    values = parse_values(args.values, "--values", allow_none=args.param == "cycle_cap")
    check_output_paths(args)
    finance = finance_of(args)
    s = industrial_scenario(args)
    for v in values:  # refuse a bad value before the first solve
        try:
            apply_param(s, finance, args.param, v)
        except ValueError as exc:
            raise ValueError(f"--values {args.values!r}: {exc}") from None
    res = sweep(s, args.param, values, finance, resize=args.resize, progress=True, ray=args.ray,
                ray_cpus=args.ray_cpus)
    print(format_sweep(res))
    _write_json(args.json, res.to_dict())
    if args.plot is not None:
        from batterygym.benchmarks.economics_plots import plot_sweep

        plot_sweep(res, args.plot)
        print(f"wrote {args.plot}")
    return 0


def format_sweep(res: Any) -> str:
    lines = [f"{res.param:<16}{'kWh':>9}{'kW':>8}{'saving EUR/y':>14}{'NPV EUR':>12}{'IRR':>8}{'payback y':>11}"
             f"{'life y':>8}"]
    for p in res.points:
        v = "none" if p.value is None else f"{p.value:g}"
        irr = "-" if p.irr is None else f"{100 * p.irr:.1f}%"
        lines.append(f"{v:<16}{p.capacity_kwh:>9,.0f}{p.power_kw:>8,.0f}{p.annual_saving_eur:>14,.0f}"
                     f"{p.npv_eur:>12,.0f}{irr:>8}{_fmt(p.simple_payback_years, '.1f'):>11}"
                     f"{_fmt(p.years_to_end_of_life, '.1f'):>8}")
    if res.param in ("tariff_spread", "pack_price"):
        lines.append(f"break-even {res.param}: " + (_fmt(res.break_even, '.4g') if res.break_even is not None
                                                    else "not within the values (NPV does not change sign)"))
    return "\n".join(lines)


@dataclass(frozen=True)
class Command:
    add_arguments: Any
    run: Any


SIZE = Command(size_arguments, size_run)
LIFETIME = Command(lifetime_arguments, lifetime_run)
SWEEP = Command(sweep_arguments, sweep_run)
