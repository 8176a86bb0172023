"""Many microgrid episodes at once: their stacked arrays (:class:`MicrogridEpisodes`) and their batched
hourly step (:class:`MicrogridBatchState`), row for row the equations of
:class:`~batterygym.core.microgrid_state.MicrogridState` on ``(episodes, slots)`` and
``(episodes, storage packs)`` arrays, for the vector env. ``tests/test_microgrid_vector.py`` ties the
two steps with a property test.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryBank, BatteryParams, bounds_batch, powers_of_shares
from batterygym.core.microgrid import (
    DT_H,
    FULL_GAP_KWH,
    LIMIT_TOL_KW,
    POWER_TOL_KW,
    MicrogridScenario,
    deficit_limit_kw,
    renewables_kw,
)

# the scenario fields each episode has its own of; the others every episode of a batch shares
PER_EPISODE = ("slot_e0_kwh", "storage", "pv_kw", "wind_kw", "load_kw", "tariff_eur_per_kwh", "grid_price_eur_per_kwh",
               "swap_hour", "swap_category", "swap_soc", "terminal_value_eur_per_kwh", "start")
SERIES = ("pv_kw", "wind_kw", "load_kw", "tariff_eur_per_kwh", "grid_price_eur_per_kwh")


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class MicrogridEpisodes(NamedTuple):
    """``n`` episodes of one station as stacked arrays: what the generator draws in one batch and what
    :class:`MicrogridBatchState` starts from. ``shared`` holds the :class:`MicrogridScenario` fields every
    episode has in common; series are ``(n, T)``, ``slot_e0_kwh`` ``(n, S)``; episode ``i``'s requests are
    ``swap_*[swap_offsets[i]:swap_offsets[i + 1]]``; ``storage`` has one tuple of packs per episode."""

    shared: dict[str, Any]
    slot_e0_kwh: np.ndarray
    pv_kw: np.ndarray
    wind_kw: np.ndarray
    load_kw: np.ndarray
    tariff_eur_per_kwh: np.ndarray
    grid_price_eur_per_kwh: np.ndarray
    swap_offsets: np.ndarray
    swap_hour: np.ndarray
    swap_category: np.ndarray
    swap_soc: np.ndarray
    storage: tuple[tuple[BatteryParams, ...], ...]
    terminal_value_eur_per_kwh: np.ndarray
    start: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.slot_e0_kwh.shape[0])

    @property
    def res_kw(self) -> np.ndarray:
        """``(n, T)``: :attr:`MicrogridScenario.res_kw` of every episode."""
        return renewables_kw(self.pv_kw, self.wind_kw)

    @property
    def deficit_limit_kw(self) -> np.ndarray:
        """``(n, T)``: :attr:`MicrogridScenario.deficit_limit_kw` of every episode."""
        return deficit_limit_kw(self.load_kw, self.shared["off_grid"], self.shared["import_limit_kw"])

    def scenario(self, i: int) -> MicrogridScenario:
        """Episode ``i`` as a :class:`MicrogridScenario` (its fields are valid by construction)."""
        a, b = int(self.swap_offsets[i]), int(self.swap_offsets[i + 1])
        sh = self.shared
        derived = {"res_kw": self.res_kw[i], "deficit_limit_kw": self.deficit_limit_kw[i]}
        return MicrogridScenario._from_valid(
            derived, **sh, pv_kw=self.pv_kw[i], wind_kw=self.wind_kw[i], load_kw=self.load_kw[i],
            tariff_eur_per_kwh=self.tariff_eur_per_kwh[i], grid_price_eur_per_kwh=self.grid_price_eur_per_kwh[i],
            slot_e0_kwh=self.slot_e0_kwh[i], storage=self.storage[i],
            swap_hour=self.swap_hour[a:b], swap_category=self.swap_category[a:b], swap_soc=self.swap_soc[a:b],
            terminal_value_eur_per_kwh=float(self.terminal_value_eur_per_kwh[i]), start=self.start[i])

    @classmethod
    def of(cls, scenarios: list[MicrogridScenario] | tuple[MicrogridScenario, ...]) -> MicrogridEpisodes:
        """Stack scenarios that share their station, prices' length and every scalar setting."""
        if not scenarios or not all(isinstance(s, MicrogridScenario) for s in scenarios):
            raise ValueError("MicrogridEpisodes.of needs one or more MicrogridScenario")
        first = scenarios[0]
        shared = {f.name: getattr(first, f.name) for f in fields(MicrogridScenario) if f.name not in PER_EPISODE}
        for k, s in enumerate(scenarios[1:], 1):
            for name, v in shared.items():
                w = getattr(s, name)
                same = np.array_equal(v, w) if isinstance(v, np.ndarray) else v == w
                if not same:
                    raise ValueError(f"scenarios[{k}].{name} differs from scenarios[0]'s: a batch shares it")
            if s.n_steps != first.n_steps:
                raise ValueError(f"scenarios[{k}] has {s.n_steps} steps, scenarios[0] {first.n_steps}")
        counts = [s.n_requests for s in scenarios]
        return cls(
            shared, _frozen(np.stack([s.slot_e0_kwh for s in scenarios])),
            *(_frozen(np.stack([getattr(s, name) for s in scenarios])) for name in SERIES),
            _frozen(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)),
            *(_frozen(np.concatenate([getattr(s, name) for s in scenarios]))
              for name in ("swap_hour", "swap_category", "swap_soc")),
            tuple(s.storage for s in scenarios),
            _frozen(np.array([s.terminal_value_eur_per_kwh for s in scenarios], dtype=np.float64)),
            tuple(s.start for s in scenarios))


