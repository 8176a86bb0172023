"""Perfect-foresight MILP of a microgrid-BSS episode: the env's equations, written for HiGHS.

Indices: hours ``t``, slots ``j`` (category ``c(j)``, capacity ``Q_j``, 1C ``pmax_j``, 0.2C ``std_j``),
requests ``r`` (hour ``t_r``, category ``c_r``, arriving energy ``a_r``, revenue ``v_r``; ``i_r`` its
rank among the requests of its hour and category, in arrival order), storage packs ``k``.
Maximise the episode's money (the env's total reward)::

    sum_r v_r z_r - penalty * sum_r (1 - z_r) + sum_t tariff_t L_t - sum_t cover_price_t g_t
    - pack_wear * sum_{t,j} p_tj - fast_extra * sum_{t,j} f_tj - sum_{t,k} wear_k (c_tk + d_tk)
    + terminal_value * (sum_j e_jT + sum_k E_kT - initial energy)

subject to, for every hour ``t``:

    z_r = sum_{j in c_r} y_rj <= 1                       (y_rj binary: slot j serves request r)
    sum_{r at (t, c(j))} y_rj <= full_jt                 (only a full slot serves, once)
    z_r >= z_r'   (r' the next request of the same hour and category: first come, first served)
    sum_{j in c} full_jt <= i_r + n_c z_r                (forced service: r is lost only if no full pack is left)
    e_j,t+1 = e_jt - sum_{r at (t, c(j))} (Q_j - a_r) y_rj + eta p_tj,   0 <= p_tj <= pmax_j
    Q_j full_jt + low_jt (1 - full_jt) <= e_jt <= Q_j - eps (1 - full_jt)   (full_jt binary; e in {Q} U [low, Q - eps])
    f_tj >= p_tj - std_j,  f_tj >= 0
    storage: the battery block of every MILP (:mod:`batterygym.baselines.battery_block`: core's equations,
             the SoC window on the fading capacity), c_tk <= p_charge_k u_tk, d_tk <= p_discharge_k (1 - u_tk)
    env's slot choice: sum_{r at (t,c)} y_rj' <= sum_{r at (t,c)} y_rj + 1 - full_jt   (j < j' in c)
                       y_r'j' <= sum_{j < j'} y_rj   (r' the request after r at (t, c))
    g_t >= L_t + sum_j p_tj + sum_k c_tk - sum_k d_tk - R_t,   0 <= g_t <= deficit_limit_t

``low_jt`` (:func:`floor_energy`) is the least energy slot ``j`` can hold at hour ``t``: a slot's energy falls
only at a swap, to the arriving pack's. It removes no schedule but cuts the LP relaxation's mixtures of a
full pack and an empty one (on the 7-day seed 0 the root LP bound moves 18.6 EUR, 0.4 % of the objective,
towards the optimum). ``g_t`` is the import (or, off-grid, the unserved load); its price is positive, so
``g_t`` settles at ``max(0, X_t)`` as in the env. Every coefficient comes from the scenario's derived arrays
in ``core``.

Solving: charging and discharging a storage pack at once only burns energy, which curtailment does for
free, so the binaries ``u_tk`` are added only where a solution does both, and the model re-solved
by :func:`~batterygym.baselines.solver.solve_exclusive`, every MILP's loop (every round relaxes the
full MILP, so the first solution without it is optimal). The last two
constraint families impose the env's choice of slots: packs of a category that are full at the
same hour are identical, so some optimum always follows the env's rule (the argument of
:func:`relabel`), and without them HiGHS branches over equivalent assignments (3-10x slower).

Full packs of a category are identical: from any schedule, :func:`relabel` makes the env's (lowest full
slots, in arrival order) by swapping the future trajectories of two full slots (same energy, so the
same money). With the constraints above it is the identity; it stays as the guard that the actions
are written in the env's order.

Two formulations of the same schedules: this slot model, and the pack cycle model of
:mod:`batterygym.baselines.microgrid_cycles` (each arriving pack a unit, full packs counted per
category), whose relaxation is much tighter (root bound 0.0-0.03 % above the optimum on the default
day, against 0.1-0.35 %) but whose size grows with ``requests * T``. :func:`solve` takes the cycles up
to :data:`CYCLES_MAX_PACK_HOURS` pack-hours (a day: about 450, a heavy day 830, three days 3200; a week
22,000, where the slot model's 2,000 slot-hours solve faster) and the slots beyond.
"""
from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from batterygym.baselines import microgrid_cycles as cycles
from batterygym.baselines.microgrid_site import add_site
from batterygym.baselines.plan import Plan, plan_actions
from batterygym.baselines.solver import paused_gc, solve_exclusive
from batterygym.core.battery import shares_of_powers
from batterygym.core.microgrid import FULL_GAP_KWH, MicrogridScenario, simulate

