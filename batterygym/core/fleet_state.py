"""The fleet's dynamics: the state of every asset, the projection of a request onto the feasible set, the
step and its money, for one episode (:class:`FleetState`, plain floats) and for many at once
(:class:`FleetBatch`, arrays), side by side. ``tests/test_fleet_core.py`` ties the two with a property test.

The projection, per asset (the model is in :mod:`batterygym.core.fleet`):

1. a share is clipped to [0, 1] and allocates ``share * prequalified_kw`` to its market;
2. if both the asset's up total and its down total are positive, it keeps the larger side (up on a tie)
   and drops the other (no charge and discharge in one step);
3. it scales the kept side's allocations down uniformly until their total fits the asset's feasible power
   now (rating, SoC window of the fading capacity, charge budget: :func:`~batterygym.core.battery.bounds_of`).

A request the MILP could make is left unchanged.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryBank, BatteryParams, Coefficients, bounds_batch, bounds_of, coefficients

if TYPE_CHECKING:
    from batterygym.core.fleet import FleetScenario

EUR_PER_MWH_TO_KWH = 1e-3  # prices are quoted per MWh; powers are kW


def terminal_credit(s: FleetScenario, energy_kwh: Sequence[float]) -> float:
    """Value credited on the last step for the energy left in the fleet (minus what it held)."""
    if s.terminal_value_eur_per_mwh == 0.0:
        return 0.0
    held = math.fsum(b.e0_kwh for b in s.assets)
    return s.terminal_value_eur_per_kwh * (math.fsum(energy_kwh) - held)


class StepOutcome(NamedTuple):
    """What one step did: the allocation applied (kW, assets x markets), per asset charge and discharge
    (kW), and the money (EUR); ``clipped_kw`` is what the projection removed from the request."""

    allocation_kw: np.ndarray
    charge_kw: list[float]
    discharge_kw: list[float]
    revenue_eur: float
    degradation_eur: float
    terminal_eur: float
    clipped_kw: float


class _Asset(NamedTuple):
    """One asset's constants: its prequalified markets up and down as (flat index ``i * n_markets + m``,
    market ``m``, prequalified kW), its wear and step coefficients, and its bounds' coefficients and limits."""

    up: tuple[tuple[int, int, float], ...]
    down: tuple[tuple[int, int, float], ...]
    wear: float
    eta_charge: float
    eta_discharge: float
    fade_per_kwh: float
    k: Coefficients
    charge_max: float
    discharge_max: float


