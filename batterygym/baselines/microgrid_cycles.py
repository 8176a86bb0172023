"""The microgrid-BSS MILP in pack cycles: every pack the station takes in is a unit, not every slot.

Full packs of a category are identical, so a slot's identity matters only while it holds a pack that
is not full. This model follows the packs instead of the slots. Pack ``k`` (a request ``r``'s arriving
pack, from its hour ``s_k = t_r`` with energy ``a_k = a_r``, taken in when ``z_r = 1``; or a slot that
starts not full, from hour 0 with ``a_k = e_j0`` and ``z_k = 1``) needs ``need_k = Q_c - a_k``; it is
charged ``p_kt`` in ``s_k <= t < T`` and has received ``G_kt = eta * sum_{s_k <= t' < t} p_kt'`` at the
start of hour ``t``; ``F_kt`` (binary, ``s_k < t <= T``) says it is full then. Per category ``c`` the
full packs at the start of hour ``t`` are counted, not located::

    N_ct = F0_c + sum_{k in c, s_k < t} F_kt - sum_{r in c, t_r < t} z_r        (F0_c: full at the start)

and the station's rows are, for every pack ``k`` and hour ``t``::

    need_k F_kt <= G_kt <= (need_k - eps) z_k + eps F_kt     (G in {need} U [0, need - eps]: e in {Q} U [0, Q - eps])
    F_kt <= F_k,t+1,   0 <= p_kt <= pmax_c (z_k - F_kt),   f_kt >= p_kt - std_c,  f_kt >= 0
    sum_{r at (t, c)} z_r <= N_ct,   z_r >= z_r'  (r' the next request of (t, c): first come, first served)
    N_ct <= i_r + (n_c - i_r) z_r                            (forced service: r is lost only if no full pack is left)

The money and the storage, balance and deficit rows are the slot model's, written once for both
(:func:`batterygym.baselines.microgrid_site.add_site`), with ``sum_j p_tj`` read as ``sum_k p_kt``; the
station's terminal energy is ``sum_j e_j0 - sum_r (Q_c - a_r) z_r + eta sum_{k,t} p_kt``.

It is the same set of schedules as the slot model. A slot schedule gives each pack the charges of the
slot holding it until it is full, and the full slots of a category number ``N_ct``. Back, from a pack
schedule the env's own rule (:func:`slot_schedule`: the requests of an hour take the lowest-numbered
full slots, in arrival order; a served slot takes the arriving pack) puts every pack in a slot: the
forced-service rows make the served count ``min(N_ct, requests)``, as the env's, and a pack that is
not full never leaves its slot, so each slot charges its pack's ``p_kt``.

Why: a request's pack is one unit here, where the slot model's relaxation spreads it over several
slots (``y_rj`` = 1/3 each), each needing a third of the charge, under the standard rate, so no fast
charging. On the default day the root LP bound falls from 0.1-0.35 % above the optimum to 0.0-0.03 %
and the heavy day (72 swaps) proves optimality in about a second (the slot model: up to 60 s).
The price is size: a pack has variables to the episode's end, about ``requests * T / 2`` pack-hours
against ``slots * T`` slot-hours, so :func:`pack_hours` decides between the two models.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyomo.environ as pyo

from batterygym.baselines.microgrid_site import add_site
from batterygym.baselines.solver import paused_gc
from batterygym.core.microgrid import FULL_GAP_KWH, MicrogridScenario


class Pack(NamedTuple):
    """A pack the model follows: its category, first hour, energy then, and its request (-1: a slot's
    initial pack, ``slot`` its slot; else ``slot`` is -1)."""

    category: int
    start: int
    energy_kwh: float
    request: int
    slot: int


def packs_of(s: MicrogridScenario) -> list[Pack]:
    """The packs of an episode: every slot that starts not full, then every request's arriving pack."""
    q, e0 = s.slot_pack_kwh, s.slot_e0_kwh
    out = [Pack(s.slot_category[j], 0, float(e0[j]), -1, j) for j in range(s.n_slots) if e0[j] != q[j]]
    out += [Pack(req.category, req.hour, req.energy_kwh, r, -1) for r, req in enumerate(s.requests)]
    return out


