"""Techno-economics of a second-life battery at an industrial site: size, lifetime, payback, sweeps.

Every number comes from the one model: a dispatch is the industrial MILP's (the env's money), a
sizing is the same MILP with capacity and power as variables (:mod:`batterygym.baselines.sizing`),
a lifetime is the SoH path of the degradation model over the solved period, scaled to a year. The
money is turned into yearly cash flows by :mod:`batterygym.core.finance`: the capex in year 0, the
annual saving on the bill (energy and demand charges) less O&M for the analysis horizon, and a
replacement pack bought each time the pack reaches end of life within the horizon.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from batterygym.core.finance import Appraisal, Finance, appraise
from batterygym.core.industrial import IndustrialScenario, cost_breakdown, simulate
from batterygym.core.tariff import DAYS_PER_MONTH

DAYS_PER_YEAR = 365.25
SWEEP_PARAMS = ("tariff_spread", "pack_price", "cycle_cap", "demand_charge", "load_scale")
BREAK_EVEN_PARAMS = ("tariff_spread", "pack_price")
BILL_TERMS = ("energy_eur", "demand_eur", "degradation_eur")


@dataclass(frozen=True)
class Operation:
    """A battery's year at the site, from one solved dispatch: the bill and the ageing, per year."""

    capacity_kwh: float
    power_kw: float
    bill_with: dict[str, float]  # per year: energy_eur, demand_eur, degradation_eur, total_eur
    bill_without: dict[str, float]
    annual_saving_eur: float  # cash: energy and demand charges saved (the wear is not a payment)
    throughput_kwh_per_year: float  # charged plus discharged
    discharge_kwh_per_year: float
    equivalent_full_cycles_per_year: float  # energy charged / the pack's initial usable capacity
    soh_fade_per_year: float
    years_to_end_of_life: float | None  # None: it does not age

    @classmethod
    def of(cls, s: IndustrialScenario, schedule: pd.DataFrame) -> Operation:
        """The year of ``s``'s battery running ``schedule`` (a :func:`simulate` record)."""
        years = s.days / DAYS_PER_YEAR
        b = s.battery
        idle = simulate(s, np.zeros(s.n_steps))
        with_, without = _bill(schedule, years), _bill(idle, years)
        charged = float(schedule["battery_kw"].clip(lower=0).sum()) * s.dt_h / years
        discharged = float((-schedule["battery_kw"]).clip(lower=0).sum()) * s.dt_h / years
        fade = (b.soh0 - float(schedule["soh"].iloc[-1])) / years
        life = (b.soh0 - b.soh_end_of_life) / fade if fade > 0 else None
        saving = (without["energy_eur"] + without["demand_eur"]) - (with_["energy_eur"] + with_["demand_eur"])
        return cls(b.capacity_kwh, b.p_charge_kw, with_, without, saving, charged + discharged, discharged,
                   charged / (b.soh0 * b.capacity_kwh), fade, life)


def _bill(schedule: pd.DataFrame, years: float) -> dict[str, float]:
    totals = cost_breakdown(schedule)
    out = {k: totals[k] / years for k in BILL_TERMS}
    out["total_eur"] = sum(out.values())
    return out


def appraise_operation(op: Operation, finance: Finance, soh0: float) -> Appraisal:
    """Capex, NPV, IRR, paybacks and LCOS of a battery operated as ``op`` over the finance horizon."""
    capex = finance.capex(op.capacity_kwh, op.power_kw, soh0)
    pack = finance.pack_price_eur_per_kwh * soh0 * op.capacity_kwh
    life = math.inf if op.years_to_end_of_life is None else op.years_to_end_of_life
    return appraise(finance, capex, op.annual_saving_eur, life, op.discharge_kwh_per_year, replacement_eur=pack)