class FleetState:
    """The fleet's state (energy, SoH, charge budget per asset) and its step (module docstring).

    Plain python floats over the prequalified markets only: it runs millions of times, and at fleet sizes
    of a few assets this beats numpy. :class:`FleetBatch` is the batched form.
    """

    def __init__(self, s: FleetScenario, like: FleetState | None = None) -> None:
        """``like``: a state of a scenario with the same assets and prequalification (the same layout),
        whose per-asset constants are reused (resets stay cheap)."""
        self.s = s
        self.dt = s.dt_h
        if (like is not None and like.s.assets is s.assets and like.s.prequalified_kw is s.prequalified_kw
                and like.s.directions == s.directions and like.dt == s.dt_h and like.s.n_steps == s.n_steps):
            self._consts, self._initial = like._consts, like._initial
        else:
            self._consts = self._constants(s)
            self._initial = None
        self._value = s.value_eur_per_kwh.tolist()
        self._zeros = [0.0] * (s.n_assets * s.n_markets)
        self.reset()

    @staticmethod
    def _constants(s: FleetScenario) -> list[_Asset]:
        """Per asset, its :class:`_Asset` (the bounds' coefficients once per layout: no calendar fade in a fleet)."""
        pq, bank, k = s.prequalified_kw, s.bank, s.n_markets
        rows = []
        for i, b in enumerate(s.assets):
            ups = tuple((i * k + m, m, float(pq[i, m])) for m in range(k) if s.is_up[m] and pq[i, m] > 0)
            dns = tuple((i * k + m, m, float(pq[i, m])) for m in range(k) if not s.is_up[m] and pq[i, m] > 0)
            rows.append(_Asset(ups, dns, float(s.wear_eur_per_kwh[i]), float(bank.eta_charge[i]),
                               float(bank.eta_discharge[i]), float(bank.fade_per_kwh[i]), coefficients(b, s.dt_h),
                               float(s.charge_limit_kw[i]), float(s.discharge_limit_kw[i])))
        return rows

    def reset(self) -> None:
        """Back to the episode's first step: every asset at its initial energy, SoH and charge budget."""
        if self._initial is None:
            s = self.s
            e = [b.e0_kwh for b in s.assets]
            soh = [b.soh0 for b in s.assets]
            budget = s.charge_budget_kwh.tolist()
            bounds = [bounds_of(a.k, e_i, h, a.charge_max, a.discharge_max, left)
                      for a, e_i, h, left in zip(self._consts, e, soh, budget, strict=True)]
            self._initial = (e, soh, budget, [lo for lo, _ in bounds], [hi for _, hi in bounds])
        self.t = 0
        self.energy_kwh, self.soh, self.budget_kwh, self.lo, self.hi = (list(v) for v in self._initial)

    def soc(self, i: int) -> float:
        """State of charge of asset ``i`` as a share of its current capacity."""
        return self.energy_kwh[i] / (self.soh[i] * self.s.assets[i].capacity_kwh)

    def step(self, shares: Sequence[float]) -> StepOutcome:
        """Apply one step's requested shares (flat, asset-major: ``shares[i * n_markets + m]``; NaN must be
        rejected before) and settle it."""
        s, t = self.s, self.t
        if t >= s.n_steps:
            raise RuntimeError("the episode has ended; reset the state")
        if len(shares) != len(self._zeros):
            raise ValueError(f"the request has {len(shares)} values, expected one per asset and market "
                             f"({s.n_assets} x {s.n_markets})")
        dt = self.dt
        value = self._value[t]
        energy, soh, budget, lo, hi = self.energy_kwh, self.soh, self.budget_kwh, self.lo, self.hi
        x = self._zeros.copy()
        charge, discharge = [], []
        revenue = wear = clipped = 0.0
        for i, a in enumerate(self._consts):
            up = up_val = dn = dn_val = 0.0
            for j, m, pq in a.up:
                r = shares[j]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[j] = r
                    up += r
                    up_val += value[m] * r
            for j, m, pq in a.down:
                r = shares[j]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[j] = r
                    dn += r
                    dn_val += value[m] * r
            if up > 0.0 and up >= dn:
                keep_up, keep, drop, total, val, limit = True, a.up, a.down, up, up_val, -lo[i]
            elif dn > 0.0:
                keep_up, keep, drop, total, val, limit = False, a.down, a.up, dn, dn_val, hi[i]
            else:
                charge.append(0.0)
                discharge.append(0.0)
                continue  # idle: the state and its bounds stay as they are
            asked = up + dn
            if up > 0.0 and dn > 0.0:
                for j, _, _ in drop:
                    x[j] = 0.0
            if total > limit:
                f = limit / total if limit > 0.0 else 0.0
                for j, _, _ in keep:
                    x[j] *= f
                total *= f
                val *= f
            revenue += val
            clipped += asked - total
            wear += a.wear * total
            # step_battery, term for term (no calendar fade)
            if keep_up:
                charge.append(0.0)
                discharge.append(total)
                energy[i] += -total * dt / a.eta_discharge
            else:
                charge.append(total)
                discharge.append(0.0)
                energy[i] += a.eta_charge * total * dt
                left = budget[i] - total * dt
                budget[i] = left if left > 0.0 else 0.0
            soh[i] = soh[i] - a.fade_per_kwh * (total * dt) - 0.0
            lo[i], hi[i] = bounds_of(a.k, energy[i], soh[i], a.charge_max, a.discharge_max, budget[i])
        self.t = t + 1
        terminal = terminal_credit(s, energy) if self.t == s.n_steps else 0.0
        return StepOutcome(np.array(x).reshape(s.n_assets, s.n_markets), charge, discharge, revenue * dt, wear * dt,
                           terminal, clipped)


ALL = slice(None)


def every_row(rows: np.ndarray, n: int) -> np.ndarray | slice:
    """``rows`` as an index: the slice of all ``n`` rows when it is ``0..n-1`` (a slice writes in place,
    an index array copies)."""
    if rows.shape[0] == n and n and rows[0] == 0 and rows[-1] == n - 1 and (np.diff(rows) == 1).all():
        return ALL
    return rows