class EpisodeTables(NamedTuple):
    """What :meth:`MicrogridBatchState.start` writes into its rows, per episode: the hourly series, the
    requests that can be served (by hour and slot position) and the initial state."""

    load: np.ndarray  # (m, T)
    res: np.ndarray
    limit: np.ndarray
    tariff: np.ndarray
    grid_price: np.ndarray
    req_count: np.ndarray  # (m, T, C): requests of the hour per category
    req_episode: np.ndarray  # per request that a slot can serve: its episode,
    req_at: np.ndarray  # its place t * S + first_slot[c] + i (the i-th request of (t, c), i < n_c),
    req_kwh: np.ndarray  # its arriving energy
    req_eur: np.ndarray  # and its revenue
    e0: np.ndarray  # (m, S)
    terminal_value: np.ndarray  # (m,)
    storage: tuple[tuple[BatteryParams, ...], ...]


class BatchOutcome(NamedTuple):
    """One hour of every episode: :class:`~batterygym.core.microgrid_state.StepOutcome`'s fields as arrays
    (``(n, C)``, ``(n, S)``, ``(n, K)`` or ``(n,)``), without the served slots and fast powers."""

    served: np.ndarray
    lost: np.ndarray
    station_kw: np.ndarray
    storage_kw: np.ndarray
    grid_kw: np.ndarray
    unserved_kw: np.ndarray
    curtailed_kw: np.ndarray
    swap_revenue_eur: np.ndarray
    lost_penalty_eur: np.ndarray
    resident_revenue_eur: np.ndarray
    grid_cost_eur: np.ndarray
    unserved_cost_eur: np.ndarray
    pack_wear_eur: np.ndarray
    fast_charge_eur: np.ndarray
    storage_wear_eur: np.ndarray
    terminal_eur: np.ndarray
    clipped_kw: np.ndarray
    reward: np.ndarray