@dataclass(frozen=True)
class SizingResult:
    """The chosen battery and its economics (all money per year unless named otherwise)."""

    capacity_kwh: float
    power_kw: float
    capex_eur: float
    annual_saving_eur: float
    npv_eur: float
    irr: float | None
    simple_payback_years: float | None
    discounted_payback_years: float | None
    lcos_eur_per_kwh: float | None
    years_to_end_of_life: float | None
    annual_cost_eur: float  # the sizing objective: bill plus annualised capital cost
    annual_cost_no_battery_eur: float
    candidate_capacity_kwh: float  # the best battery, also when it does not pay
    candidate_power_kw: float
    operation: Operation | None
    status: str
    build_seconds: float
    solve_seconds: float
    schedule: pd.DataFrame | None = field(default=None, repr=False)
    scenario: IndustrialScenario | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-clean: the headline keys at the top level, then the bills and the ageing."""
        out = {k: _clean(getattr(self, k)) for k in (
            "capacity_kwh", "power_kw", "capex_eur", "annual_saving_eur", "npv_eur", "irr", "simple_payback_years",
            "discounted_payback_years", "lcos_eur_per_kwh", "years_to_end_of_life", "annual_cost_eur",
            "annual_cost_no_battery_eur", "candidate_capacity_kwh", "candidate_power_kw", "status",
            "build_seconds", "solve_seconds")}
        if self.operation is not None:
            out["operation"] = {k: _clean(v) for k, v in asdict(self.operation).items()}
        return out


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x


def size(s: IndustrialScenario, finance: Finance | None = None, **bounds: Any) -> SizingResult:
    """Size the battery for the scenario's period (a year for a year of data): the sizing MILP's
    choice and its economics. ``bounds``: ``max_capacity_kwh``, ``max_power_kw``, ``fixed_capacity_kwh``,
    ``fixed_power_kw``, ``capex_budget_eur``, ``time_limit``; ``s.battery`` gives all but the size."""
    from batterygym.baselines.sizing import solve_sizing

    finance = Finance() if finance is None else finance
    sol = solve_sizing(s, finance, **bounds)
    common = dict(annual_cost_eur=sol.annual_cost_eur, annual_cost_no_battery_eur=sol.annual_cost_no_battery_eur,
                  candidate_capacity_kwh=sol.candidate_capacity_kwh, candidate_power_kw=sol.candidate_power_kw,
                  status=sol.status, build_seconds=sol.build_seconds, solve_seconds=sol.solve_seconds)
    if sol.scenario is None:
        return SizingResult(0.0, 0.0, 0.0, 0.0, 0.0, None, None, None, None, None, operation=None, **common)
    op = Operation.of(sol.scenario, sol.plan.schedule)
    a = appraise_operation(op, finance, s.battery.soh0)
    return SizingResult(sol.capacity_kwh, sol.power_kw, a.capex_eur, a.annual_saving_eur, a.npv_eur, a.irr,
                        a.simple_payback_years, a.discounted_payback_years, a.lcos_eur_per_kwh,
                        op.years_to_end_of_life, operation=op, schedule=sol.plan.schedule, scenario=sol.scenario,
                        **common)


def with_wear_of(s: IndustrialScenario, finance: Finance) -> IndustrialScenario:
    """The scenario whose battery's wear cost is the pack value ``finance``'s pack price gives it."""
    from batterygym.baselines.sizing import pack_wear_eur_per_kwh

    b = s.battery
    wear = pack_wear_eur_per_kwh(finance, b.soh0, b.soh_end_of_life, b.fade_per_cycle)
    return replace(s, battery=replace(b, degradation_cost_per_kwh=wear), charge_budget_kwh=None)


def operate(s: IndustrialScenario, finance: Finance, time_limit: float = 300.0) -> tuple[Operation, Appraisal]:
    """The dispatch optimum of the scenario's battery (the env's MILP, its wear valued at the
    finance's pack price) and its economics."""
    from batterygym.baselines.industrial import solve

    s = with_wear_of(s, finance)
    plan = solve(s, time_limit=time_limit)
    op = Operation.of(s, plan.schedule)
    return op, appraise_operation(op, finance, s.battery.soh0)