def pack_hours(s: MicrogridScenario) -> int:
    """The pack cycle model's size: pack-hours ``sum_k (T - s_k)`` (the slot model has ``slots * T``)."""
    return sum(s.n_steps - pk.start for pk in packs_of(s))


def full_at_start(s: MicrogridScenario) -> list[int]:
    """``F0_c``: the slots of each category that start full."""
    q, e0 = s.slot_pack_kwh, s.slot_e0_kwh
    return [sum(1 for j in s.category_slots[c] if e0[j] == q[j]) for c in range(s.n_categories)]


@paused_gc()
def build_model(s: MicrogridScenario) -> pyo.ConcreteModel:
    """The pack cycle model of one episode (module docstring), from the scenario's arrays."""
    T = s.n_steps
    q, eta, eps = s.pack_kwh, s.pack_eta, FULL_GAP_KWH
    pmax = [s.max_c_rate * x for x in q]
    std = [s.standard_c_rate * x for x in q]
    reqs, by_hour = s.requests, s.requests_by_hour
    packs = packs_of(s)
    need = [q[pk.category] - pk.energy_kwh for pk in packs]
    m = pyo.ConcreteModel(name="microgrid_bss_cycles")
    m.T = pyo.RangeSet(0, T - 1)
    m.KH = pyo.Set(initialize=[(k, t) for k, pk in enumerate(packs) for t in range(pk.start, T)], dimen=2,
                   ordered=True)
    m.KF = pyo.Set(initialize=[(k, t) for k, pk in enumerate(packs) for t in range(pk.start + 1, T + 1)], dimen=2,
                   ordered=True)
    m.R = pyo.RangeSet(0, len(reqs) - 1) if reqs else pyo.Set(initialize=[])
    m.z = pyo.Var(m.R, within=pyo.Binary)
    m.p = pyo.Var(m.KH, bounds=lambda _, k, t: (0.0, pmax[packs[k].category]))
    m.f = pyo.Var(m.KH, bounds=lambda _, k, t: (0.0, max(pmax[packs[k].category] - std[packs[k].category], 0.0)))
    m.F = pyo.Var(m.KF, within=pyo.Binary)
    m.G = pyo.Var(m.KF, bounds=lambda _, k, t: (0.0, need[k]))

    def z(k: int):
        return 1.0 if packs[k].request < 0 else m.z[packs[k].request]

    def received(k: int, t: int):
        return 0.0 if t == packs[k].start else m.G[k, t]

    def full(k: int, t: int):
        return 0.0 if t == packs[k].start else m.F[k, t]

    m.charged = pyo.Constraint(m.KF, rule=lambda m, k, t: m.G[k, t] == received(k, t - 1) + eta * m.p[k, t - 1])
    m.full_lo = pyo.Constraint(m.KF, rule=lambda m, k, t: m.G[k, t] >= need[k] * m.F[k, t])
    m.full_hi = pyo.Constraint(m.KF, rule=lambda m, k, t: m.G[k, t] <= (need[k] - eps) * z(k) + eps * m.F[k, t])
    m.stays_full = pyo.Constraint(m.KF, rule=lambda m, k, t: m.F[k, t] <= m.F[k, t + 1] if t < T
                                  else pyo.Constraint.Skip)
    m.charging = pyo.Constraint(m.KH, rule=lambda m, k, t: m.p[k, t] <= pmax[packs[k].category] * (z(k) - full(k, t)))
    m.fast = pyo.Constraint(m.KH, rule=lambda m, k, t: m.f[k, t] >= m.p[k, t] - std[packs[k].category])

    # the full packs of each category, counted: N_ct
    f0 = full_at_start(s)
    packs_in = [[k for k, pk in enumerate(packs) if pk.category == c] for c in range(s.n_categories)]
    reqs_in = [[r for r, req in enumerate(reqs) if req.category == c] for c in range(s.n_categories)]

    def n_full(t: int, c: int):
        return f0[c] + pyo.quicksum(m.F[k, t] for k in packs_in[c] if packs[k].start < t) - pyo.quicksum(
            m.z[r] for r in reqs_in[c] if reqs[r].hour < t)

    m.serve_full = pyo.ConstraintList()
    m.fifo = pyo.ConstraintList()
    m.forced = pyo.ConstraintList()
    for t in range(T):
        for c, rs in enumerate(by_hour[t]):
            if not rs:
                continue
            n = n_full(t, c)
            m.serve_full.add(pyo.quicksum(m.z[r] for r in rs) <= n)
            for i, r in enumerate(rs):
                if i + 1 < len(rs):
                    m.fifo.add(m.z[r] >= m.z[rs[i + 1]])
                if i < s.n_packs[c]:  # with i >= n_c full packs the row is void
                    m.forced.add(n <= i + (s.n_packs[c] - i) * m.z[r])

    charging_at: list[list[int]] = [[] for _ in range(T)]
    for k, t in m.KH:
        charging_at[t].append(k)
    grid, storage, const = add_site(m, s, lambda t: pyo.quicksum(m.p[k, t] for k in charging_at[t]))

    tv = s.terminal_value_eur_per_kwh
    swaps = pyo.quicksum((reqs[r].revenue_eur + s.lost_swap_penalty_eur) * m.z[r] for r in m.R)
    # the station's terminal energy relative to its start: eta * sum p - sum_r (Q - a_r) z_r
    const -= tv * (s.initial_energy_kwh - float(np.sum(s.slot_e0_kwh)))
    charge = pyo.quicksum(m.p[k, t] for k, t in m.KH)
    wear = (s.pack_wear_eur_per_kwh * charge + s.fast_extra_eur_per_kwh * pyo.quicksum(m.f[k, t] for k, t in m.KH))
    terminal = tv * (eta * charge - pyo.quicksum((q[reqs[r].category] - reqs[r].energy_kwh) * m.z[r] for r in m.R))
    m.const = const
    m.packs = packs
    m.cost = pyo.Objective(expr=wear + grid - swaps - terminal + storage, sense=pyo.minimize)
    return m