# HiGHS's RINS, RENS and root reduced-cost sub-MIPs spend most of a day's solve after the optimum is found:
# without them the median day solves in 0.8 s instead of 1.1 s, the slowest of 12 in 15 s instead of 21 s
# (same optima). On longer episodes they are what finds the first schedule (a week found none in 60 s
# without them), so they are switched off only up to DAY_STEPS hours.
DAY_STEPS = 24
HIGHS_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
                 "mip_heuristic_run_root_reduced_cost": False}
# the pack cycle model up to this many pack-hours: measured, it proves the 2-day episode in 3 s (slots: 39 s
# to the time limit) and the 3-day in 11 s (slots: 36 s); the week's 22,000 find no schedule in 60 s
CYCLES_MAX_PACK_HOURS = 4000
CYCLES_HIGHS_OPTIONS: dict[str, object] = {}
MODELS = ("auto", "cycles", "slots")


@paused_gc()
def build_model(s: MicrogridScenario) -> pyo.ConcreteModel:
    """The Pyomo model of one episode, from the scenario's arrays with indexed components."""
    T, S = s.n_steps, s.n_slots
    q, pmax, std, cat = s.slot_pack_kwh, s.slot_max_kw, s.slot_standard_kw, s.slot_category
    reqs, by_hour = s.requests, s.requests_by_hour
    eta = s.pack_eta
    e0 = s.slot_e0_kwh
    full0 = [bool(e0[j] == q[j]) for j in range(S)]
    m = pyo.ConcreteModel(name="microgrid_bss")
    m.T = pyo.RangeSet(0, T - 1)
    m.T1 = pyo.RangeSet(0, T)
    m.J = pyo.RangeSet(0, S - 1)
    m.R = pyo.RangeSet(0, len(reqs) - 1) if reqs else pyo.Set(initialize=[])
    pairs = [(r, j) for r, req in enumerate(reqs) for j in s.category_slots[req.category]
             if req.hour > 0 or full0[j]]
    m.RJ = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.y = pyo.Var(m.RJ, within=pyo.Binary)
    slots_of = {r: [] for r in range(len(reqs))}
    for r, j in pairs:
        slots_of[r].append(j)
    m.e = pyo.Var(m.J, m.T1, bounds=lambda _, j, t: (0.0, q[j]))
    m.full = pyo.Var(m.J, pyo.RangeSet(1, T), within=pyo.Binary)
    m.p = pyo.Var(m.T, m.J, bounds=lambda _, t, j: (0.0, pmax[j]))
    m.f = pyo.Var(m.T, m.J, bounds=lambda _, t, j: (0.0, max(pmax[j] - std[j], 0.0)))
    for j in range(S):
        m.e[j, 0].fix(float(e0[j]))

    def full(j: int, t: int):
        return (1.0 if full0[j] else 0.0) if t == 0 else m.full[j, t]

    def z(r: int):
        return pyo.quicksum(m.y[r, j] for j in slots_of[r]) if slots_of[r] else 0.0

    m.one_slot = pyo.Constraint(m.R, rule=lambda m, r: z(r) <= 1 if len(slots_of[r]) > 1 else pyo.Constraint.Skip)

    def serve_full(m, j, t):
        rs = by_hour[t][cat[j]]
        terms = [m.y[r, j] for r in rs if (r, j) in m.RJ]
        if not terms:
            return pyo.Constraint.Skip
        return pyo.quicksum(terms) <= full(j, t)

    m.serve_full = pyo.Constraint(m.J, m.T, rule=serve_full)
    fifo, forced = [], []
    for t in range(T):
        for c, rs in enumerate(by_hour[t]):
            for i, r in enumerate(rs):
                if i + 1 < len(rs):
                    fifo.append((r, rs[i + 1]))
                if i < s.n_packs[c]:  # with i >= n_c full packs the constraint is void
                    forced.append((r, t, c, i))
    m.fifo = pyo.Constraint(range(len(fifo)), rule=lambda m, n: z(fifo[n][0]) >= z(fifo[n][1]))
    m.forced = pyo.Constraint(
        range(len(forced)),
        rule=lambda m, n: pyo.quicksum(full(j, forced[n][1]) for j in s.category_slots[forced[n][2]])
        <= forced[n][3] + s.n_packs[forced[n][2]] * z(forced[n][0]))

    def energy(m, j, t):
        out = pyo.quicksum((q[j] - reqs[r].energy_kwh) * m.y[r, j] for r in by_hour[t][cat[j]] if (r, j) in m.RJ)
        return m.e[j, t + 1] == m.e[j, t] - out + eta * m.p[t, j]

    m.energy = pyo.Constraint(m.J, m.T, rule=energy)
    low = floor_energy(s)
    m.full_lo = pyo.Constraint(m.J, pyo.RangeSet(1, T), rule=lambda m, j, t: m.e[j, t] >= q[j] * m.full[j, t]
                               + float(low[t, j]) * (1 - m.full[j, t]))
    m.full_hi = pyo.Constraint(m.J, pyo.RangeSet(1, T),
                               rule=lambda m, j, t: m.e[j, t] <= q[j] - FULL_GAP_KWH * (1 - m.full[j, t]))
    m.fast = pyo.Constraint(m.T, m.J, rule=lambda m, t, j: m.f[t, j] >= m.p[t, j] - std[j])

    # the env's choice of slots (symmetry breaking: relabel() shows it loses nothing): a full slot serves
    # before any higher one of its category, and earlier requests take lower slots
    m.lowest_first = pyo.ConstraintList()
    m.in_order = pyo.ConstraintList()
    for t in range(T):
        for c, rs in enumerate(by_hour[t]):
            if not rs:
                continue
            slots = [j for j in s.category_slots[c] if any((r, j) in m.RJ for r in rs)]
            serves = {j: pyo.quicksum(m.y[r, j] for r in rs) for j in slots}
            for a, ja in enumerate(slots):
                for jb in slots[a + 1:]:
                    m.lowest_first.add(serves[jb] <= serves[ja] + 1 - full(ja, t))
            for r, r2 in zip(rs[:-1], rs[1:], strict=True):
                for b, jb in enumerate(slots):
                    if b == 0:
                        m.in_order.add(m.y[r2, jb] == 0)
                    else:
                        m.in_order.add(m.y[r2, jb] <= pyo.quicksum(m.y[r, ja] for ja in slots[:b]))

    grid, storage, const = add_site(m, s, lambda t: pyo.quicksum(m.p[t, j] for j in m.J))
    swaps = pyo.quicksum((reqs[r].revenue_eur + s.lost_swap_penalty_eur) * m.y[r, j] for r, j in pairs)
    const -= s.terminal_value_eur_per_kwh * s.initial_energy_kwh
    wear = (s.pack_wear_eur_per_kwh * pyo.quicksum(m.p[t, j] for t in m.T for j in m.J)
            + s.fast_extra_eur_per_kwh * pyo.quicksum(m.f[t, j] for t in m.T for j in m.J))
    terminal = s.terminal_value_eur_per_kwh * pyo.quicksum(m.e[j, T] for j in m.J)
    m.const = const
    m.cost = pyo.Objective(expr=wear + grid - swaps - terminal + storage, sense=pyo.minimize)
    return m


