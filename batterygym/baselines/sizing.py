"""Battery sizing: the industrial dispatch MILP with capacity and power as decisions and their capital cost.

The model is :func:`batterygym.baselines.industrial.build_model` with a :class:`Sizing`: the same
rows as the dispatch, with the nominal capacity ``Cap`` (kWh) and power ``P`` (kW) as variables. It
minimises the episode's bill (energy and demand charges, as the env pays them) plus the capital cost
of the episode's share of a year (``days / 365.25``), each part annualised:

    power electronics and installation:  (CRF(r, H) + om) * (power_price * P + fixed)
    pack (capex_pack = pack_price * soh0 * Cap):  om * capex_pack + z,
        z >= CRF(r, H) * capex_pack                                   (it lasts the horizon H)
        z >= H CRF(r, H) * (wear * throughput_per_year + capex_pack * calendar_per_year / (soh0 - soh_eol))

``z`` is the larger of the pack's annuity over the horizon and the value its ageing wears off it per
year (``wear`` = pack value per kWh of throughput, the env's degradation cost of a second-life
pack), discounted like the annuity: a pack that cycles so hard it needs replacing within the
horizon pays for its throughput, so the optimiser sees that harder cycling shortens its life. The
two meet where the pack lasts exactly the horizon. The fixed installation cost is paid only when a
battery is built: the sized battery is compared with no battery, exactly, outside the LP.

The chosen size, fixed in a scenario, replays the plan's dispatch in ``Industrial-v0`` exactly.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from batterygym.baselines.industrial import Sizing, build_model, dispatch_plan
from batterygym.baselines.plan import Plan
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.battery import wear_cost_per_kwh
from batterygym.core.finance import Finance, capital_recovery_factor
from batterygym.core.industrial import IndustrialScenario, simulate

DAYS_PER_YEAR = 365.25
MIN_SIZE = 1e-3  # kWh or kW below which the optimiser built no battery


def pack_wear_eur_per_kwh(finance: Finance, soh0: float, soh_end_of_life: float, fade_per_cycle: float) -> float:
    """Value a second-life pack loses per kWh of throughput at the finance's pack price."""
    return wear_cost_per_kwh(finance.pack_price_eur_per_kwh, soh0, soh_end_of_life, fade_per_cycle)


@dataclass(frozen=True)
class SizingSolution:
    """The sizing MILP's answer: the size, the scenario that fixes it, and its dispatch plan."""

    capacity_kwh: float
    power_kw: float
    scenario: IndustrialScenario | None  # the site with the chosen battery (None: no battery pays)
    plan: Plan | None  # the chosen battery's dispatch in Industrial-v0's action space
    annual_cost_eur: float  # the objective per year: bill plus annualised capital cost
    annual_cost_no_battery_eur: float  # the bill per year with no battery
    candidate_capacity_kwh: float  # the LP's best battery, also when it does not pay
    candidate_power_kw: float
    status: str
    build_seconds: float
    solve_seconds: float


def sizing_scenario(s: IndustrialScenario, capacity_kwh: float, power_kw: float) -> IndustrialScenario:
    """The site with a battery of the given nominal capacity and power, and no wear cost: in a
    sizing, the pack's ageing is paid through its capital cost (module docstring)."""
    b = replace(s.battery, capacity_kwh=capacity_kwh, p_charge_kw=power_kw, p_discharge_kw=power_kw,
                degradation_cost_per_kwh=0.0)
    return replace(s, battery=b, charge_budget_kwh=None)


def idle_bill(s: IndustrialScenario) -> float:
    """The episode's bill with the battery idle (energy and demand charges)."""
    df = simulate(s, np.zeros(s.n_steps))
    return float(df["energy_eur"].sum() + df["demand_eur"].sum())


