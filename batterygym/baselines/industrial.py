"""Perfect-foresight MILP of an industrial episode: the env's equations, written for HiGHS.

Minimises the episode's cost (the negative of the env's total reward):

    sum_t dt * (price_import[t] * imp[t] - price_export[t] * exp[t])
    + sum_k rate[k] * peak[k] - rate[0] * initial_peak + wear * dt * sum_t (c[t] + d[t])
    - terminal_value * (E[T] - E[0])
s.t. imp[t] - exp[t] = net[t] + c[t] - d[t];  peak[k(t)] >= imp[t];  peak[0] >= initial_peak
     0 <= c[t] <= charge_limit[t];  0 <= d[t] <= discharge_limit[t];  c[t] * d[t] = 0 (binary)
     E[t+1] = E[t] + eta_c c[t] dt - d[t] dt / eta_d
     K[t+1] = K[t] - (fade_per_cycle / 2) (c[t] + d[t]) dt - calendar_fade * Cap
     soc_min K[t+1] <= E[t+1] <= soc_max K[t+1];  sum_t c[t] dt <= charge_budget
with ``K = SoH * Cap`` the remaining capacity in kWh and ``k(t)`` the step's billing period. Every
coefficient comes from the scenario and `core` (limits, fade, terminal value).

The same model sizes the battery (:mod:`batterygym.baselines.sizing`): with a :class:`Sizing`, the
nominal capacity ``Cap`` and the power rating ``P`` are variables, ``E[0] = soc0 soh0 Cap``,
``K[0] = soh0 Cap``, ``E[T] >= E[0]``, ``c[t], d[t] <= P``, the cycle cap's budget is
``cycles * days * soh0 Cap``, and
the objective adds the capital terms ``capital_per_kwh * Cap + capital_per_kw * P``. Written in
``K`` rather than ``SoH``, every row stays linear when ``Cap`` is a variable.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.plan import Plan, plan_actions
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.battery import power_bounds, step_battery
from batterygym.core.industrial import IndustrialScenario, simulate


@dataclass(frozen=True)
class Sizing:
    """Capacity and power as decisions: their bounds (None: fixed at the scenario battery's) and the
    capital cost charged per kWh of nominal capacity and per kW of power over the episode (EUR)."""

    max_capacity_kwh: float | None
    max_power_kw: float | None
    capital_per_kwh: float
    capital_per_kw: float
    capex_per_kwh: float = 0.0  # for a capex budget: capex per kWh of nominal capacity and per kW
    capex_per_kw: float = 0.0
    capex_budget_eur: float = math.inf  # capex of the variable parts allowed


def build_model(s: IndustrialScenario, sizing: Sizing | None = None) -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components.

    Each row is written directly as ``(lower, linear expression, upper)`` with plain floats: a year
    (8,760 steps, 52k rows) builds and translates in half the time of operator expressions.
    ``sizing`` makes the capacity and power variables (module docstring).
    """
    b = s.battery
    n, dt = s.n_steps, s.dt_h
    net, pi, pe = s.net_kw.tolist(), s.price_import.tolist(), s.price_export.tolist()
    eta_c, inv_eta_d = b.eta_charge * dt, dt / b.eta_discharge  # per kW of c or d
    fade = 0.5 * b.fade_per_cycle * dt  # remaining capacity lost per kW of c or d in a step
    cal = b.calendar_fade(dt)  # share of nominal capacity lost per step
    lo, hi = b.soc_min, b.soc_max

    m = pyo.ConcreteModel(name="industrial")
    m.T = pyo.RangeSet(0, n - 1)
    m.T1 = pyo.RangeSet(0, n)
    m.P = pyo.RangeSet(0, s.n_periods - 1)
    if sizing is None:
        c_max, d_max = s.charge_limit_kw.tolist(), s.discharge_limit_kw.tolist()
    else:
        c_max, d_max = s.site_charge_limit_kw.tolist(), s.site_discharge_limit_kw.tolist()
        if sizing.max_power_kw is not None:
            c_max = np.minimum(c_max, sizing.max_power_kw).tolist()
            d_max = np.minimum(d_max, sizing.max_power_kw).tolist()
    m.c = pyo.Var(m.T, bounds=dict(enumerate((0.0, x) for x in c_max)))
    m.d = pyo.Var(m.T, bounds=dict(enumerate((0.0, x) for x in d_max)))
    m.imp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.e = pyo.Var(m.T1)
    m.k = pyo.Var(m.T1)
    m.peak = pyo.Var(m.P, bounds=lambda _, k: (s.initial_peak_kw if k == 0 else 0.0, None))
    c, d, imp, ex, e, kap, peak = m.c, m.d, m.imp, m.exp, m.e, m.k, m.peak
    period = s.billing_period.tolist()

    if sizing is None:
        cap = b.capacity_kwh
        m.e[0].fix(b.e0_kwh)
        m.k[0].fix(b.soh0 * cap)
        cal_terms: tuple = ()
        cal_rhs = -cal * cap
    else:
        cap_hi = b.capacity_kwh if sizing.max_capacity_kwh is None else sizing.max_capacity_kwh
        p_hi = b.p_charge_kw if sizing.max_power_kw is None else sizing.max_power_kw
        m.cap = pyo.Var(bounds=(0.0, cap_hi))
        m.pw = pyo.Var(bounds=(0.0, p_hi))
        if sizing.max_capacity_kwh is None:
            m.cap.fix(b.capacity_kwh)
        if sizing.max_power_kw is None:
            m.pw.fix(b.p_charge_kw)
        m.e0_def = pyo.Constraint(expr=(0.0, _lin(e[0], (-b.soc0 * b.soh0, m.cap)), 0.0))
        m.k0_def = pyo.Constraint(expr=(0.0, _lin(kap[0], (-b.soh0, m.cap)), 0.0))
        m.c_rating = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(c[t], (-1, m.pw)), 0.0))
        m.d_rating = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(d[t], (-1, m.pw)), 0.0))
        if math.isfinite(sizing.capex_budget_eur):
            m.capex_budget = pyo.Constraint(expr=(None, _lin((sizing.capex_per_kwh, m.cap),
                                                             (sizing.capex_per_kw, m.pw)), sizing.capex_budget_eur))
        cal_terms = ((cal, m.cap),) if cal else ()
        cal_rhs = 0.0
        # it ends at least as full as it started: a bigger battery's initial energy is no free gift
        m.cyclic = pyo.Constraint(expr=(0.0, _lin(e[n], (-1, e[0])), None))

    # imp[t] - exp[t] - c[t] + d[t] == net[t]
    m.balance = pyo.Constraint(m.T, rule=lambda _, t: (net[t], _lin(imp[t], (-1, ex[t]), (-1, c[t]), d[t]), net[t]))
    # imp[t] - peak[k(t)] <= 0
    m.peak_def = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(imp[t], (-1, peak[period[t]])), 0.0))
    # e[t+1] - e[t] - eta_c dt c[t] + dt / eta_d d[t] == 0
    m.energy = pyo.Constraint(m.T, rule=lambda _, t: (
        0.0, _lin(e[t + 1], (-1, e[t]), (-eta_c, c[t]), (inv_eta_d, d[t])), 0.0))
    # k[t+1] - k[t] + fade dt (c[t] + d[t]) (+ cal Cap) == -cal Cap (the constant when Cap is fixed)
    m.health = pyo.Constraint(m.T, rule=lambda _, t: (
        cal_rhs, _lin(kap[t + 1], (-1, kap[t]), (fade, c[t]), (fade, d[t]), *cal_terms), cal_rhs))
    # soc_min k[t+1] - e[t+1] <= 0;  e[t+1] - soc_max k[t+1] <= 0
    m.soc_lo = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin((lo, kap[t + 1]), (-1, e[t + 1])), 0.0))
    m.soc_hi = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(e[t + 1], (-hi, kap[t + 1])), 0.0))
    if sizing is None:
        if math.isfinite(s.charge_budget_kwh):
            m.budget = pyo.Constraint(expr=dt * pyo.quicksum(c.values()) <= s.charge_budget_kwh)
    elif b.max_cycles_per_day is not None:
        per_kwh = b.max_cycles_per_day * s.days * b.soh0  # charge budget per kWh of nominal capacity
        m.budget = pyo.Constraint(expr=(None, _lin(*((dt, c[t]) for t in range(n)), (-per_kwh, m.cap)), 0.0))

    # energy + demand + wear - credit (+ capital), in the order of terms the sum of its parts gives
    wear = b.degradation_cost_per_kwh * dt
    tv = s.terminal_value_eur_per_kwh
    terms = [t for k in range(n) for t in ((dt * pi[k], imp[k]), (-(dt * pe[k]), ex[k]))]
    terms += [(rate, peak[k]) for k, rate in enumerate(s.period_rate.tolist())]
    terms += [t for k in range(n) for t in ((wear, c[k]), (wear, d[k]))]
    terms.append((-tv, e[n]))
    constant = -(float(s.period_rate[0]) * s.initial_peak_kw)
    if sizing is None:
        constant += tv * b.e0_kwh
    else:
        terms += [(tv * b.soc0 * b.soh0, m.cap), (sizing.capital_per_kwh, m.cap), (sizing.capital_per_kw, m.pw)]
    m.cost = pyo.Objective(expr=LinearExpression([constant, *(MonomialTermExpression(t) for t in terms)]),
                           sense=pyo.minimize)
    return m