# ---------------------------------------------------------------------------------------- lifetime
@dataclass(frozen=True)
class LifetimeRow:
    """One throughput cap's year: how hard the pack cycles, how long it lives, what it earns."""

    cap: float | None  # equivalent full cycles a day; None: no cap
    throughput_kwh_per_year: float
    equivalent_full_cycles_per_year: float
    soh_fade_per_year: float
    years_to_end_of_life: float | None
    life_extension: float | None  # against the uncapped optimum (0.35: lives 35 % longer)
    annual_saving_eur: float
    npv_eur: float
    binds: bool  # whether the cap limits the dispatch (the optimum charges up to it)

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def with_cycle_cap(s: IndustrialScenario, cap: float | None) -> IndustrialScenario:
    """The scenario with the battery's throughput cap set (equivalent full cycles a day; None: none)."""
    if cap is not None and not (math.isfinite(cap) and cap >= 0):
        raise ValueError(f"cycle cap must be a non-negative number or none, got {cap!r}")
    return replace(s, battery=replace(s.battery, max_cycles_per_day=cap), charge_budget_kwh=None)


def lifetime(s: IndustrialScenario, caps: Sequence[float | None], finance: Finance | None = None,
             progress: bool = False, target_extension: float | None = None, ray: str | None = None,
             ray_cpus: int | None = None) -> list[LifetimeRow]:
    """Re-solve the period under each cycle cap (in the order given); the extension is against no cap.

    The caps' solves are the pieces of one :func:`~batterygym.scale.tasks.map_tasks` (Ray tasks on the
    cluster ``ray`` names). ``target_extension`` (e.g. 0.35) appends the row of the cap at which the pack
    lives that much longer than uncapped, found by :func:`cap_for_extension` (its bisection is serial).
    """
    from batterygym.scale.tasks import map_tasks

    finance = Finance() if finance is None else finance
    if target_extension is not None and not (math.isfinite(target_extension) and target_extension > 0):
        raise ValueError(f"target_extension must be a positive share (0.35 = 35 % longer), got {target_extension!r}")
    unique = list(dict.fromkeys([None, *caps]))
    done = map_tasks(_operate, [(with_cycle_cap(s, cap), finance) for cap in unique],
                     keys=[f"cap {'none' if c is None else f'{c:g}'}" for c in unique], ray=ray, ray_cpus=ray_cpus,
                     desc="caps", unit="solve", progress=progress)
    runs = dict(zip(unique, done, strict=True))
    if target_extension is not None:
        cap = cap_for_extension(s, target_extension, finance, runs)
        caps = [*caps, cap]
    base_life = runs[None][0].years_to_end_of_life
    rows = []
    for cap in caps:
        op, a = runs[cap]
        life = op.years_to_end_of_life
        ext = None if life is None or base_life is None else life / base_life - 1.0
        binds = cap is not None and op.equivalent_full_cycles_per_year * s.days / DAYS_PER_YEAR >= (
            cap * s.days * (1 - 1e-6))
        rows.append(LifetimeRow(cap, op.throughput_kwh_per_year, op.equivalent_full_cycles_per_year,
                                op.soh_fade_per_year, life, ext, op.annual_saving_eur, a.npv_eur, binds))
    return rows


def _operate(piece: tuple[IndustrialScenario, Finance]) -> tuple[Operation, Appraisal]:
    """One piece of a lifetime or sweep: :func:`operate` of ``(scenario, finance)``."""
    return operate(*piece)


