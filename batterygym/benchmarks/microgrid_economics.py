"""``batterygym economics microgrid``: a year of the BSS microgrid, integrated and standalone, as an investment.

Runs :func:`~batterygym.benchmarks.microgrid_year.run_year` for each mode, appraises it
(:func:`~batterygym.benchmarks.microgrid_year.appraise_year`), prints one table with a column per mode, and
writes ``--json`` (one object per mode under its name) and ``--plot``. Bad options print one line naming
the option and the value and exit with status 2, before any day runs.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from batterygym.benchmarks.economics_cli import FINANCE_HELP
from batterygym.benchmarks.site_options import check_output_paths, option_error
from batterygym.core.finance import Finance

# env keywords the command sets (each an option), and the life-cycle assumptions
CONFIG_OPTIONS = ("pv_kwp", "wind_rated_kw", "load_peak_kw", "swaps_per_day", "n_storage", "storage_kwh", "storage_kw",
                  "storage_price_eur_per_kwh", "layout_seed")
INTEGER_OPTIONS = ("n_storage", "layout_seed")
LIFE_OPTIONS = ("station_cycle_life", "storage_cycle_life")
FINANCE_OPTIONS = tuple(f.name for f in dataclasses.fields(Finance) if f.name != "horizon_years")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from batterygym.core.microgrid_generator import MicrogridConfig
    from batterygym.core.microgrid_life import LifeParams
    from batterygym.scale.tasks import add_ray_argument

    parser.add_argument("setting", choices=["microgrid"], help="the setting: microgrid (the BSS microgrid)")
    run = parser.add_argument_group("the run")
    run.add_argument("--mode", choices=["integrated", "standalone", "both"], default="both",
                     help="integrated: station + PV + wind + storage + residents; standalone: the station alone")
    run.add_argument("--days", type=int, default=365, help="days to run, each one env episode")
    run.add_argument("--years", type=float, default=20.0, help="the appraisal's horizon in years")
    run.add_argument("--policy", choices=["rule", "milp"], default="rule",
                     help="dispatch each day by the source's rule or by the day's optimum (MILP, slower)")
    run.add_argument("--discharge-order", choices=["uniform", "uneven"], default=None,
                     help="the rule's storage discharge order: highest SoH first (uniform wear) or lowest first "
                          "(default: uniform; the optimum chooses its own)")
    run.add_argument("--seed", type=int, default=0, help="seed of the days' draws")
    run.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS", help="each day's MILP time limit")
    add_ray_argument(run)
    cfg, life = MicrogridConfig(), LifeParams()
    site = parser.add_argument_group("microgrid (env keywords of MicrogridBSS-v0)")
    for name in CONFIG_OPTIONS:
        site.add_argument(f"--{name.replace('_', '-')}", type=int if name in INTEGER_OPTIONS else float,
                          default=None, metavar="N" if name in INTEGER_OPTIONS else "X",
                          help=f"{name} (default: {getattr(cfg, name)})")
    site.add_argument("--n-packs", default=None, metavar="LIST",
                      help=f"station slots per category {','.join(cfg.categories)} "
                           f"(default: {','.join(map(str, cfg.n_packs))})")
    lc = parser.add_argument_group("life cycle (defaults and sources: batterygym.core.microgrid_life.LifeParams)")
    for name in LIFE_OPTIONS:
        lc.add_argument(f"--{name.replace('_', '-')}", type=float, default=None, metavar="X",
                        help=f"{name.replace('_', ' ')} in full cycles (default: {getattr(life, name):g})")
    fin = parser.add_argument_group("finance (defaults and sources: batterygym.core.finance.Finance)")
    defaults = Finance()
    for name in FINANCE_OPTIONS:
        fin.add_argument(f"--{name.replace('_', '-')}", type=float, default=None, metavar="X",
                         help=f"{FINANCE_HELP[name]} (default: {getattr(defaults, name):g})")
    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the results as JSON")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE",
                     help="save the cumulative cash flows and the packs' SoH (format from the suffix)")


def _read(args: argparse.Namespace) -> tuple[Any, Any, Finance]:
    """The config, life-cycle parameters and finance of the options, or a ValueError naming the option."""
    from batterygym.core.microgrid_generator import MicrogridConfig
    from batterygym.core.microgrid_life import LifeParams

    if args.days < 1:
        raise ValueError(f"--days must be a positive integer, got {args.days}")
    if not (math.isfinite(args.years) and args.years > 0):
        raise ValueError(f"--years must be a positive number, got {args.years:g}")
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit:g}")
    if args.policy == "milp" and args.discharge_order is not None:
        raise ValueError(f"--discharge-order {args.discharge_order}: an option of the rule policy; the optimum "
                         "(--policy milp) chooses its own order")
    given: dict[str, Any] = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    if args.n_packs is not None:
        try:
            given["n_packs"] = tuple(int(x) for x in args.n_packs.split(","))
        except ValueError:
            raise ValueError(f"--n-packs {args.n_packs!r}: give one whole number per category, e.g. 3,3,4,2") from None
    try:
        cfg = MicrogridConfig(**given)
    except ValueError as exc:
        raise option_error(exc) from None
    if args.mode in ("integrated", "both") and cfg.pv_kwp + cfg.wind_rated_kw <= 0:
        raise ValueError(f"--pv-kwp {cfg.pv_kwp:g} and --wind-rated-kw {cfg.wind_rated_kw:g}: the integrated mode "
                         "needs renewables (use --mode standalone for the station alone)")
    try:
        life = LifeParams(**{k: getattr(args, k) for k in LIFE_OPTIONS if getattr(args, k) is not None})
        finance = Finance(**{k: getattr(args, k) for k in FINANCE_OPTIONS if getattr(args, k) is not None})
    except ValueError as exc:
        raise option_error(exc) from None
    return cfg, life, finance


def year_piece(piece: tuple[Any, dict[str, Any], bool]) -> Any:
    """One mode's year, ``(cfg, run_year keywords, day bar)``: a piece of the command's fan-out."""
    from tqdm.auto import tqdm

    from batterygym.benchmarks.microgrid_year import run_year

    cfg, kwargs, bar = piece

    def days_bar(days: Any) -> Any:
        return tqdm(days, desc=f"{kwargs['mode']} days", unit="day", file=sys.stderr, disable=None)

    return run_year(cfg, **kwargs, progress=days_bar if bar else None)


def run(args: argparse.Namespace) -> int:
    from batterygym.benchmarks.microgrid_year import MODES, appraise_year
    from batterygym.scale.tasks import map_tasks

    check_output_paths(args)
    cfg, life, finance = _read(args)
    modes = MODES if args.mode == "both" else (args.mode,)
    order = None if args.policy == "milp" else (args.discharge_order or "uniform")
    kwargs = {"days": args.days, "policy": args.policy, "discharge_order": order, "seed": args.seed, "life": life,
              "time_limit": args.time_limit}
    years = map_tasks(year_piece, [(cfg, kwargs | {"mode": m}, args.ray is None) for m in modes], keys=modes,
                      ray=args.ray, ray_cpus=args.ray_cpus, desc="modes", unit="year", progress=args.ray is not None)
    runs = dict(zip(modes, years, strict=True))
    results = {mode: appraise_year(runs[mode], finance, args.years) for mode in modes}
    print(format_economics(results))
    if args.json is not None:
        payload = results | {"config": {k: getattr(args, k) for k in (*CONFIG_OPTIONS, "n_packs")
                                        if getattr(args, k) is not None},
                             "finance": dataclasses.asdict(finance), "life": dataclasses.asdict(life)}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.plot is not None:
        from batterygym.benchmarks.microgrid_plots import plot_economics

        print(f"wrote {plot_economics(results, runs, args.plot)}")
    return 0


def _eur(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def format_economics(results: dict[str, dict[str, Any]]) -> str:
    """One column per mode: capex, yearly cash by stream and term, profit, the investment metrics, shares and
    pack counts."""
    modes = list(results)
    first = results[modes[0]]
    head = (f"{first['days']} day(s) by the {first['policy']}"
            + (f" ({first['discharge_order']} discharge order)" if first["discharge_order"] else "")
            + f", cash per year over {first['years']:g} years (EUR)")
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, get: Any) -> None:
        rows.append((label, [get(results[m]) for m in modes]))

    for item in first["capex_by_item_eur"]:
        add(f"capex: {item.removesuffix('_eur')}", lambda r, item=item: _eur(r["capex_by_item_eur"][item]))
    add("capex", lambda r: _eur(r["capex_eur"]))
    for k in first["annual_revenue_eur"]:
        add(f"revenue: {k.removesuffix('_eur')}", lambda r, k=k: _eur(r["annual_revenue_eur"][k]))
    for k in first["annual_cost_eur"]:
        add(f"cost: {k.removesuffix('_eur').replace('_', ' ')}", lambda r, k=k: _eur(r["annual_cost_eur"][k]))
    add("profit per year", lambda r: _eur(r["annual_profit_eur"]))
    add("simple payback (years)", lambda r: "never" if r["simple_payback_years"] is None
        else f"{r['simple_payback_years']:.2f}")
    add("NPV", lambda r: _eur(r["npv_eur"]))
    add("IRR", lambda r: "-" if r["irr"] is None else f"{100 * r['irr']:.1f} %")
    add("storage share of energy", lambda r: f"{100 * r['storage_share']:.1f} %")
    add("renewable share", lambda r: f"{100 * r['renewable_share']:.1f} %")
    add("swaps served", lambda r: f"{100 * r['swaps_served_share']:.1f} % of {r['swaps_requested']:,.0f}")
    add("station packs retired", lambda r: str(r["retired_packs"]))
    add("transferred to storage", lambda r: str(r["transferred_packs"]))
    add("storage packs depleted", lambda r: str(r["depleted_packs"]))
    add("not cash: penalties, wear", lambda r: _eur(sum(r["annual_non_cash_eur"].values())))
    if any(r["unproven_days"] for r in results.values()):
        add("days not proven optimal", lambda r: f"{r['unproven_days']} (gap <= {100 * r['worst_gap']:.3g} %)")
    w = max(len(label) for label, _ in rows) + 2
    cw = max(14, *(len(v) + 2 for _, vals in rows for v in vals))
    lines = [head, "", f"{'':<{w}}" + "".join(f"{m:>{cw}}" for m in modes)]
    lines += [f"{label:<{w}}" + "".join(f"{v:>{cw}}" for v in vals) for label, vals in rows]
    return "\n".join(lines)