def _lin(*terms: object) -> LinearExpression:
    """A linear expression from variables (coefficient 1) and ``(coefficient, variable)`` pairs."""
    return LinearExpression([MonomialTermExpression(t) if type(t) is tuple else t for t in terms])


def feasible_power(s: IndustrialScenario, power: np.ndarray) -> np.ndarray:
    """The solver's powers through the env's own projection (core.power_bounds), step by step.

    HiGHS meets constraints to its feasibility tolerance (~1e-7 scaled); the projection removes that
    residue so the schedule is exactly what the env executes, inside every limit.
    """
    b = s.battery
    e, soh, budget = b.e0_kwh, b.soh0, s.charge_budget_kwh
    out = np.empty_like(power)
    for t, p in enumerate(power.tolist()):
        lo, hi = power_bounds(b, e, soh, s.dt_h, float(s.charge_limit_kw[t]), float(s.discharge_limit_kw[t]), budget)
        p = min(max(p, lo), hi)
        e, soh = step_battery(b, e, soh, p, s.dt_h)
        if p > 0:
            budget = max(budget - p * s.dt_h, 0.0)
        out[t] = p
    return out


def solve(s: IndustrialScenario, *, time_limit: float = 60.0, mip_gap: float = 1e-7,
          all_binaries: bool = False) -> Plan:
    """The optimal dispatch of an industrial episode, as a :class:`Plan` for ``Industrial-v0``."""
    t0 = time.perf_counter()
    m = build_model(s)
    build_s = time.perf_counter() - t0
    pairs = [(t, m.c[t], m.d[t], float(s.charge_limit_kw[t]), float(s.discharge_limit_kw[t]))
             for t in range(s.n_steps)]
    info = solve_exclusive(m, pairs, what="industrial MILP", time_limit=time_limit, mip_gap=mip_gap,
                           all_binaries=all_binaries)
    c = [m.c[t].value or 0.0 for t in range(s.n_steps)]
    d = [m.d[t].value or 0.0 for t in range(s.n_steps)]
    plan = dispatch_plan(s, np.asarray(c), np.asarray(d))
    plan.status, plan.build_seconds, plan.solve_seconds = info.status, build_s, info.seconds
    plan.mip_gap, plan.bound = info.gap, -info.bound
    plan.details = {"binaries": info.n_binaries, "rounds": info.rounds, "milp_objective": -info.objective}
    return plan