def slot_schedule(s: MicrogridScenario, m: pyo.ConcreteModel) -> tuple[list[int], np.ndarray]:
    """The solved pack schedule in the env's slots: ``served_by[r]`` (-1: lost) and the charge ``(T, S)``.

    Hour by hour, as the env does: the requests the model serves take the lowest-numbered full slots in
    arrival order, each served slot takes the arriving pack, and every slot charges its pack's ``p_kt``.
    """
    T, S = s.n_steps, s.n_slots
    packs = m.packs
    pack_of_request = {pk.request: k for k, pk in enumerate(packs) if pk.request >= 0}
    holds = [-1] * S  # the pack in each slot; -1: a slot's initial full pack
    for k, pk in enumerate(packs):
        if pk.request < 0:
            holds[pk.slot] = k
    served_by = [-1] * s.n_requests
    charge = np.zeros((T, S))

    def is_full(k: int, t: int) -> bool:
        return k < 0 or (t > packs[k].start and (m.F[k, t].value or 0.0) > 0.5)

    for t in range(T):
        for c, rs in enumerate(s.requests_by_hour[t]):
            served = [r for r in rs if (m.z[r].value or 0.0) > 0.5]
            free = [j for j in s.category_slots[c] if is_full(holds[j], t)]
            if len(served) > len(free):
                raise AssertionError(f"hour {t}: the pack schedule serves {len(served)} swaps of category "
                                     f"{s.categories[c]} with {len(free)} full packs")
            for r, j in zip(served, free, strict=False):
                served_by[r] = j
                holds[j] = pack_of_request[r]
        for j in range(S):
            k = holds[j]
            if k >= 0 and not is_full(k, t):
                charge[t, j] = max(m.p[k, t].value or 0.0, 0.0)
    return served_by, charge
