"""Perfect-foresight MILP of a V2G episode: the env's constraints and money, written for HiGHS.

Per plugged EV ``i`` and hour ``t`` (the set ``K``), with charge ``c``, discharge ``d`` (``q = c - d``),
capacities ``ru``, ``rd`` >= 0 and the energy ``E`` at the start of each hour, maximise

    sum_K  ru_value[t] ru + rd_value[t] rd - net_energy_cost[t] (c - d) - wear (c + d)
s.t. 0 <= c <= MPc, 0 <= d <= MPd, c d = 0 (a binary per EV-hour, added lazily by ``solve_exclusive``)
     c - d - ExD rd - (1 - ExU) ru >= -MPd                  (P1)
     c - d + (1 - ExD) rd + ExU ru <=  MPc                  (P2)
     E + eta_c (c - d + ExU ru) dt <= Emax                  (E1)
     E + (c - d - ExD rd) dt / eta_d >= Emin                (E2)
     E[i, t+1] = E[i, t] + eta_c c dt - d dt / eta_d,   E[i, arrival] = arrival energy
     E[i, departure] >= required energy

Every coefficient comes from :class:`~batterygym.core.v2g.V2GScenario`. Days decouple (every car leaves
each evening and arrives anew), so each day is its own model, solved in turn: the quarter's optimum is
the sum of the days' (``batterygym solve v2g --days 92``).
"""
from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from batterygym.baselines.plan import Plan, SolverError, plan_actions
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.v2g import V2GScenario, shares_of, simulate


def build_model(s: V2GScenario, day: int) -> pyo.ConcreteModel:
    """The MILP of day ``day`` of ``s`` (without the exclusivity binaries), as a minimisation."""
    b = s.ev
    dt, eta_c, eta_d = s.dt_h, b.eta_charge, b.eta_discharge
    xu, xd = s.expected_up, s.expected_down
    mpc, mpd = b.p_charge_kw, b.p_discharge_kw
    emin, emax = b.soc_min * b.capacity_kwh, b.soc_max * b.capacity_kwh
    arr, dep = s.arrival_step[day], s.departure_step[day]
    pairs = [(i, t) for i in range(s.n_evs) for t in range(int(arr[i]), int(dep[i]))]
    ends = [(i, int(dep[i])) for i in range(s.n_evs)]
    m = pyo.ConcreteModel(name=f"v2g_day{day}")
    m.K = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.KE = pyo.Set(initialize=[(i, int(arr[i])) for i in range(s.n_evs)] + [(i, t + 1) for i, t in pairs],
                   dimen=2, ordered=True)
    m.c = pyo.Var(m.K, bounds=(0.0, mpc))
    m.d = pyo.Var(m.K, bounds=(0.0, mpd))
    m.ru = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.rd = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.E = pyo.Var(m.KE, bounds=(emin, emax))
    for i in range(s.n_evs):
        m.E[i, int(arr[i])].fix(float(s.arrival_energy_kwh[day, i]))

    m.dyn = pyo.Constraint(m.K, rule=lambda m, i, t: m.E[i, t + 1] == m.E[i, t] + eta_c * dt * m.c[i, t]
                           - dt / eta_d * m.d[i, t])
    m.p1 = pyo.Constraint(m.K, rule=lambda m, i, t: m.c[i, t] - m.d[i, t] - xd * m.rd[i, t] - (1 - xu) * m.ru[i, t]
                          >= -mpd)
    m.p2 = pyo.Constraint(m.K, rule=lambda m, i, t: m.c[i, t] - m.d[i, t] + (1 - xd) * m.rd[i, t] + xu * m.ru[i, t]
                          <= mpc)
    m.e1 = pyo.Constraint(m.K, rule=lambda m, i, t: m.E[i, t] + eta_c * dt * (m.c[i, t] - m.d[i, t] + xu * m.ru[i, t])
                          <= emax)
    m.e2 = pyo.Constraint(m.K, rule=lambda m, i, t: m.E[i, t] + dt / eta_d * (m.c[i, t] - m.d[i, t] - xd * m.rd[i, t])
                          >= emin)
    req = s.required_energy_kwh[day]
    m.departure = pyo.Constraint(range(len(ends)), rule=lambda m, k: m.E[ends[k]] >= float(req[ends[k][0]]))
    ru, rd, qc, wear = s.reg_up_value, s.reg_down_value, s.net_energy_cost, s.wear_eur_per_kwh * dt
    m.obj = pyo.Objective(expr=sum(
        -float(ru[t]) * m.ru[i, t] - float(rd[t]) * m.rd[i, t] + (float(qc[t]) + wear) * m.c[i, t]
        + (wear - float(qc[t])) * m.d[i, t] for i, t in pairs), sense=pyo.minimize)
    return m