def solve_sizing(
    s: IndustrialScenario,
    finance: Finance,
    *,
    max_capacity_kwh: float | None = None,
    max_power_kw: float | None = None,
    fixed_capacity_kwh: float | None = None,
    fixed_power_kw: float | None = None,
    capex_budget_eur: float = math.inf,
    time_limit: float = 300.0,
    mip_gap: float = 1e-7,
    always_build: bool = False,
) -> SizingSolution:
    """Choose capacity and power with their dispatch over the scenario (module docstring).

    Bounds default to 10 hours of the grid connection (kWh) and the connection (kW); a fixed choice
    replaces its bound. ``s.battery`` gives everything but the size: efficiencies, SoC window, fade,
    cycle cap (``max_cycles_per_day``), initial state. ``always_build`` returns the LP's battery even
    when no battery would cost less (to price a fixed size that does not pay).
    """
    b = s.battery
    if not b.soh_end_of_life < b.soh0:
        raise ValueError(f"soh_end_of_life must be below soh0 = {b.soh0!r}, got {b.soh_end_of_life!r}")
    for name, value in (("max_capacity_kwh", max_capacity_kwh), ("max_power_kw", max_power_kw),
                        ("fixed_capacity_kwh", fixed_capacity_kwh), ("fixed_power_kw", fixed_power_kw)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if math.isnan(capex_budget_eur) or capex_budget_eur <= 0:
        raise ValueError(f"capex_budget_eur must be positive, got {capex_budget_eur!r}")
    if capex_budget_eur < finance.fixed_cost_eur:
        raise ValueError(f"capex_budget_eur = {capex_budget_eur:g} EUR is below the fixed installation cost "
                         f"{finance.fixed_cost_eur:g} EUR: no battery fits the budget")
    cap_hi = 10.0 * s.connection_kw if max_capacity_kwh is None else max_capacity_kwh
    p_hi = s.connection_kw if max_power_kw is None else max_power_kw
    cap0 = fixed_capacity_kwh if fixed_capacity_kwh is not None else cap_hi
    p0 = fixed_power_kw if fixed_power_kw is not None else p_hi
    base = sizing_scenario(s, cap0, p0)

    years = s.days / DAYS_PER_YEAR
    crf = capital_recovery_factor(finance.discount_rate, finance.horizon_years)
    om = finance.om_share_per_year
    pack_per_kwh = finance.pack_price_eur_per_kwh * b.soh0  # capex per kWh of nominal capacity
    sizing = Sizing(
        max_capacity_kwh=None if fixed_capacity_kwh is not None else cap_hi,
        max_power_kw=None if fixed_power_kw is not None else p_hi,
        capital_per_kwh=years * om * pack_per_kwh,
        capital_per_kw=years * (crf + om) * finance.power_price_eur_per_kw,
        capex_per_kwh=pack_per_kwh, capex_per_kw=finance.power_price_eur_per_kw,
        capex_budget_eur=capex_budget_eur - finance.fixed_cost_eur,
    )
    t0 = time.perf_counter()
    m = build_model(base, sizing)
    worn = finance.horizon_years * crf  # the worn value, discounted like the annuity
    wear = pack_wear_eur_per_kwh(finance, b.soh0, b.soh_end_of_life, b.fade_per_cycle) * s.dt_h
    calendar_per_year = b.calendar_fade_per_day * DAYS_PER_YEAR / (b.soh0 - b.soh_end_of_life)
    m.z = pyo.Var(within=pyo.NonNegativeReals)  # the pack's annualised cost over the episode
    m.pack_annuity = pyo.Constraint(expr=m.z >= years * crf * pack_per_kwh * m.cap)
    bat = m.batteries
    m.pack_worn = pyo.Constraint(expr=m.z >= worn * (wear * pyo.quicksum(bat.c[key] + bat.d[key] for key in bat.c)
                                                     + years * calendar_per_year * pack_per_kwh * m.cap))
    m.cost.expr = m.cost.expr + m.z
    build_s = time.perf_counter() - t0
    info = solve_exclusive(m, [bat], what="industrial sizing MILP", time_limit=time_limit, mip_gap=mip_gap)
    cap, pw = float(m.cap.value), float(m.pw.value)
    fixed_cost = years * (crf + om) * finance.fixed_cost_eur
    no_battery = idle_bill(base)
    total = info.objective + fixed_cost
    if cap < MIN_SIZE or pw < MIN_SIZE or (total >= no_battery and not always_build):
        return SizingSolution(0.0, 0.0, None, None, no_battery / years, no_battery / years, cap, pw,
                              info.status, build_s, info.seconds)
    chosen = sizing_scenario(s, cap, pw)
    plan = dispatch_plan(chosen, bat.charge_kw()[0], bat.discharge_kw()[0])
    plan.status, plan.build_seconds, plan.solve_seconds, plan.mip_gap = info.status, build_s, info.seconds, info.gap
    plan.solver_seconds = info.solver_seconds
    return SizingSolution(cap, pw, chosen, plan, total / years, no_battery / years, cap, pw, info.status,
                          build_s, info.seconds)


def annual_cost(s: IndustrialScenario, finance: Finance, capacity_kwh: float, power_kw: float,
                schedule: pd.DataFrame) -> float:
    """The sizing objective of a battery running ``schedule`` (a :func:`simulate` record on
    :func:`sizing_scenario`), per year, computed in plain numpy: the bill plus the annualised capital
    cost of the module docstring, with the fixed cost. What :func:`solve_sizing` minimises."""
    b = s.battery
    years = s.days / DAYS_PER_YEAR
    crf = capital_recovery_factor(finance.discount_rate, finance.horizon_years)
    om = finance.om_share_per_year
    pack = finance.pack_price_eur_per_kwh * b.soh0 * capacity_kwh
    electronics = finance.power_price_eur_per_kw * power_kw + finance.fixed_cost_eur
    throughput = float(schedule["battery_kw"].abs().sum()) * s.dt_h / years
    wear = pack_wear_eur_per_kwh(finance, b.soh0, b.soh_end_of_life, b.fade_per_cycle)
    calendar = b.calendar_fade_per_day * DAYS_PER_YEAR / (b.soh0 - b.soh_end_of_life)
    z = max(crf * pack, finance.horizon_years * crf * (wear * throughput + calendar * pack))
    bill = -float(schedule["reward"].sum()) / years  # energy, demand, terminal credit (no wear in a sizing)
    return bill + om * pack + (crf + om) * electronics + z