def cap_for_extension(s: IndustrialScenario, target: float, finance: Finance,
                      runs: dict[float | None, tuple[Operation, Appraisal]], rel_tol: float = 0.005) -> float:
    """The cycle cap (equivalent full cycles a day) at which the pack lives ``1 + target`` times as
    long as uncapped; solved runs are added to ``runs``. Without calendar fade life is inversely
    proportional to throughput, so the first guess, the uncapped cycles a day over ``1 + target``,
    is usually it; otherwise it is bisected to ``rel_tol`` of the extension."""
    base = runs.setdefault(None, operate(s, finance))[0]
    if base.years_to_end_of_life is None:
        raise ValueError("target_extension: the pack does not age (no throughput and no calendar fade)")
    per_day = base.equivalent_full_cycles_per_year / DAYS_PER_YEAR

    def extension(cap: float) -> float:
        if cap not in runs:
            runs[cap] = operate(with_cycle_cap(s, cap), finance)
        life = runs[cap][0].years_to_end_of_life
        return math.inf if life is None else life / base.years_to_end_of_life - 1.0

    lo, hi = 0.0, per_day  # extension(lo) = inf >= target >= extension(hi) = 0
    cap = per_day / (1.0 + target)
    for _ in range(30):
        ext = extension(cap)
        if abs(ext - target) <= rel_tol * target:
            return cap
        lo, hi = (cap, hi) if ext > target else (lo, cap)
        cap = 0.5 * (lo + hi)
    return cap


# ---------------------------------------------------------------------------------------- sweeps
def with_tariff_spread(s: IndustrialScenario, spread: float) -> IndustrialScenario:
    """Import prices stretched about their minimum so that max - min is ``spread`` (EUR/kWh)."""
    if not (math.isfinite(spread) and spread >= 0):
        raise ValueError(f"tariff_spread must be a non-negative number (EUR/kWh), got {spread!r}")
    p = s.price_import
    lo, width = float(p.min()), float(p.max() - p.min())
    if width <= 0:
        raise ValueError("tariff_spread: the import price is flat, there is no spread to scale")
    return replace(s, price_import=lo + (p - lo) * (spread / width), charge_budget_kwh=None,
                   terminal_value_eur_per_kwh=None)


def monthly_demand_rate(s: IndustrialScenario) -> float:
    """The scenario's demand charge per kW and month (a single short period is a pro-rated month)."""
    if s.n_periods > 1 or s.days > DAYS_PER_MONTH:
        return s.demand_charge_eur_per_kw
    return s.demand_charge_eur_per_kw * DAYS_PER_MONTH / s.days


def with_demand_charge(s: IndustrialScenario, per_month: float) -> IndustrialScenario:
    if not (math.isfinite(per_month) and per_month >= 0):
        raise ValueError(f"demand_charge must be a non-negative number (EUR/kW per month), got {per_month!r}")
    base = monthly_demand_rate(s)
    rate = per_month if base == 0 else s.demand_charge_eur_per_kw * per_month / base
    if base == 0 and s.n_periods == 1 and s.days <= DAYS_PER_MONTH:
        rate = per_month * s.days / DAYS_PER_MONTH
    return replace(s, demand_charge_eur_per_kw=rate, charge_budget_kwh=None)


def with_load_scale(s: IndustrialScenario, scale: float) -> IndustrialScenario:
    """The load times ``scale``; the grid connection grows with it when it must."""
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"load_scale must be a positive number, got {scale!r}")
    load = s.load_kw * scale
    need = float((load - s.pv_kw).max())
    return replace(s, load_kw=load, connection_kw=max(s.connection_kw, need * 1.25), charge_budget_kwh=None)


def apply_param(s: IndustrialScenario, finance: Finance, param: str, value: float | None
                ) -> tuple[IndustrialScenario, Finance]:
    """The scenario and finance with one swept parameter set."""
    if param not in SWEEP_PARAMS:
        raise ValueError(f"param must be one of {', '.join(SWEEP_PARAMS)}, got {param!r}")
    if param == "cycle_cap":
        return with_cycle_cap(s, value), finance
    if value is None:
        raise ValueError(f"{param}: 'none' is a value for cycle_cap only")
    if param == "tariff_spread":
        return with_tariff_spread(s, value), finance
    if param == "pack_price":
        return s, replace(finance, pack_price_eur_per_kwh=value)
    if param == "demand_charge":
        return with_demand_charge(s, value), finance
    return with_load_scale(s, value), finance