def dispatch_plan(s: IndustrialScenario, charge_kw: np.ndarray, discharge_kw: np.ndarray) -> Plan:
    """A solver's charge and discharge as a :class:`Plan` for ``Industrial-v0`` on ``s``.

    The powers go back inside their bounds (HiGHS may leave them outside by its feasibility
    tolerance) and through the env's own projection; the actions are their float32 shares, and the
    objective is what the env pays for exactly those actions, so a replay earns it to rounding.
    """
    b = s.battery
    c = np.clip(charge_kw, 0.0, s.charge_limit_kw)
    d = np.clip(discharge_kw, 0.0, s.discharge_limit_kw)
    power = feasible_power(s, c - d)
    share = np.where(power >= 0,
                     power / b.p_charge_kw if b.p_charge_kw > 0 else 0.0,
                     power / b.p_discharge_kw if b.p_discharge_kw > 0 else 0.0)
    actions = plan_actions(share).reshape(-1, 1)
    a = actions[:, 0].astype(np.float64)
    applied = feasible_power(s, a * np.where(a > 0, b.p_charge_kw, b.p_discharge_kw))  # what the env does
    schedule = simulate(s, applied)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "charge_kw", c)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "discharge_kw", d)
    return Plan(objective=float(schedule["reward"].sum()), actions=actions, schedule=schedule, status="optimal")