def _infeasible_hint(s: V2GScenario, day: int) -> str:
    return (f"day {day}: every departure requirement is reachable by construction, so this is a numerical "
            "failure; report it with the scenario")


def solve(s: V2GScenario, *, time_limit: float = 60.0, mip_gap: float = 1e-7, all_binaries: bool = False,
          progress: bool = False) -> Plan:
    """The optimal offers and charging of a V2G episode, as a :class:`Plan` for ``V2G-v0``.

    ``time_limit`` is for the whole episode, ``mip_gap`` for each day (so for the episode too).
    ``progress`` shows a bar over the days (long episodes).
    """
    if not isinstance(s, V2GScenario):
        raise TypeError(f"expected a V2GScenario, got {type(s).__name__}")
    t0 = time.perf_counter()
    q = np.zeros((s.n_steps, s.n_evs))
    ru = np.zeros_like(q)
    rd = np.zeros_like(q)
    objective = bound = build_s = solve_s = 0.0
    statuses, binaries, rounds = set(), 0, 0
    days = range(s.n_days)
    if progress:
        from tqdm import tqdm

        days = tqdm(days, desc="V2G MILP", unit="day")
    for day in days:
        remaining = time_limit - (time.perf_counter() - t0)
        if remaining <= 0:
            raise SolverError(f"V2G MILP: time limit of {time_limit} s reached after {day} of {s.n_days} days")
        tb = time.perf_counter()
        m = build_model(s, day)
        build_s += time.perf_counter() - tb
        b = s.ev
        pairs = [((i, t), m.c[i, t], m.d[i, t], b.p_charge_kw, b.p_discharge_kw) for i, t in m.K]
        info = solve_exclusive(m, pairs, what=f"V2G MILP (day {day})", time_limit=remaining, mip_gap=mip_gap,
                               all_binaries=all_binaries, batch_load=True,
                               infeasible_hint=lambda d=day: _infeasible_hint(s, d))
        for i, t in m.K:
            c = min(max(m.c[i, t].value or 0.0, 0.0), b.p_charge_kw)
            d = min(max(m.d[i, t].value or 0.0, 0.0), b.p_discharge_kw)
            q[t, i] = c - d
            ru[t, i] = max(m.ru[i, t].value or 0.0, 0.0)
            rd[t, i] = max(m.rd[i, t].value or 0.0, 0.0)
        objective += info.objective
        bound += info.bound
        solve_s += info.seconds
        statuses.add(info.status)
        binaries += info.n_binaries
        rounds = max(rounds, info.rounds)
    actions = plan_actions(shares_of(s, q, ru, rd)).reshape(s.n_steps, -1)
    schedule = simulate(s, actions)
    return Plan(
        objective=float(schedule["reward"].sum()), actions=actions, schedule=schedule,
        status="optimal" if statuses == {"optimal"} else "time_limit", bound=-bound,
        build_seconds=build_s, solve_seconds=solve_s, mip_gap=abs(objective - bound) / max(1.0, abs(objective)),
        details={"binaries": binaries, "rounds": rounds, "models": s.n_days, "milp_objective": -objective},
    )
