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

import gc
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from batterygym.baselines.battery_block import add_batteries, lin, row
from batterygym.baselines.plan import Plan, SolverError, plan_actions
from batterygym.baselines.solver import paused_gc, solve_exclusive
from batterygym.core.v2g import V2GScenario, shares_of, simulate


@paused_gc()
def build_model(s: V2GScenario, day: int, exclusive: str = "lazy") -> pyo.ConcreteModel:
    """The MILP of day ``day`` of ``s`` as a minimisation (with ``exclusive="lazy"``, without the binaries).

    The EVs are :func:`~batterygym.baselines.battery_block.add_batteries`'s components ``m.ev_*`` (their
    handle ``m.batteries``; the regulation capacities are its ``parts.ru`` and ``parts.rd``), each
    present from its arrival to its departure, its window that of core's V2G state: ``soc_min..soc_max``
    of its capacity (an EV does not fade, so its SoH is 1).
    """
    b = s.ev
    dt, eta_c, eta_d = s.dt_h, b.eta_charge, b.eta_discharge
    xu, xd = s.expected_up, s.expected_down
    mpc, mpd = b.p_charge_kw, b.p_discharge_kw
    emin, emax = b.soc_min * b.capacity_kwh, b.soc_max * b.capacity_kwh
    arr, dep = s.arrival_step[day].tolist(), s.departure_step[day].tolist()
    m = pyo.ConcreteModel(name=f"v2g_day{day}")
    bat = add_batteries(m, "ev", [b] * s.n_evs, dt, charge_max_kw=mpc, discharge_max_kw=mpd,
                        windows=list(zip(arr, dep, strict=True)), e0_kwh=s.arrival_energy_kwh[day].tolist(),
                        soh0=[1.0] * s.n_evs, exclusive=exclusive, step_vars=("ru", "rd"))
    m.batteries = bat
    K = bat.parts.K
    # the variables' data in plain dicts (a tenth of a Pyomo lookup) and rows as row(): a day builds in half the time
    c, d, e, ru, rd = (dict(v.items()) for v in (bat.c, bat.d, bat.e, bat.parts.ru, bat.parts.rd))
    up_c, up_d = eta_c * dt, dt / eta_d

    # P1: c - d - ExD rd - (1 - ExU) ru >= -MPd;  P2: c - d + (1 - ExD) rd + ExU ru <= MPc
    m.p1 = pyo.Constraint(K, rule=lambda _, i, t: row(
        -mpd, lin(c[i, t], (-1, d[i, t]), (-xd, rd[i, t]), (-(1 - xu), ru[i, t])), None))
    m.p2 = pyo.Constraint(K, rule=lambda _, i, t: row(
        None, lin(c[i, t], (-1, d[i, t]), ((1 - xd), rd[i, t]), (xu, ru[i, t])), mpc))
    # E1: E + eta_c dt (c - d + ExU ru) <= Emax;  E2: E + dt / eta_d (c - d - ExD rd) >= Emin
    m.e1 = pyo.Constraint(K, rule=lambda _, i, t: row(
        None, lin(e[i, t], (up_c, c[i, t]), (-up_c, d[i, t]), (up_c * xu, ru[i, t])), emax))
    m.e2 = pyo.Constraint(K, rule=lambda _, i, t: row(
        emin, lin(e[i, t], (up_d, c[i, t]), (-up_d, d[i, t]), (-(up_d * xd), rd[i, t])), None))
    req = s.required_energy_kwh[day].tolist()
    m.departure = pyo.Constraint(range(s.n_evs), rule=lambda _, i: row(req[i], lin(e[i, dep[i]]), None))
    ru_v, rd_v, qc = s.reg_up_value.tolist(), s.reg_down_value.tolist(), s.net_energy_cost.tolist()
    terms = [x for i, t in K for x in ((-ru_v[t], ru[i, t]), (-rd_v[t], rd[i, t]), (qc[t], c[i, t]),
                                       (-qc[t], d[i, t]))]
    wear, _ = bat.cost_terms()
    m.obj = pyo.Objective(expr=LinearExpression([MonomialTermExpression(x) for x in terms + wear]),
                          sense=pyo.minimize)
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
    objective = bound = build_s = solve_s = solver_s = 0.0
    statuses, binaries, rounds = set(), 0, 0
    days = range(s.n_days)
    if progress:
        from tqdm import tqdm

        days = tqdm(days, desc="V2G MILP", unit="day")
    # a day's model is cyclic garbage (Pyomo's scalar components hold themselves): with the collector off for
    # the whole episode and one young-generation pass after each day, it is scanned once, not at every pass
    # (a 92-day quarter: 3 s less)
    with paused_gc():
        for day in days:
            remaining = time_limit - (time.perf_counter() - t0)
            if remaining <= 0:
                raise SolverError(f"V2G MILP: time limit of {time_limit} s reached after {day} of {s.n_days} days")
            tb = time.perf_counter()
            m = build_model(s, day, exclusive="binary" if all_binaries else "lazy")
            build_s += time.perf_counter() - tb
            b, bat = s.ev, m.batteries
            info = solve_exclusive(m, [bat], what=f"V2G MILP (day {day})", time_limit=remaining, mip_gap=mip_gap,
                                   batch_load=True, infeasible_hint=lambda d=day: _infeasible_hint(s, d))
            for i, t in bat.parts.K:
                c = min(max(bat.c[i, t].value or 0.0, 0.0), b.p_charge_kw)
                d = min(max(bat.d[i, t].value or 0.0, 0.0), b.p_discharge_kw)
                q[t, i] = c - d
                ru[t, i] = max(bat.parts.ru[i, t].value or 0.0, 0.0)
                rd[t, i] = max(bat.parts.rd[i, t].value or 0.0, 0.0)
            objective += info.objective
            bound += info.bound
            solve_s += info.seconds
            solver_s += info.solver_seconds
            statuses.add(info.status)
            binaries += info.n_binaries
            rounds = max(rounds, info.rounds)
            if day + 1 < s.n_days:  # the last day's model goes with the call, as any model does
                del m, bat
                gc.collect(0)
    actions = plan_actions(shares_of(s, q, ru, rd)).reshape(s.n_steps, -1)
    schedule = simulate(s, actions)
    return Plan(
        objective=float(schedule["reward"].sum()), actions=actions, schedule=schedule,
        status="optimal" if statuses == {"optimal"} else "time_limit", bound=-bound,
        solver_seconds=solver_s,
        build_seconds=build_s, solve_seconds=solve_s, mip_gap=abs(objective - bound) / max(1.0, abs(objective)),
        details={"binaries": binaries, "rounds": rounds, "models": s.n_days, "milp_objective": -objective},
    )
