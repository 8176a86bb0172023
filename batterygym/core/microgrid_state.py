"""The microgrid's state and its hourly step (:class:`MicrogridState`), with the money of one hour.

The equations are those of :mod:`batterygym.core.microgrid` (module docstring); the storage packs'
bounds are the shared battery model's (:func:`batterygym.core.battery.bounds_of`) and their action map
its :func:`~batterygym.core.battery.power_of_share`. :mod:`batterygym.core.microgrid_batch` steps many
episodes at once with the same equations on arrays.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from batterygym.core.battery import bounds_of, coefficients, power_of_share
from batterygym.core.microgrid import DT_H, FULL_GAP_KWH, LIMIT_TOL_KW, POWER_TOL_KW, MicrogridScenario


class StepOutcome(NamedTuple):
    """What one hour did (kW = kWh in an hour; EUR); ``clipped_kw`` is what the projection removed."""

    served: list[int]
    lost: list[int]
    served_slots: list[int]
    station_kw: list[float]
    fast_kw: list[float]
    storage_kw: list[float]
    grid_kw: float
    unserved_kw: float
    curtailed_kw: float
    swap_revenue_eur: float
    lost_penalty_eur: float
    resident_revenue_eur: float
    grid_cost_eur: float
    unserved_cost_eur: float
    pack_wear_eur: float
    fast_charge_eur: float
    storage_wear_eur: float
    terminal_eur: float
    clipped_kw: float
    reward: float


class MicrogridState:
    """The microgrid's state (slot energies, storage energy and SoH) and its hourly step.

    :meth:`step` takes one value per slot, then one per storage pack, each in [-1, 1] (clipped), and
    projects the request onto the feasible set:

    1. swaps of the hour are served (module docstring: first come, first served, ascending slots);
    2. storage pack ``k``: ``a > 0`` charges ``a * p_charge_kw``, ``a < 0`` discharges
       ``-a * p_discharge_kw``, clipped to the feasible interval of
       :func:`batterygym.core.battery.bounds_of` (SoC window of the fading capacity);
    3. slot ``j`` (the pack it holds after the swaps): ``a <= 0`` or a full pack draws nothing, else
       ``p = a * Q * c_max``; if the pack would end above ``Q - eps``: it ends exactly full
       (``p = (Q - e) / eta``) when the request reaches ``Q - eps/2`` and 1C allows it, else it ends
       at ``Q - eps`` (so ``e'`` stays in ``{Q} U [0, Q - eps]``);
    4. if the deficit ``X`` exceeds its limit (import limit, or the load when off-grid) by more than
       :data:`LIMIT_TOL_KW`, every charge (slots and storage) is scaled down by one factor so that
       ``X`` equals the limit, and a slot then left above ``Q - eps`` ends at ``Q - eps``.

    A request the MILP could make is left unchanged (up to rounding). Plain python floats: it runs
    millions of times.
    """

    def __init__(self, s: MicrogridScenario, like: MicrogridState | None = None) -> None:
        """``like``: the state of an episode with the same station and storage (an env's next reset), whose
        per-slot and per-pack constants are reused, so a reset costs only the new series."""
        self.s = s
        if like is not None and like._layout == self._layout_of(s):
            self._layout = like._layout
            self._consts, self._start = like._consts, like._start
        else:
            self._layout = self._layout_of(s)
            q = list(s.slot_pack_kwh)
            # per storage pack: bounds_of's coefficients, ratings, and step_battery's terms (dt = 1 h, no calendar fade)
            st = [(coefficients(b, DT_H), b.p_charge_kw, b.p_discharge_kw, b.eta_charge, b.eta_discharge,
                   b.fade_per_kwh, b.degradation_cost_per_kwh) for b in s.storage]
            self._consts = (q, [x - FULL_GAP_KWH for x in q], [x - 0.5 * FULL_GAP_KWH for x in q],
                            list(s.slot_max_kw), list(s.slot_standard_kw), s.pack_eta, s.n_slots,
                            [list(x) for x in s.category_slots], st)
            self._start = None
        (self._q, self._lim, self._half, self._pmax, self._std, self._eta, self._n_slots, self._cat_slots,
         self._st) = self._consts
        # the requests of every hour and category: (arriving energy, revenue), in arrival order
        # (= s.requests / s.requests_by_hour, without building the named tuples); () where there are none
        qc = np.asarray(s.pack_kwh)[s.swap_category]
        energy = s.swap_soc * qc
        revenue = s.swap_fee_eur + s.swap_price_eur_per_kwh * (qc - energy)
        none = ((),) * s.n_categories
        table: list = [none] * s.n_steps  # an hour's row becomes a list when its first request comes
        for h, c, a, r in zip(s.swap_hour.tolist(), s.swap_category.tolist(), energy.tolist(), revenue.tolist(),
                              strict=True):
            row = table[h]
            if row is none:
                row = table[h] = list(none)
            if row[c]:
                row[c].append((a, r))
            else:
                row[c] = [(a, r)]
        self._req = table
        self._load = s.load_kw.tolist()
        self._res = s.res_kw.tolist()
        self._limit = s.deficit_limit_kw.tolist()
        self._tariff = s.tariff_eur_per_kwh.tolist()
        self._gprice = s.grid_price_eur_per_kwh.tolist()
        self.reset()

    @staticmethod
    def _layout_of(s: MicrogridScenario) -> tuple:
        """What the reusable constants depend on: the station's and the storage's parameters."""
        return (s.pack_kwh, s.n_packs, s.storage, s.pack_eta, s.max_c_rate, s.standard_c_rate)

    def reset(self) -> None:
        """Back to the first hour: every slot and storage pack at its initial energy."""
        s = self.s
        self.t = 0
        self.energy_kwh = s.slot_e0_kwh.tolist()
        if self._start is None:  # the storage's initial state and bounds: the same every episode of a layout
            self.storage_kwh = [b.e0_kwh for b in s.storage]
            self.soh = [b.soh0 for b in s.storage]
            bounds = [self._bounds(k) for k in range(s.n_storage)]
            self._start = (list(self.storage_kwh), list(self.soh), [b[0] for b in bounds], [b[1] for b in bounds])
        e0, soh0, lo, hi = self._start
        self.storage_kwh, self.soh, self.lo, self.hi = list(e0), list(soh0), list(lo), list(hi)

    def _bounds(self, k: int) -> tuple[float, float]:
        """Feasible signed power of storage pack ``k`` now (the shared :func:`bounds_of`)."""
        c = self._st[k]
        return bounds_of(c[0], self.storage_kwh[k], self.soh[k], c[1], c[2])

    def is_full(self, j: int) -> bool:
        return self.energy_kwh[j] == self._q[j]

    def full_count(self, c: int) -> int:
        e, q = self.energy_kwh, self._q
        return sum(1 for j in self._cat_slots[c] if e[j] == q[j])

    def step(self, action: Sequence[float]) -> StepOutcome:
        """Apply one hour's request (``n_slots + n_storage`` values; NaN must be rejected before) and settle it."""
        s, t = self.s, self.t
        if t >= s.n_steps:
            raise RuntimeError("the episode has ended; reset the state")
        ns = self._n_slots
        if len(action) != ns + len(self._st):
            raise ValueError(f"the request has {len(action)} values, expected {ns + len(self._st)} "
                             f"({ns} slots + {len(self._st)} storage packs)")
        e, q, lim, eta = self.energy_kwh, self._q, self._lim, self._eta
        # 1. swaps
        served, lost, served_slots = [], [], []
        swap_rev = 0.0
        n_lost = 0
        for c, reqs in enumerate(self._req[t]):
            i = 0
            if reqs:
                n_req = len(reqs)
                for j in self._cat_slots[c]:
                    if i == n_req:
                        break
                    if e[j] == q[j]:
                        a, rev = reqs[i]
                        e[j] = a
                        swap_rev += rev
                        served_slots.append(j)
                        i += 1
                n_lost += n_req - i
                lost.append(n_req - i)
            else:
                lost.append(0)
            served.append(i)
        # 2. storage
        clipped = 0.0
        sp = []
        charge = discharge = 0.0
        lo, hi = self.lo, self.hi
        for k, c in enumerate(self._st):
            r = action[ns + k]
            want = power_of_share(r if -1.0 <= r <= 1.0 else (1.0 if r > 1.0 else -1.0), c[1], c[2])
            p = want
            if p > hi[k]:
                p = hi[k]
            elif p < lo[k]:
                p = lo[k]
            clipped += abs(want - p)
            sp.append(p)
            if p > 0.0:
                charge += p
            else:
                discharge -= p
        # 3. station
        pst = []
        end = list(e)
        station = 0.0
        pmax = self._pmax
        for j in range(ns):
            r = action[j]
            if r <= 0.0 or e[j] == q[j]:
                if r > 0.0:
                    clipped += (pmax[j] if r >= 1.0 else r * pmax[j])
                pst.append(0.0)
                continue
            want = pmax[j] if r >= 1.0 else r * pmax[j]
            p = want
            ej = e[j]
            ee = ej + eta * p
            if ee > lim[j]:
                head = (q[j] - ej) / eta
                if ee >= self._half[j] and head <= pmax[j] + POWER_TOL_KW:
                    p, ee = head, q[j]
                else:
                    p, ee = (lim[j] - ej) / eta, lim[j]
            end[j] = ee
            clipped += abs(want - p)
            pst.append(p)
            station += p
        # 4. balance
        load, res, limit = self._load[t], self._res[t], self._limit[t]
        x = load + station + charge - discharge - res
        if x > limit + LIMIT_TOL_KW:
            f = (limit - load + res + discharge) / (station + charge)
            f = 0.0 if f < 0.0 else f
            before = station + charge
            station = 0.0
            for j in range(ns):
                p = pst[j]
                if p > 0.0:
                    p *= f
                    ee = e[j] + eta * p
                    if ee > lim[j]:
                        p, ee = (lim[j] - e[j]) / eta, lim[j]
                    pst[j], end[j] = p, ee
                    station += p
            charge = 0.0
            for k in range(len(sp)):
                if sp[k] > 0.0:
                    sp[k] *= f
                    charge += sp[k]
            clipped += before - station - charge
            x = load + station + charge - discharge - res
        cover = x if x > 0.0 else 0.0
        curtailed = -x if x < 0.0 else 0.0
        if s.off_grid:
            grid, unserved = 0.0, cover
        else:
            grid, unserved = cover, 0.0
        # 5. state update and money
        e[:] = end
        fast = []
        fast_total = 0.0
        std = self._std
        for j in range(ns):
            p = pst[j]
            fj = p - std[j] if p > std[j] else 0.0
            fast.append(fj)
            fast_total += fj
        st_wear = 0.0
        se, soh, lo, hi = self.storage_kwh, self.soh, self.lo, self.hi
        for k, c in enumerate(self._st):
            p = sp[k]
            if p == 0.0:
                continue
            if p > 0.0:
                se[k] += c[3] * p
                thr = p
            else:
                se[k] += p / c[4]
                thr = -p
            soh[k] = soh[k] - c[5] * thr - 0.0
            st_wear += c[6] * thr
            lo[k], hi[k] = bounds_of(c[0], se[k], soh[k], c[1], c[2])
        lost_pen = s.lost_swap_penalty_eur * n_lost
        res_rev = self._tariff[t] * (load - unserved)
        grid_cost = self._gprice[t] * grid
        unserved_cost = s.voll_eur_per_kwh * unserved
        pack_wear = s.pack_wear_eur_per_kwh * station
        fast_cost = s.fast_extra_eur_per_kwh * fast_total
        self.t = t + 1
        terminal = 0.0
        if self.t == s.n_steps and s.terminal_value_eur_per_kwh != 0.0:
            terminal = s.terminal_value_eur_per_kwh * (math.fsum(e) + math.fsum(self.storage_kwh)
                                                       - s.initial_energy_kwh)
        reward = (swap_rev - lost_pen + res_rev - grid_cost - unserved_cost - pack_wear - fast_cost - st_wear
                  + terminal)
        return StepOutcome(served, lost, served_slots, pst, fast, sp, grid, unserved, curtailed, swap_rev, lost_pen,
                           res_rev, grid_cost, unserved_cost, pack_wear, fast_cost, st_wear, terminal, clipped,
                           reward)