@dataclass(frozen=True)
class SweepPoint:
    value: float | None
    capacity_kwh: float
    power_kw: float
    annual_saving_eur: float
    npv_eur: float
    irr: float | None
    simple_payback_years: float | None
    years_to_end_of_life: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def evaluate(s: IndustrialScenario, finance: Finance, resize: bool = False) -> SweepPoint:
    """The economics of the scenario's battery (dispatch optimum) or, with ``resize``, of the best size."""
    if resize:
        r = size(s, finance)
        return SweepPoint(None, r.capacity_kwh, r.power_kw, r.annual_saving_eur, r.npv_eur, r.irr,
                          r.simple_payback_years, r.years_to_end_of_life)
    op, a = operate(s, finance)
    return SweepPoint(None, op.capacity_kwh, op.power_kw, op.annual_saving_eur, a.npv_eur, a.irr,
                      a.simple_payback_years, op.years_to_end_of_life)


@dataclass(frozen=True)
class SweepResult:
    param: str
    points: list[SweepPoint]
    break_even: float | None  # where NPV turns positive (tariff_spread, pack_price); None: not bracketed

    def to_dict(self) -> dict[str, Any]:
        return {"param": self.param, "break_even": _clean(self.break_even),
                "points": [p.to_dict() for p in self.points]}


def sweep(s: IndustrialScenario, param: str, values: Sequence[float | None], finance: Finance | None = None, *,
          resize: bool = False, break_even_tol: float = 0.01, progress: bool = False, ray: str | None = None,
          ray_cpus: int | None = None) -> SweepResult:
    """Re-solve for each value of ``param``; for tariff spread and pack price, bisect the break-even.

    The values' solves are the pieces of one :func:`~batterygym.scale.tasks.map_tasks` (Ray tasks on the
    cluster ``ray`` names). The break-even is bisected between the two neighbouring values where NPV
    changes sign, to ``break_even_tol`` of that interval's width (serially: each step needs the last).
    """
    from batterygym.scale.tasks import map_tasks

    finance = Finance() if finance is None else finance
    if not values:
        raise ValueError("values: give at least one value")
    values = list(values)
    points = map_tasks(_sweep_point, [(s, finance, param, v, resize) for v in values],
                       keys=[f"{param} {'none' if v is None else f'{v:g}'}" for v in values], ray=ray,
                       ray_cpus=ray_cpus, desc=param, unit="solve", progress=progress)

    def at(v: float) -> SweepPoint:
        return _sweep_point((s, finance, param, v, resize))

    be = None
    if param in BREAK_EVEN_PARAMS:
        pts = sorted((p for p in points if p.value is not None), key=lambda p: p.value)
        for a, b in zip(pts, pts[1:], strict=False):
            if (a.npv_eur > 0) != (b.npv_eur > 0):
                be = bisect(lambda v: at(v).npv_eur, a.value, b.value, a.npv_eur, break_even_tol * (b.value - a.value))
                break
    return SweepResult(param, points, be)


def _sweep_point(piece: tuple[IndustrialScenario, Finance, str, float | None, bool]) -> SweepPoint:
    """One piece of a sweep: the point of ``(scenario, finance, param, value, resize)``."""
    s, finance, param, v, resize = piece
    s2, f2 = apply_param(s, finance, param, v)
    return replace(evaluate(s2, f2, resize), value=v)


def bisect(f: Callable[[float], float], lo: float, hi: float, f_lo: float, tol: float) -> float:
    """A point where ``f`` changes sign between ``lo`` and ``hi``, to within ``tol``."""
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