def _added(x: np.ndarray, markets: tuple[int, ...]) -> np.ndarray:
    """``sum(x[m] for m in markets)`` added in order, from 0 (the markets' total per asset and row)."""
    if not markets:
        return np.zeros(x.shape[1:])
    if len(markets) == 1:
        return x[markets[0]].copy()
    total = x[markets[0]] + x[markets[1]]
    for j in markets[2:]:
        total += x[j]
    return total


class BatchOutcome(NamedTuple):
    """What one batched step did, per episode: :class:`StepOutcome`'s fields as arrays (allocation
    ``(n, n_assets, n_markets)``, charge and discharge ``(n, n_assets)``, money and clipping ``(n,)``)."""

    allocation_kw: np.ndarray
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    revenue_eur: np.ndarray
    degradation_eur: np.ndarray
    terminal_eur: np.ndarray
    clipped_kw: np.ndarray


class FleetBatch:
    """``n`` fleet episodes (rows) of ``n_assets`` assets in ``n_markets`` markets over ``n_steps`` steps of
    ``dt_h`` hours, stepped at once: :class:`FleetState`'s projection, step and money on arrays.

    A row gets its fleet with :meth:`set_fleet`, its prices with :meth:`set_prices` and starts its episode
    with :meth:`restart`. Arrays are stored markets x assets x episodes (episodes innermost: every
    operation runs over long contiguous rows); state is per asset and episode, ``(n_assets, n)``. The
    battery's bounds and update are :func:`~batterygym.core.battery.bounds_batch` and
    :meth:`~batterygym.core.battery.BatteryBank.step`.
    """

    def __init__(self, n: int, n_assets: int, n_markets: int, n_steps: int, dt_h: float) -> None:
        for name, value in (("n", n), ("n_assets", n_assets), ("n_markets", n_markets), ("n_steps", n_steps)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(dt_h, (int, float)) and math.isfinite(dt_h) and dt_h > 0):
            raise ValueError(f"dt_h must be a positive number of hours, got {dt_h!r}")
        self.n, self.n_assets, self.n_markets, self.n_steps = int(n), int(n_assets), int(n_markets), int(n_steps)
        self.dt = float(dt_h)
        a, m = self.n_assets, self.n_markets
        self.prequalified_kw = np.zeros((m, a, n))
        self.up = np.zeros((m, 1, n))  # 1.0 where market m of row n is an up market
        self._is_up = np.zeros((m, 1, n), dtype=bool)
        self.value = np.zeros((self.n_steps, m, n))  # EUR per kWh allocated, dir[m] * price / 1000
        self.terminal_value_eur_per_kwh = np.zeros(n)
        self._params: list[BatteryParams | None] = [None] * (a * n)  # asset-major: asset i of row r at i * n + r
        self.wear = np.zeros((a, n))
        self.charge_max, self.discharge_max = np.zeros((a, n)), np.zeros((a, n))
        self.e0, self.soh0, self.budget0 = np.zeros((a, n)), np.zeros((a, n)), np.zeros((a, n))
        self.energy_kwh, self.soh, self.budget_kwh = np.zeros((a, n)), np.zeros((a, n)), np.zeros((a, n))
        self.lo, self.hi = np.zeros((a, n)), np.zeros((a, n))
        self.t = np.zeros(n, dtype=np.int64)
        self._work = np.empty((m, a, n))  # a step's scratch (reused: a large new array costs page faults)
        self._bank: BatteryBank | None = None
        self._k: Coefficients | None = None
        self._sides: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # up and down markets, when shared
        self._capped = self._credit = False  # any charge budget, any terminal value

    @classmethod
    def of(cls, scenarios: Sequence[FleetScenario]) -> FleetBatch:
        """A batch playing ``scenarios`` (one row each, all of one size and step), every row restarted."""
        if not scenarios:
            raise ValueError("FleetBatch.of needs one or more FleetScenario")
        s0 = scenarios[0]
        batch = cls(len(scenarios), s0.n_assets, s0.n_markets, s0.n_steps, s0.dt_h)
        for r, s in enumerate(scenarios):
            batch.set_fleet([r], s)
            batch.set_prices([r], s.prices[None])
        batch.restart(np.arange(batch.n))
        return batch

    def set_fleet(self, rows: Sequence[int] | np.ndarray, s: FleetScenario) -> None:
        """Rows ``rows`` play scenario ``s``'s fleet: its assets, markets, prequalification and terminal value
        (any episode of a layout gives the layout's arrays; the prices are :meth:`set_prices`')."""
        shape = (s.n_assets, s.n_markets, s.n_steps)
        if shape != (self.n_assets, self.n_markets, self.n_steps) or s.dt_h != self.dt:
            raise ValueError(f"scenario has {shape} (assets, markets, steps) of {s.dt_h!r} h, the batch "
                             f"{(self.n_assets, self.n_markets, self.n_steps)} of {self.dt!r} h")
        rows = np.asarray(rows, dtype=np.intp)
        self.prequalified_kw[:, :, rows] = s.prequalified_kw.T[:, :, None]
        self.up[:, 0, rows] = s.is_up[:, None]
        self._is_up[:, 0, rows] = s.is_up[:, None]
        self.terminal_value_eur_per_kwh[rows] = s.terminal_value_eur_per_kwh
        for name, values in (("wear", s.wear_eur_per_kwh), ("charge_max", s.charge_limit_kw),
                             ("discharge_max", s.discharge_limit_kw), ("budget0", s.charge_budget_kwh),
                             ("e0", np.array([b.e0_kwh for b in s.assets])),
                             ("soh0", np.array([b.soh0 for b in s.assets]))):
            getattr(self, name)[:, rows] = np.asarray(values)[:, None]  # the same in every row
        for r in rows.tolist():
            self._params[r::self.n] = s.assets
        self._bank = self._k = None

    def set_prices(self, rows: Sequence[int] | np.ndarray, prices: np.ndarray) -> None:
        """Rows ``rows`` get prices ``(len(rows), n_steps, n_markets)`` in EUR/MWh (after :meth:`set_fleet`:
        the markets' directions sign them as :attr:`FleetScenario.value_eur_per_kwh` does)."""
        rows = np.asarray(rows, dtype=np.intp)
        p = np.asarray(prices, dtype=np.float64)
        if p.shape != (rows.shape[0], self.n_steps, self.n_markets):
            raise ValueError(f"prices must have shape {(rows.shape[0], self.n_steps, self.n_markets)}, got {p.shape}")
        at = every_row(rows, self.n)
        sign = np.where(self._is_up[:, 0, at], 1.0, -1.0)[None]  # (1, markets, rows)
        value = np.multiply(sign, p.transpose(1, 2, 0), out=self.value[:, :, at] if at is ALL else None)
        value *= EUR_PER_MWH_TO_KWH
        if at is not ALL:
            self.value[:, :, at] = value

    def _battery(self) -> tuple[BatteryBank, Coefficients]:
        """The rows' batteries as one bank (asset-major, flat) and its bound coefficients, built when the fleets
        change (with what the step may skip: markets of one direction in every row, no budget, no credit)."""
        if self._bank is None:
            if any(p is None for p in self._params):
                raise RuntimeError("every row needs a fleet (set_fleet) before it is restarted or stepped")
            self._bank = BatteryBank.of(self._params)
            self._k = self._bank.coefficients(self.dt)
            ups = self._is_up[:, 0, :]
            shared = bool((ups == ups[:, :1]).all())
            self._sides = (tuple(np.flatnonzero(ups[:, 0]).tolist()),
                           tuple(np.flatnonzero(~ups[:, 0]).tolist())) if shared else None
            self._capped = bool(np.isfinite(self.budget0).any())
            self._credit = bool((self.terminal_value_eur_per_kwh != 0.0).any())
        return self._bank, self._k

    def _bounds(self) -> None:
        """The feasible power of every asset now (:func:`bounds_batch`)."""
        _, k = self._battery()
        budget = self.budget_kwh.ravel() if self._capped else np.inf
        lo, hi = bounds_batch(k, self.energy_kwh.ravel(), self.soh.ravel(), self.charge_max.ravel(),
                              self.discharge_max.ravel(), budget)
        self.lo, self.hi = lo.reshape(self.n_assets, self.n), hi.reshape(self.n_assets, self.n)

    def restart(self, rows: Sequence[int] | np.ndarray) -> None:
        """Rows ``rows`` back to their episode's first step (initial energy, SoH and charge budget)."""
        rows = np.asarray(rows, dtype=np.intp)
        self.energy_kwh[:, rows] = self.e0[:, rows]
        self.soh[:, rows] = self.soh0[:, rows]
        self.budget_kwh[:, rows] = self.budget0[:, rows]
        self.t[rows] = 0
        self._bounds()

    def soc(self) -> np.ndarray:
        """State of charge of every asset ``(n_assets, n)``, as a share of its current capacity."""
        bank, _ = self._battery()
        return self.energy_kwh / (self.soh * bank.capacity_kwh.reshape(self.n_assets, self.n))

    def step(self, shares: np.ndarray, active: np.ndarray | None = None) -> BatchOutcome:
        """Apply one step's requested shares ``(n, n_assets * n_markets)`` (asset-major per row, finite) in
        the rows where ``active`` (default: all; the others stay as they are and earn nothing) and settle it."""
        n, a, m, dt = self.n, self.n_assets, self.n_markets, self.dt
        x = np.asarray(shares, dtype=np.float64)
        if x.shape != (n, a * m):
            raise ValueError(f"shares must have shape {(n, a * m)} (rows x assets * markets), got {x.shape}")
        t = self.t
        t0 = int(t[0])
        uniform = bool((t == t0).all())
        moving = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
        if not uniform or t0 >= self.n_steps:
            ended = (t >= self.n_steps) & moving
            if ended.any():
                raise RuntimeError(f"row {int(np.flatnonzero(ended)[0])}'s episode has ended; restart it")
        # 1. shares clipped to [0, 1] of each prequalification, (markets, assets, rows)
        share = np.clip(x, 0.0, 1.0, out=self._work.reshape(n, a * m))
        x = np.multiply(share.reshape(n, a, m).transpose(2, 1, 0), self.prequalified_kw, order="C")
        if not moving.all():
            x[:, :, ~moving] = 0.0
        sides = self._sides
        if sides is not None:  # every row's markets have the same directions: add them market by market
            up, dn = (_added(x, side) for side in sides)
        else:
            xu = x * self.up
            up, dn = xu.sum(axis=0), (x - xu).sum(axis=0)  # per asset, added market by market as FleetState does
        # 2. the larger side kept (up on a tie), the other dropped (totals are >= 0: more down than up is some down)
        keep_up = (up > 0.0) & (up >= dn)
        keep_dn = dn > up
        if sides is not None:
            for side, keep in zip(sides, (keep_up, keep_dn), strict=True):
                for j in side:
                    x[j] *= keep
        else:
            x *= np.where(self._is_up, keep_up, keep_dn)
        total = np.maximum(up, dn)  # the kept side's
        # 3. scaled down uniformly to the feasible power: by limit / total where the total is over it (0 at none)
        limit = np.maximum(np.where(keep_up, -self.lo, self.hi), 0.0)
        f = np.ones((a, n))
        np.divide(limit, total, out=f, where=total > limit)
        value = self.value[t0] if uniform else self.value[np.minimum(t, self.n_steps - 1), :, np.arange(n)].T
        val = np.multiply(x, value[:, None, :], out=self._work).sum(axis=0) * f
        x *= f
        clipped = up + dn
        total *= f
        clipped -= total
        charge = np.where(keep_dn, total, 0.0)
        discharge = np.where(keep_up, total, 0.0)
        bank, _ = self._battery()
        e, h = bank.step(self.energy_kwh.ravel(), self.soh.ravel(), (charge - discharge).ravel(), dt)
        self.energy_kwh, self.soh = e.reshape(a, n), h.reshape(a, n)
        if self._capped:
            self.budget_kwh = np.maximum(self.budget_kwh - charge * dt, 0.0)
        self._bounds()
        self.t = t_next = t + moving
        ends = moving & (t_next == self.n_steps)
        terminal = np.zeros(n)
        if self._credit and ends.any():
            terminal[ends] = (self.terminal_value_eur_per_kwh[ends]
                              * (self.energy_kwh[:, ends].sum(axis=0) - self.e0[:, ends].sum(axis=0)))
        return BatchOutcome(x.transpose(2, 1, 0), charge.T, discharge.T, val.sum(axis=0) * dt,
                            (self.wear * total).sum(axis=0) * dt, terminal, clipped.sum(axis=0))
