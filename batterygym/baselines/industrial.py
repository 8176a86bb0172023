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

from batterygym.baselines.plan import Plan
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.industrial import IndustrialScenario, simulate


def build_model(s: IndustrialScenario) -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components."""
    b = s.battery
    n, dt = s.n_steps, s.dt_h
    cap, fk, cal = b.capacity_kwh, b.fade_per_kwh, b.calendar_fade(dt)
    clim, dlim = s.charge_limit_kw, s.discharge_limit_kw
    net, pi, pe = s.net_kw, s.price_import, s.price_export

    m = pyo.ConcreteModel(name="industrial")
    m.T = pyo.RangeSet(0, n - 1)
    m.T1 = pyo.RangeSet(0, n)
    m.c = pyo.Var(m.T, bounds=lambda _, t: (0.0, float(clim[t])))
    m.d = pyo.Var(m.T, bounds=lambda _, t: (0.0, float(dlim[t])))
    m.imp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.e = pyo.Var(m.T1)
    m.soh = pyo.Var(m.T1)
    m.peak = pyo.Var(bounds=(s.initial_peak_kw, None))
    m.e[0].fix(b.e0_kwh)
    m.soh[0].fix(b.soh0)

    m.balance = pyo.Constraint(m.T, rule=lambda m, t: m.imp[t] - m.exp[t] == float(net[t]) + m.c[t] - m.d[t])
    m.peak_def = pyo.Constraint(m.T, rule=lambda m, t: m.peak >= m.imp[t])
    m.energy = pyo.Constraint(
        m.T, rule=lambda m, t: m.e[t + 1] == m.e[t] + b.eta_charge * dt * m.c[t] - dt / b.eta_discharge * m.d[t]
    )
    m.health = pyo.Constraint(
        m.T, rule=lambda m, t: m.soh[t + 1] == m.soh[t] - fk * dt * (m.c[t] + m.d[t]) - cal
    )
    m.soc_lo = pyo.Constraint(m.T, rule=lambda m, t: m.e[t + 1] >= b.soc_min * cap * m.soh[t + 1])
    m.soc_hi = pyo.Constraint(m.T, rule=lambda m, t: m.e[t + 1] <= b.soc_max * cap * m.soh[t + 1])
    if math.isfinite(s.charge_budget_kwh):
        m.budget = pyo.Constraint(expr=dt * pyo.quicksum(m.c[t] for t in m.T) <= s.charge_budget_kwh)

    energy = dt * pyo.quicksum(float(pi[t]) * m.imp[t] - float(pe[t]) * m.exp[t] for t in m.T)
    demand = s.demand_charge_eur_per_kw * (m.peak - s.initial_peak_kw)
    wear = b.degradation_cost_per_kwh * dt * pyo.quicksum(m.c[t] + m.d[t] for t in m.T)
    credit = s.terminal_value_eur_per_kwh * (m.e[n] - b.e0_kwh)
    m.cost = pyo.Objective(expr=energy + demand + wear - credit, sense=pyo.minimize)
    return m


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
    c = np.array([m.c[t].value or 0.0 for t in range(s.n_steps)])
    d = np.array([m.d[t].value or 0.0 for t in range(s.n_steps)])
    power = c - d
    share = np.where(power >= 0,
                     power / b.p_charge_kw if b.p_charge_kw > 0 else 0.0,
                     power / b.p_discharge_kw if b.p_discharge_kw > 0 else 0.0)
    actions = np.clip(share, -1.0, 1.0).astype(np.float32).reshape(-1, 1)
    schedule = simulate(s, power)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "charge_kw", c)
    schedule.insert(schedule.columns.get_loc("battery_kw"), "discharge_kw", d)
    return Plan(
        objective=-info.objective, actions=actions, schedule=schedule, status=info.status,
        build_seconds=build_s, solve_seconds=info.seconds, mip_gap=info.gap,
        details={"binaries": info.n_binaries, "rounds": info.rounds},
    )
