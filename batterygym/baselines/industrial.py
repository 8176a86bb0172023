"""Perfect-foresight MILP of an industrial episode: the env's equations, written for HiGHS.

Minimises the episode's cost (the negative of the env's total reward):

    sum_t dt * (price_import[t] * imp[t] - price_export[t] * exp[t])
    + demand_charge * (peak - initial_peak) + wear * dt * sum_t (c[t] + d[t])
    - terminal_value * (E[T] - E[0])
s.t. imp[t] - exp[t] = net[t] + c[t] - d[t];  peak >= imp[t];  peak >= initial_peak
     0 <= c[t] <= charge_limit[t];  0 <= d[t] <= discharge_limit[t];  c[t] * d[t] = 0 (binary)
     E[t+1] = E[t] + eta_c c[t] dt - d[t] dt / eta_d
     SoH[t+1] = SoH[t] - fade_per_kwh (c[t] + d[t]) dt - calendar_fade
     soc_min Cap SoH[t+1] <= E[t+1] <= soc_max Cap SoH[t+1];  sum_t c[t] dt <= charge_budget
Every coefficient comes from the scenario and `core` (limits, fade, terminal value).
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.plan import Plan
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.battery import power_bounds, step_battery
from batterygym.core.industrial import IndustrialScenario, simulate


def build_model(s: IndustrialScenario) -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components.

    Each row is written directly as ``(lower, linear expression, upper)`` with plain floats: a year
    (8,760 steps, 52k rows) builds and translates in half the time of operator expressions, and
    HiGHS receives the same rows (coefficients, bounds and order of terms) they produced.
    """
    b = s.battery
    n, dt = s.n_steps, s.dt_h
    cap, fk, cal = b.capacity_kwh, b.fade_per_kwh, b.calendar_fade(dt)
    net, pi, pe = s.net_kw.tolist(), s.price_import.tolist(), s.price_export.tolist()
    eta_c, inv_eta_d, fade = b.eta_charge * dt, dt / b.eta_discharge, fk * dt  # per kW of c or d
    floor, ceil = b.soc_min * cap, b.soc_max * cap  # per unit of SoH

    m = pyo.ConcreteModel(name="industrial")
    m.T = pyo.RangeSet(0, n - 1)
    m.T1 = pyo.RangeSet(0, n)
    m.c = pyo.Var(m.T, bounds=dict(enumerate((0.0, x) for x in s.charge_limit_kw.tolist())))
    m.d = pyo.Var(m.T, bounds=dict(enumerate((0.0, x) for x in s.discharge_limit_kw.tolist())))
    m.imp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.e = pyo.Var(m.T1)
    m.soh = pyo.Var(m.T1)
    m.peak = pyo.Var(bounds=(s.initial_peak_kw, None))
    m.e[0].fix(b.e0_kwh)
    m.soh[0].fix(b.soh0)
    c, d, imp, ex, e, soh, peak = m.c, m.d, m.imp, m.exp, m.e, m.soh, m.peak

    # imp[t] - exp[t] - c[t] + d[t] == net[t]
    m.balance = pyo.Constraint(m.T, rule=lambda _, t: (net[t], _lin(imp[t], (-1, ex[t]), (-1, c[t]), d[t]), net[t]))
    # imp[t] - peak <= 0
    m.peak_def = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(imp[t], (-1, peak)), 0.0))
    # e[t+1] - e[t] - eta_c dt c[t] + dt / eta_d d[t] == 0
    m.energy = pyo.Constraint(m.T, rule=lambda _, t: (
        0.0, _lin(e[t + 1], (-1, e[t]), (-eta_c, c[t]), (inv_eta_d, d[t])), 0.0))
    # soh[t+1] - soh[t] + fk dt (c[t] + d[t]) == -calendar_fade
    m.health = pyo.Constraint(m.T, rule=lambda _, t: (
        0.0 - cal, _lin(soh[t + 1], (-1, soh[t]), (fade, c[t]), (fade, d[t])), 0.0 - cal))
    # soc_min Cap soh[t+1] - e[t+1] <= 0;  e[t+1] - soc_max Cap soh[t+1] <= 0
    m.soc_lo = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin((floor, soh[t + 1]), (-1, e[t + 1])), 0.0))
    m.soc_hi = pyo.Constraint(m.T, rule=lambda _, t: (None, _lin(e[t + 1], (-ceil, soh[t + 1])), 0.0))
    if math.isfinite(s.charge_budget_kwh):
        m.budget = pyo.Constraint(expr=dt * pyo.quicksum(c.values()) <= s.charge_budget_kwh)

    # energy + demand + wear - credit, in the order of terms the sum of its parts gives
    wear = b.degradation_cost_per_kwh * dt
    terms = [t for k in range(n) for t in ((dt * pi[k], imp[k]), (-(dt * pe[k]), ex[k]))]
    terms.append((s.demand_charge_eur_per_kw, peak))
    terms += [t for k in range(n) for t in ((wear, c[k]), (wear, d[k]))]
    terms.append((-s.terminal_value_eur_per_kwh, e[n]))
    constant = -(s.demand_charge_eur_per_kw * s.initial_peak_kw) + s.terminal_value_eur_per_kwh * b.e0_kwh
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


def to_float32_away_from_zero(x: np.ndarray) -> np.ndarray:
    """float32 actions never smaller in magnitude than the plan's: a set-point on a limit (discharge
    exactly the net load, say) then lands on or beyond it, and the env's projection clips it back
    onto the limit exactly instead of leaving a sliver of import that a demand charge would price."""
    a = x.astype(np.float32)
    short = np.abs(a.astype(np.float64)) < np.abs(x)
    a[short] = np.nextafter(a[short], np.where(x[short] > 0, np.float32(np.inf), np.float32(-np.inf)))
    return np.clip(a, np.float32(-1.0), np.float32(1.0))


def solve(s: IndustrialScenario, *, time_limit: float = 60.0, mip_gap: float = 1e-7,
          all_binaries: bool = False) -> Plan:
    """The optimal dispatch of an industrial episode, as a :class:`Plan` for ``Industrial-v0``."""
    t0 = time.perf_counter()
    m = build_model(s)
    build_s = time.perf_counter() - t0
    b = s.battery
    pairs = [(t, m.c[t], m.d[t], float(s.charge_limit_kw[t]), float(s.discharge_limit_kw[t]))
             for t in range(s.n_steps)]
    info = solve_exclusive(m, pairs, what="industrial MILP", time_limit=time_limit, mip_gap=mip_gap,
                           all_binaries=all_binaries)
    # back inside the variables' bounds: HiGHS may leave them outside by its feasibility tolerance
    c = np.clip([m.c[t].value or 0.0 for t in range(s.n_steps)], 0.0, s.charge_limit_kw)
    d = np.clip([m.d[t].value or 0.0 for t in range(s.n_steps)], 0.0, s.discharge_limit_kw)
    power = feasible_power(s, c - d)
    share = np.where(power >= 0,
                     power / b.p_charge_kw if b.p_charge_kw > 0 else 0.0,
                     power / b.p_discharge_kw if b.p_discharge_kw > 0 else 0.0)
    actions = to_float32_away_from_zero(np.clip(share, -1.0, 1.0)).reshape(-1, 1)
    schedule = simulate(s, power)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "charge_kw", c)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "discharge_kw", d)
    return Plan(
        objective=-info.objective, actions=actions, schedule=schedule, status=info.status,
        build_seconds=build_s, solve_seconds=info.seconds, mip_gap=info.gap,
        details={"binaries": info.n_binaries, "rounds": info.rounds},
    )