class MicrogridBatchState:
    """``n`` microgrid episodes of one station layout (``shared``: :attr:`MicrogridEpisodes.shared`) and
    their batched step. Rows start with :meth:`start`; :meth:`step` applies one hour to the active rows,
    as :meth:`MicrogridState.step <batterygym.core.microgrid_state.MicrogridState.step>` does to one."""

    def __init__(self, n: int, shared: dict[str, Any], n_steps: int, n_storage: int) -> None:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n, self.n_steps, self.shared = n, n_steps, shared
        sh = shared
        self.n_packs = np.array(sh["n_packs"], dtype=np.int64)
        self.slot_category = np.repeat(np.arange(len(sh["n_packs"])), sh["n_packs"])
        self.first_slot = np.concatenate([[0], np.cumsum(self.n_packs)[:-1]]).astype(np.int64)
        q = np.array(sh["pack_kwh"])[self.slot_category]
        self.q, self.lim, self.half = q, q - FULL_GAP_KWH, q - 0.5 * FULL_GAP_KWH
        self.pmax, self.std = sh["max_c_rate"] * q, sh["standard_c_rate"] * q
        self.eta = sh["pack_eta"]
        n_s, n_c, t_n, k_n = q.shape[0], self.n_packs.shape[0], n_steps, n_storage
        self.n_slots, self.n_storage = n_s, k_n
        self._rows = np.arange(n)
        self._slot_first = self.first_slot[self.slot_category]
        z = np.zeros
        self.t = z(n, dtype=np.int64)
        self.energy_kwh, self._e0 = z((n, n_s)), z((n, n_s))
        self.storage_kwh, self.soh, self.lo, self.hi = z((n, k_n)), z((n, k_n)), z((n, k_n)), z((n, k_n))
        self._load, self._res, self._limit, self._tariff, self._gprice = (z((n, t_n)) for _ in range(5))
        self._count = z((n, t_n, n_c), dtype=np.int64)
        self._count_slot = z((n, t_n, n_s), dtype=np.int64)  # the requests of each slot's category
        self._ones_s, self._ones_k = np.ones(n_s), np.ones(k_n)
        # per-slot constants repeated for every row: same-shape contiguous operands run as one flat loop
        self._q_rows, self._lim_rows, self._pmax_rows, self._std_rows = (
            np.ascontiguousarray(np.broadcast_to(a, (n, n_s))) for a in (self.q, self.lim, self.pmax, self.std))
        same = self.slot_category[:, None] == self.slot_category[None, :]
        self._same_before = (same & np.tri(n_s, dtype=bool).T).astype(np.float64)  # [i, j]: i <= j, one category
        self._onehot = (self.slot_category[:, None] == np.arange(n_c)[None, :]).astype(np.float64)
        self._req_kwh, self._req_eur = z((n, t_n, n_s)), z((n, t_n, n_s))
        self._tv, self._initial = z(n), z(n)
        self._storage: list[tuple[BatteryParams, ...] | None] = [None] * n
        self._bank: BatteryBank | None = None

    # ------------------------------------------------------------------ episodes
    def tables(self, ep: MicrogridEpisodes) -> EpisodeTables:
        """The per-episode arrays :meth:`start` writes, built for all of ``ep``'s episodes at once."""
        sh = self.shared
        m, t_n, n_c, n_s = ep.n, self.n_steps, self.n_packs.shape[0], self.n_slots
        res, limit = ep.res_kw, ep.deficit_limit_kw
        cat, hour = ep.swap_category, ep.swap_hour
        qc = np.asarray(sh["pack_kwh"])[cat]
        energy = ep.swap_soc * qc
        revenue = sh["swap_fee_eur"] + sh["swap_price_eur_per_kwh"] * (qc - energy)
        row = np.repeat(np.arange(m), np.diff(ep.swap_offsets))
        group = (row * t_n + hour) * n_c + cat
        counts = np.bincount(group, minlength=m * t_n * n_c)
        order = np.argsort(group, kind="stable")
        rank = np.empty(group.shape[0], dtype=np.int64)
        rank[order] = np.arange(group.shape[0]) - (np.cumsum(counts) - counts)[group[order]]
        keep = np.flatnonzero(rank < self.n_packs[cat])
        at = hour[keep] * n_s + self.first_slot[cat[keep]] + rank[keep]
        return EpisodeTables(ep.load_kw, res, limit, ep.tariff_eur_per_kwh, ep.grid_price_eur_per_kwh,
                             counts.reshape(m, t_n, n_c), row[keep], at, energy[keep], revenue[keep],
                             ep.slot_e0_kwh, ep.terminal_value_eur_per_kwh, ep.storage)

    def start(self, idx: np.ndarray, tab: EpisodeTables) -> None:
        """Start rows ``idx`` (ascending) on the episodes of ``tab`` (one per row, or one for all of them)."""
        idx = np.asarray(idx, dtype=np.int64)
        m = idx.shape[0]
        sel = slice(None) if m == self.n else idx  # every row: plain slices, no gathers
        self._load[sel], self._res[sel], self._limit[sel] = tab.load, tab.res, tab.limit
        self._tariff[sel], self._gprice[sel], self._count[sel] = tab.tariff, tab.grid_price, tab.req_count
        self._count_slot[sel] = tab.req_count[:, :, self.slot_category]
        self._req_kwh[sel], self._req_eur[sel] = 0.0, 0.0
        block = self.n_steps * self.n_slots
        if tab.e0.shape[0] == m:
            at = idx[tab.req_episode] * block + tab.req_at
            kwh, eur = tab.req_kwh, tab.req_eur
        else:  # one episode for every row
            at = (idx[:, None] * block + tab.req_at[None, :]).ravel()
            kwh, eur = np.tile(tab.req_kwh, m), np.tile(tab.req_eur, m)
        self._req_kwh.ravel()[at], self._req_eur.ravel()[at] = kwh, eur
        self._tv[sel] = tab.terminal_value
        self._e0[sel] = tab.e0
        self.energy_kwh[sel] = tab.e0
        self.t[sel] = 0
        stores = tab.storage if len(tab.storage) == m else tab.storage * m
        changed = False
        for i, st in zip(idx.tolist(), stores, strict=True):
            if self._storage[i] is not st:
                self._storage[i], changed = st, True
        if self.n_storage and (changed or self._bank is None):
            self._set_bank()
        if self.n_storage:
            self.storage_kwh[sel], self.soh[sel] = self._e0_st[sel], self._soh0[sel]
            self.lo[sel], self.hi[sel] = self._lo0[sel], self._hi0[sel]
        st_e0 = self.storage_kwh[sel] @ self._ones_k
        self._initial[sel] = self._e0[sel].sum(axis=1) + st_e0

    def _set_bank(self) -> None:
        """The storage packs of every row as one :class:`BatteryBank` of ``(n, K)`` arrays (contiguous, so every
        operation runs as one flat loop), with the per-pack ratings, wear and initial state beside it."""
        first = self._storage[0]
        same = all(st is first for st in self._storage)
        if not same and any(st is None for st in self._storage):
            return  # rows not started yet; the bank is set once every row has its packs
        packs = list(first) if same else [b for st in self._storage for b in st]
        shape = (self.n, self.n_storage)

        def rows(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(a, shape)) if same else np.asarray(a).reshape(shape)

        bank = BatteryBank.of(packs)
        self._bank = replace(bank, **{f.name: rows(getattr(bank, f.name)) for f in fields(BatteryBank)
                                      if f.name != "params"})
        self._pc, self._pd, self._wear = (rows(np.array([getattr(b, name) for b in packs]))
                                          for name in ("p_charge_kw", "p_discharge_kw", "degradation_cost_per_kwh"))
        self._e0_st, self._soh0 = rows(bank.e0_kwh()), rows(bank.soh0())
        self.inv_capacity = 1.0 / self._bank.capacity_kwh  # for the observation's SoC
        self._coef = self._bank.coefficients(DT_H)
        self._lo0, self._hi0 = bounds_batch(self._coef, self._e0_st, self._soh0, self._pc, self._pd)  # at the start

    # ------------------------------------------------------------------ the hour
    def step(self, action: np.ndarray, active: np.ndarray) -> BatchOutcome:
        """One hour of every row where ``active`` (``action``: ``(n, S + K)``, finite); the other rows keep
        their state, and their entries of the outcome mean nothing (a caller masks them). The rare cases
        (a charge ending within eps of full, a deficit above its limit) are worked on the few entries they
        concern."""
        sh, rows, n_s, n, t_n = self.shared, self._rows, self.n_slots, self.n, self.n_steps
        tt = np.minimum(self.t, t_n - 1)
        e0, q, lim, eta = self.energy_kwh, self._q_rows, self._lim_rows, self.eta
        # 1. swaps: the full slots of a category in ascending order take its requests in arrival order
        full = e0 == q
        f_full = full.astype(np.float64)
        rank = f_full @ self._same_before  # 1-based rank of a full slot among its category's full slots
        hour = rows * t_n + tt
        served_slot = full & (rank <= self._count_slot.reshape(n * t_n, n_s)[hour])
        sv = np.flatnonzero(served_slot)
        sv_row = sv // n_s
        at = hour[sv_row] * n_s + self._slot_first[sv - sv_row * n_s] + rank.ravel()[sv].astype(np.int64) - 1
        e = e0.copy()
        e.ravel()[sv] = self._req_kwh.ravel()[at]
        swap_rev = np.bincount(sv_row, weights=self._req_eur.ravel()[at], minlength=n)
        count = self._count.reshape(n * t_n, -1)[hour]
        served = np.minimum(count, (f_full @ self._onehot).astype(np.int64))
        lost = count - served
        full &= ~served_slot
        # 2. storage: the share of the rating, clipped to the shared bounds
        if self.n_storage:
            want_st = powers_of_shares(np.clip(action[:, n_s:], -1.0, 1.0), self._pc, self._pd)  # (n, K) contiguous
            sp = np.minimum(np.maximum(want_st, self.lo), self.hi)  # lo <= hi always
            ones_k = self._ones_k
            clipped = np.abs(want_st - sp) @ ones_k
            charge = np.maximum(sp, 0.0) @ ones_k
            discharge = charge - sp @ ones_k
        else:
            sp = np.zeros((n, 0))
            clipped, charge, discharge = np.zeros(n), np.zeros(n), np.zeros(n)
        # 3. station: 1C at most, none for a full pack, an end within eps of full snapped
        r = np.ascontiguousarray(action[:, :n_s])
        want = np.minimum(r, 1.0) * self._pmax_rows
        asks = r > 0.0
        charging = asks > full  # asks and not full
        clipped += np.where(asks & full, want, 0.0) @ self._ones_s
        ee = e + eta * want
        p = np.where(charging, want, 0.0)
        end = np.where(charging, ee, e)
        ov = np.flatnonzero(charging & (ee > lim))
        if ov.size:
            j = ov % n_s
            ef, wf, qf, limf = e.ravel()[ov], want.ravel()[ov], self.q[j], self.lim[j]
            head = (qf - ef) / eta
            snap = (ee.ravel()[ov] >= self.half[j]) & (head <= self.pmax[j] + POWER_TOL_KW)
            pf = np.where(snap, head, (limf - ef) / eta)
            p.ravel()[ov], end.ravel()[ov] = pf, np.where(snap, qf, limf)
            clipped += np.bincount(ov // n_s, weights=np.abs(wf - pf), minlength=n)
        station = p @ self._ones_s  # row sums (a matrix product: faster than sum(axis=1) on short rows)
        # 4. balance: a deficit above its limit scales every charge down by one factor
        load, res, limit = self._load.ravel()[hour], self._res.ravel()[hour], self._limit.ravel()[hour]
        x = load + station + charge - discharge - res
        sc = np.flatnonzero(active & (x > limit + LIMIT_TOL_KW))
        if sc.size:
            ch, dis, ld, rs = charge[sc], discharge[sc], load[sc], res[sc]
            f = np.maximum((limit[sc] - ld + rs + dis) / (station[sc] + ch), 0.0)
            before = station[sc] + ch
            psc, esc = p[sc], e[sc]
            ps = psc * f[:, None]
            es = esc + eta * ps
            cap = es > self.lim
            ps, es = np.where(cap, (self.lim - esc) / eta, ps), np.where(cap, self.lim, es)
            grow = psc > 0.0
            p[sc], end[sc] = np.where(grow, ps, psc), np.where(grow, es, end[sc])
            st_sc = p[sc].sum(axis=1)
            spsc = sp[sc]
            spsc = np.where(spsc > 0.0, spsc * f[:, None], spsc)
            sp[sc] = spsc
            ch = np.maximum(spsc, 0.0).sum(axis=1)
            station[sc], charge[sc] = st_sc, ch
            clipped[sc] += before - st_sc - ch
            x[sc] = ld + st_sc + ch - dis - rs
        cover = np.maximum(x, 0.0)
        curtailed = np.maximum(-x, 0.0)
        zero = np.zeros(n)
        grid, unserved = (zero, cover) if sh["off_grid"] else (cover, zero)
        # 5. state update and money
        every = bool(active.all())
        act = active[:, None]
        self.energy_kwh = end if every else np.where(act, end, e0)
        fast = np.maximum(p - self._std_rows, 0.0) @ self._ones_s  # p - std above the standard rate, else 0
        if self.n_storage:
            se, soh = self._bank.step(self.storage_kwh, self.soh, sp, DT_H)
            self.storage_kwh = se if every else np.where(act, se, self.storage_kwh)
            self.soh = soh if every else np.where(act, soh, self.soh)
            st_wear = (self._wear * np.abs(sp)) @ self._ones_k
            self.lo, self.hi = bounds_batch(self._coef, self.storage_kwh, self.soh, self._pc, self._pd)
        else:
            st_wear = zero
        lost_pen = sh["lost_swap_penalty_eur"] * lost.sum(axis=1)
        res_rev = self._tariff.ravel()[hour] * (load - unserved)
        grid_cost = self._gprice.ravel()[hour] * grid
        unserved_cost = sh["voll_eur_per_kwh"] * unserved
        pack_wear = sh["pack_wear_eur_per_kwh"] * station
        fast_cost = sh["fast_extra_eur_per_kwh"] * fast
        self.t = self.t + active
        ends = active & (self.t == t_n) & (self._tv != 0.0)
        terminal = zero
        if ends.any():
            left = self.energy_kwh.sum(axis=1) + self.storage_kwh.sum(axis=1) - self._initial
            terminal = np.where(ends, self._tv * left, 0.0)
        reward = (swap_rev - lost_pen + res_rev - grid_cost - unserved_cost - pack_wear - fast_cost - st_wear
                  + terminal)
        return BatchOutcome(served, lost, p, sp, grid, unserved, curtailed, swap_rev, lost_pen, res_rev, grid_cost,
                            unserved_cost, pack_wear, fast_cost, st_wear, terminal, clipped, reward)
