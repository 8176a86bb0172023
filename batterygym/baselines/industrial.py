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
coefficient comes from the scenario and `core` (limits, fade, terminal value). The battery's
variables, rows, wear and terminal credit are :mod:`batterygym.baselines.battery_block`'s (every
MILP's), which writes ``K`` as the capacity lost since the start; the site adds the balance, the peaks
and the prices, and :func:`~batterygym.baselines.solver.solve_exclusive` (every MILP's loop) solves it.

The same model sizes the battery (:mod:`batterygym.baselines.sizing`): with a :class:`Sizing`, the
nominal capacity ``Cap`` and the power rating ``P`` are variables, ``E[0] = soc0 soh0 Cap``,
``K[0] = soh0 Cap``, ``E[T] >= E[0]``, ``c[t], d[t] <= P``, the cycle cap's budget is
``cycles * days * soh0 Cap``, and
the objective adds the capital terms ``capital_per_kwh * Cap + capital_per_kw * P``. Written in kWh
of capacity rather than ``SoH``, every row stays linear when ``Cap`` is a variable.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.battery_block import add_batteries, lin, row
from batterygym.baselines.plan import Plan, plan_actions_of_powers
from batterygym.baselines.solver import paused_gc, solve_exclusive
from batterygym.core.battery import power_bounds, powers_of_shares, step_battery
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


@paused_gc()
def build_model(s: IndustrialScenario, sizing: Sizing | None = None, exclusive: str = "lazy") -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components.

    The battery is :func:`~batterygym.baselines.battery_block.add_batteries`'s components
    ``m.battery_*`` (one unit, index ``(0, t)``; their handle is ``m.batteries``), its rows declared
    after the site's. Each row is written directly as ``(lower, linear expression, upper)`` with plain
    floats: a year (8,760 steps, 52k rows) builds and translates in half the time of operator
    expressions. ``sizing`` makes the capacity and power variables (module docstring); ``exclusive``
    is the block's (``"binary"``: every binary before the first solve).
    """
    b = s.battery
    n, dt = s.n_steps, s.dt_h
    net, pi, pe = s.net_kw.tolist(), s.price_import.tolist(), s.price_export.tolist()

    m = pyo.ConcreteModel(name="industrial")
    m.T = pyo.RangeSet(0, n - 1)
    m.P = pyo.RangeSet(0, s.n_periods - 1)
    if sizing is None:
        bat = add_batteries(m, "battery", [b], dt, charge_max_kw=s.charge_limit_kw[None, :],
                            discharge_max_kw=s.discharge_limit_kw[None, :], n_steps=n,
                            budget_kwh=[s.charge_budget_kwh], exclusive=exclusive, rows=False)
    else:
        c_max, d_max = s.site_charge_limit_kw, s.site_discharge_limit_kw
        if sizing.max_power_kw is not None:
            c_max = np.minimum(c_max, sizing.max_power_kw)
            d_max = np.minimum(d_max, sizing.max_power_kw)
        cap_hi = b.capacity_kwh if sizing.max_capacity_kwh is None else sizing.max_capacity_kwh
        p_hi = b.p_charge_kw if sizing.max_power_kw is None else sizing.max_power_kw
        m.cap = pyo.Var(bounds=(0.0, cap_hi))
        m.pw = pyo.Var(bounds=(0.0, p_hi))
        if sizing.max_capacity_kwh is None:
            m.cap.fix(b.capacity_kwh)
        if sizing.max_power_kw is None:
            m.pw.fix(b.p_charge_kw)
        # the cycle cap's budget per kWh of nominal capacity
        per_kwh = math.inf if b.max_cycles_per_day is None else b.max_cycles_per_day * s.days * b.soh0
        bat = add_batteries(m, "battery", [b], dt, charge_max_kw=c_max[None, :], discharge_max_kw=d_max[None, :],
                            n_steps=n, budget_kwh=[per_kwh], capacity=m.cap, power=m.pw, exclusive=exclusive,
                            rows=False)
        if math.isfinite(sizing.capex_budget_eur):
            m.capex_budget = pyo.Constraint(expr=(None, lin((sizing.capex_per_kwh, m.cap),
                                                            (sizing.capex_per_kw, m.pw)), sizing.capex_budget_eur))
        # it ends at least as full as it started: a bigger battery's initial energy is no free gift
        m.cyclic = pyo.Constraint(expr=(0.0, lin(bat.e[0, n], (-1, bat.e[0, 0])), None))
    m.batteries = bat
    c = [bat.c[0, t] for t in range(n)]
    d = [bat.d[0, t] for t in range(n)]
    m.imp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.peak = pyo.Var(m.P, bounds=lambda _, k: (s.initial_peak_kw if k == 0 else 0.0, None))
    imp, ex, peak = (list(v.values()) for v in (m.imp, m.exp, m.peak))  # plain lists: faster to index
    period = s.billing_period.tolist()

    # imp[t] - exp[t] - c[t] + d[t] == net[t]
    m.balance = pyo.Constraint(m.T, rule=lambda _, t: row(net[t], lin(imp[t], (-1, ex[t]), (-1, c[t]), d[t]), net[t]))
    # imp[t] - peak[k(t)] <= 0
    m.peak_def = pyo.Constraint(m.T, rule=lambda _, t: row(None, lin(imp[t], (-1, peak[period[t]])), 0.0))
    bat.add_rows()  # after the site's rows

    # energy + demand + wear - credit (+ capital), in the order of terms the sum of its parts gives
    terms = [t for k in range(n) for t in ((dt * pi[k], imp[k]), (-(dt * pe[k]), ex[k]))]
    terms += [(rate, peak[k]) for k, rate in enumerate(s.period_rate.tolist())]
    battery_terms, battery_constant = bat.cost_terms(s.terminal_value_eur_per_kwh)
    terms += battery_terms
    constant = -(float(s.period_rate[0]) * s.initial_peak_kw) + battery_constant
    if sizing is not None:
        terms += [(sizing.capital_per_kwh, m.cap), (sizing.capital_per_kw, m.pw)]
    m.cost = pyo.Objective(expr=LinearExpression([constant, *(MonomialTermExpression(t) for t in terms)]),
                           sense=pyo.minimize)
    return m


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
    m = build_model(s, exclusive="binary" if all_binaries else "lazy")
    build_s = time.perf_counter() - t0
    bat = m.batteries
    info = solve_exclusive(m, [bat], what="industrial MILP", time_limit=time_limit, mip_gap=mip_gap)
    plan = dispatch_plan(s, bat.charge_kw()[0], bat.discharge_kw()[0])
    plan.status, plan.build_seconds, plan.solve_seconds = info.status, build_s, info.seconds
    plan.mip_gap, plan.bound, plan.solver_seconds = info.gap, -info.bound, info.solver_seconds
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
    actions = plan_actions_of_powers(power, b.p_charge_kw, b.p_discharge_kw).reshape(-1, 1)
    a = actions[:, 0].astype(np.float64)
    applied = feasible_power(s, powers_of_shares(a, b.p_charge_kw, b.p_discharge_kw))  # what the env does
    schedule = simulate(s, applied)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "charge_kw", c)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "discharge_kw", d)
    return Plan(objective=float(schedule["reward"].sum()), actions=actions, schedule=schedule, status="optimal")