def floor_energy(s: MicrogridScenario) -> np.ndarray:
    """``(T + 1, S)``: the least energy slot ``j`` can hold at the start of hour ``t``.

    A slot's energy only rises, except at a swap, which leaves the arriving pack's energy: so it never
    falls below the least of its initial energy and the energies that arrived in its category before ``t``.
    """
    T, S = s.n_steps, s.n_slots
    least = np.full(len(s.categories), np.inf)
    low = np.empty((T + 1, S))
    e0, cat = np.asarray(s.slot_e0_kwh, dtype=np.float64), np.asarray(s.slot_category)
    for t in range(T + 1):
        low[t] = np.minimum(e0, least[cat])
        if t < T:
            for c, rs in enumerate(s.requests_by_hour[t]):
                for r in rs:
                    least[c] = min(least[c], s.requests[r].energy_kwh)
    return low


def relabel(s: MicrogridScenario, served_by: list[int], charge: np.ndarray, full: np.ndarray
            ) -> tuple[list[int], np.ndarray]:
    """The MILP's schedule with the env's choice of slots: requests served by the lowest-numbered full slots.

    ``served_by[r]``: the slot serving request ``r`` (-1: lost); ``charge`` ``(T, S)``; ``full`` ``(T, S)``
    whether each slot is full at the start of each hour. Where the env would take slot ``b`` and the
    MILP took slot ``a`` (both full, so identical), the two slots' trajectories from that hour on are
    swapped: the same money, now in the env's order. Returns the new ``served_by`` and ``charge``.
    """
    served_by = list(served_by)
    charge = charge.copy()
    full = full.copy()
    reqs = s.requests
    for t in range(s.n_steps):
        for c, rs in enumerate(s.requests_by_hour[t]):
            mine = [served_by[r] for r in rs if served_by[r] >= 0]
            if not mine:
                continue
            slots = s.category_slots[c]
            full_now = [j for j in slots if full[t, j]]
            env = full_now[:len(mine)]
            if mine == env:
                continue
            perm = {a: b for a, b in zip(mine, env, strict=True)}
            rest_mine = [j for j in full_now if j not in mine]
            rest_env = [j for j in full_now if j not in env]
            perm.update(zip(rest_mine, rest_env, strict=True))
            src = list(perm)
            dst = [perm[a] for a in src]
            charge[t:, dst] = charge[t:, src]
            full[t:, dst] = full[t:, src]
            for r in range(len(reqs)):
                if reqs[r].hour >= t and served_by[r] in perm and reqs[r].category == c:
                    served_by[r] = perm[served_by[r]]
    return served_by, charge


def solve(s: MicrogridScenario, *, time_limit: float = 60.0, mip_gap: float = 1e-7, model: str = "auto") -> Plan:
    """The optimal operation of a microgrid-BSS episode, as a :class:`Plan` for ``MicrogridBSS-v0``.

    ``model``: ``"cycles"`` (:mod:`~batterygym.baselines.microgrid_cycles`, the packs as units), ``"slots"``
    (:func:`build_model`) or ``"auto"``: the cycles up to :data:`CYCLES_MAX_PACK_HOURS` pack-hours, else the
    slots (same optimum, see the module docstring).
    """
    if not isinstance(s, MicrogridScenario):
        raise TypeError(f"expected a MicrogridScenario, got {type(s).__name__}")
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "auto":
        model = "cycles" if cycles.pack_hours(s) <= CYCLES_MAX_PACK_HOURS else "slots"
    t0 = time.perf_counter()
    m = cycles.build_model(s) if model == "cycles" else build_model(s)
    build_s = time.perf_counter() - t0
    options = (CYCLES_HIGHS_OPTIONS if model == "cycles" else
               HIGHS_OPTIONS if s.n_steps <= DAY_STEPS else None)
    info = solve_exclusive(m, [m.batteries] if s.n_storage else [], what="microgrid MILP", time_limit=time_limit,
                           mip_gap=mip_gap, solver_options=options,
                           infeasible_hint=lambda: "charging nothing is always feasible: check the scenario's limits")
    status, obj, bound, solve_s, rounds = info.status, info.objective, info.bound, info.seconds, info.rounds
    T, S, K = s.n_steps, s.n_slots, s.n_storage
    if model == "cycles":
        served_by, charge = cycles.slot_schedule(s, m)
    else:
        served_by = [-1] * s.n_requests
        for (r, j), var in m.y.items():
            if (var.value or 0.0) > 0.5:
                served_by[r] = j
        charge = np.array([[max(m.p[t, j].value or 0.0, 0.0) for j in range(S)] for t in range(T)]).reshape(T, S)
        q = np.array(s.slot_pack_kwh)
        full = np.zeros((T, S), dtype=bool)
        full[0] = s.slot_e0_kwh == q
        for t in range(1, T):
            for j in range(S):
                full[t, j] = (m.full[j, t].value or 0.0) > 0.5
        served_by, charge = relabel(s, served_by, charge, full)
    slot_max = np.array(s.slot_max_kw)[None, :]
    slot_act = shares_of_powers(charge, slot_max, slot_max)  # slots only charge
    slot_act[charge < 1e-9] = 0.0
    st_act = np.zeros((T, K))
    if K:
        bat = m.batteries
        c, d = np.maximum(bat.charge_kw().T, 0.0), np.maximum(bat.discharge_kw().T, 0.0)
        # the larger side, if above solver noise: the pack's net set-point
        power = np.where((c >= d) & (c > 1e-9), c, np.where(d > 1e-9, -d, 0.0))
        st_act = shares_of_powers(power, np.array([b.p_charge_kw for b in s.storage]),
                                  np.array([b.p_discharge_kw for b in s.storage]))
    actions = plan_actions(np.concatenate([slot_act, st_act], axis=1))
    schedule = simulate(s, actions)
    n_bin = sum(1 for v in m.component_data_objects(pyo.Var) if v.is_binary() and not v.fixed)
    return Plan(
        objective=float(schedule["reward"].sum()), actions=actions, schedule=schedule, status=status,
        solver_seconds=info.solver_seconds,
        build_seconds=build_s, solve_seconds=solve_s, mip_gap=abs(obj - bound) / max(1.0, abs(m.const - obj)),
        bound=m.const - bound, details={"binaries": n_bin, "requests": s.n_requests, "rounds": rounds,
                                        "milp_objective": m.const - obj, "pack_cycles": float(model == "cycles")},
    )
