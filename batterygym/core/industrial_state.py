"""The industrial episode's state and step: one episode on plain floats, or N episodes on arrays.

A step takes the battery's signed power as a share of its rating: the share is clipped to [-1, 1],
mapped to power (:func:`~batterygym.core.battery.power_of_share`), projected onto the feasible
interval (:func:`~batterygym.core.battery.bounds_of`: ratings, connection, the SoC window of the
fading capacity, the charge budget), settled (:func:`~batterygym.core.industrial.settle_step`), and the
battery stepped (:func:`~batterygym.core.battery.step_battery`); the charged energy leaves the budget
and the last step credits the energy left in the battery. :class:`IndustrialState` is that step for
the scalar env's hot loop; :class:`IndustrialBatch` the same step for N episodes at once, from the
batched forms of the same equations (``tests/test_industrial_state.py`` ties the two).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from batterygym.core.battery import (
    BatteryBank,
    BatteryParams,
    bounds_batch,
    bounds_of,
    coefficients,
    power_of_share,
    powers_of_shares,
    step_battery,
)
from batterygym.core.industrial import (
    IndustrialScenario,
    default_terminal_value,
    settle_batch,
    settle_step,
    site_limits,
    terminal_credit,
)
from batterygym.core.industrial_generator import IndustrialEpisodes


def _non_finite(a: float) -> ValueError:
    return ValueError(f"action must be finite, got {'NaN' if a != a else a}")


def budget_share(budget_kwh: float, budget0_kwh: float) -> float:
    """The charge budget left as a share of the episode's (1 for no cap, 0 for a zero budget)."""
    if 0.0 < budget0_kwh < math.inf:
        return min(budget_kwh / budget0_kwh, 1.0)
    return float(budget0_kwh > 0.0)


class IndustrialState:
    """One episode's battery and bill: energy ``e`` (kWh), state of health ``soh``, the billing period's
    peak import so far ``peak`` (kW), the charge budget left ``budget`` (kWh) and the step ``t``.

    Plain floats and lists throughout, with the bound coefficients computed once per scenario: the
    scalar env calls :meth:`step` millions of times.
    """

    def __init__(self, s: IndustrialScenario, like: IndustrialState | None = None) -> None:
        b = s.battery
        self.s = s
        self._b, self._dt, self._n = b, s.dt_h, s.n_steps
        same = like is not None and like._b is b and like._dt == s.dt_h
        self._k = like._k if same else coefficients(b, s.dt_h)  # generated episodes share one battery
        self._pc, self._pd = b.p_charge_kw, b.p_discharge_kw
        self._clim = s.charge_limit_kw.tolist()
        self._dlim = s.discharge_limit_kw.tolist()
        self._inv_cap = 1.0 / b.capacity_kwh
        self._inv_conn = 1.0 / s.connection_kw
        self._opens = s._new_period
        self._budget0 = s.charge_budget_kwh
        # budget_share without a finite positive budget is a constant (1 without a cap, 0 for none)
        self._budget_const = None if 0.0 < self._budget0 < math.inf else budget_share(0.0, self._budget0)
        self.reset()

    def reset(self) -> None:
        """Back to the scenario's initial state."""
        s = self.s
        self.t = 0
        self.e = s.battery.e0_kwh
        self.soh = s.battery.soh0
        self.peak = s.initial_peak_kw
        self.budget = s.charge_budget_kwh

    def step(self, a: float) -> tuple[float, float, float, float, float, float, float, float]:
        """Apply the share ``a`` for one step: ``(battery_kw, clipped_kw, import_kw, export_kw, energy_eur,
        demand_eur, degradation_eur, terminal_eur)``, the last nonzero only on the episode's last step."""
        t = self.t
        if t >= self._n:
            raise RuntimeError("the episode has ended; call reset()")
        if not -1.0 <= a <= 1.0:  # NaN fails this too
            if not math.isfinite(a):
                raise _non_finite(a)
            a = 1.0 if a > 1.0 else -1.0
        s, dt = self.s, self._dt
        p_req = power_of_share(a, self._pc, self._pd)
        lo, hi = bounds_of(self._k, self.e, self.soh, self._clim[t], self._dlim[t], self.budget)
        p = lo if p_req < lo else (hi if p_req > hi else p_req)
        imp, exp, energy, demand, wear, self.peak = settle_step(s, t, p, self.peak)
        self.e, self.soh = step_battery(self._b, self.e, self.soh, p, dt)
        if p > 0:
            self.budget = max(self.budget - p * dt, 0.0)
        self.t = t + 1
        credit = terminal_credit(s, self.e) if self.t >= self._n else 0.0
        return p, p_req - p, imp, exp, energy, demand, wear, credit

    @property
    def done(self) -> bool:
        return self.t >= self._n

    def write_slots(self, obs: np.ndarray) -> None:
        """The observation's state slots: SoC (of the faded capacity), SoH, the billing period's peak so far
        over the connection (:meth:`IndustrialScenario.peak_before`), and the charge budget left
        (:func:`budget_share`), each clipped to [0, 1] against rounding. Written out on floats: every step."""
        soc = self.e * self._inv_cap / self.soh
        obs[0] = 0.0 if soc < 0.0 else (soc if soc < 1.0 else 1.0)  # rounding at the floor
        obs[1] = self.soh
        t = self.t
        peak = 0.0 if t < self._n and self._opens[t] else self.peak
        peak *= self._inv_conn
        obs[2] = peak if peak < 1.0 else 1.0
        if self._budget_const is None:
            share = self.budget / self._budget0
            obs[3] = share if share < 1.0 else 1.0
        else:
            obs[3] = self._budget_const


class BatchStep(NamedTuple):
    """One :meth:`IndustrialBatch.step`, one entry per episode (zeros where an episode did not step)."""

    reward: np.ndarray
    terminated: np.ndarray
    battery_kw: np.ndarray
    clipped_kw: np.ndarray
    import_kw: np.ndarray
    export_kw: np.ndarray
    energy_eur: np.ndarray
    demand_eur: np.ndarray
    degradation_eur: np.ndarray
    terminal_eur: np.ndarray


class EpisodeArrays(NamedTuple):
    """k episodes as :class:`IndustrialBatch` steps them: series time first, ``(n_steps, k)`` (or
    ``(n_steps, 1)``: one series for all k), constants ``(k,)`` or one value for all, and the battery
    (one :class:`BatteryParams` for all, or one per episode)."""

    net_kw: np.ndarray
    price_import: np.ndarray
    price_export: np.ndarray
    charge_max_kw: np.ndarray
    discharge_max_kw: np.ndarray
    rate: np.ndarray
    new_period: np.ndarray
    initial_peak_kw: np.ndarray | float
    budget_kwh: np.ndarray | float
    terminal_value: np.ndarray | float
    connection_kw: np.ndarray | float
    battery: BatteryParams | list[BatteryParams]


def arrays_of_scenarios(scenarios: Sequence[IndustrialScenario]) -> EpisodeArrays:
    """The :class:`EpisodeArrays` of scenarios (one column each; one column for all when they are one)."""
    rows = scenarios[:1] if all(s is scenarios[0] for s in scenarios) else list(scenarios)

    def stack(values: list[np.ndarray]) -> np.ndarray:
        return np.stack(values, axis=1)

    def const(values: list[float]) -> np.ndarray:
        return np.array(values)

    return EpisodeArrays(
        stack([s.net_kw for s in rows]), stack([s.price_import for s in rows]),
        stack([s.price_export for s in rows]), stack([s.charge_limit_kw for s in rows]),
        stack([s.discharge_limit_kw for s in rows]), stack([s._billing_steps[0] for s in rows]),
        stack([s._billing_steps[1] for s in rows]), const([s.initial_peak_kw for s in rows]),
        const([s.charge_budget_kwh for s in rows]), const([s.terminal_value_eur_per_kwh for s in rows]),
        const([s.connection_kw for s in rows]), [s.battery for s in rows] if len(rows) > 1 else rows[0].battery)


def arrays_of_episodes(episodes: IndustrialEpisodes) -> EpisodeArrays:
    """The :class:`EpisodeArrays` of generated episodes, from their columns (no scenario is built): the same
    values their scenarios hold."""
    cal, cfg = episodes.calendar, episodes.config
    b, net = cal.battery, episodes.net_kw
    charge, discharge = site_limits(net, cfg.connection_kw, cfg.allow_export)
    steps = [cal.billing_steps(d) for d in episodes.start_day.tolist()] if not cal.episode_billing \
        else [cal.billing_steps(0)]
    lowest = cal.prices.min(axis=1)[episodes.weekday]
    return EpisodeArrays(
        net, episodes.price_import(), cal.price_export[:, None], np.minimum(b.p_charge_kw, charge),
        np.minimum(b.p_discharge_kw, discharge), np.stack([r for r, _ in steps], axis=1),
        np.stack([o for _, o in steps], axis=1), 0.0, b.charge_budget_kwh(cal.n * cfg.dt_h / 24.0),
        default_terminal_value(lowest, b.eta_discharge), cfg.connection_kw, b)


_SERIES = ("net", "price_import", "price_export", "charge_max", "discharge_max", "rate")
_CONSTANTS = ("e0", "soh0", "peak0", "budget0", "p_charge", "p_discharge", "wear", "terminal_value", "inv_cap",
              "inv_conn")


class IndustrialBatch:
    """N industrial episodes of one length and step, stepped at once: :class:`IndustrialState` on arrays.

    Episodes are loaded into rows (:meth:`load`) as :class:`EpisodeArrays`; the series are stored time
    first, ``(n_steps, N)``, so while every episode is at the same step (they start and end together in
    a vector env) a step reads contiguous rows and gathers nothing.
    """

    def __init__(self, n: int, n_steps: int, dt_h: float) -> None:
        self.n, self.n_steps, self.dt = n, n_steps, dt_h
        for name in _SERIES:
            setattr(self, f"_{name}", np.zeros((n_steps, n)))
        self._new_period = np.zeros((n_steps, n), dtype=bool)
        self._any_new_period = np.zeros(n_steps, dtype=bool)
        for name in _CONSTANTS:
            setattr(self, f"_{name}", np.zeros(n))
        self._batteries: list[BatteryParams | None] = [None] * n
        self._bank: BatteryBank | None = None
        self.t = np.zeros(n, dtype=np.int64)
        self.e, self.soh, self.peak, self.budget = np.zeros(n), np.ones(n), np.zeros(n), np.zeros(n)
        self._t0: int | None = 0  # the step every episode is at, or None when they differ
        self._cols = np.arange(n)

    # ------------------------------------------------------------------ episodes
    def load(self, idx: Sequence[int] | np.ndarray, episodes: EpisodeArrays | Sequence[IndustrialScenario]) -> None:
        """Put episode ``j`` of ``episodes`` (arrays, or scenarios) into row ``idx[j]`` and start it."""
        idx = np.asarray(idx, dtype=np.int64)
        if not isinstance(episodes, EpisodeArrays):
            for s in episodes:
                if s.n_steps != self.n_steps or s.dt_h != self.dt:
                    raise ValueError(f"every episode must have {self.n_steps} steps of {self.dt} h, got "
                                     f"{s.n_steps} of {s.dt_h} h")
            if len(episodes) != idx.size:
                raise ValueError(f"idx must list one row per episode ({len(episodes)}), got shape {idx.shape}")
            if idx.size == 0:
                return
            episodes = arrays_of_scenarios(episodes)
        x = episodes
        if x.net_kw.shape[0] != self.n_steps or x.net_kw.shape[1] not in (1, idx.size):
            raise ValueError(f"episode series must have shape ({self.n_steps}, {idx.size}) or "
                             f"({self.n_steps}, 1), got {x.net_kw.shape}")
        cols = slice(None) if idx.size == self.n and (idx == self._cols).all() else idx
        self._net[:, cols] = x.net_kw
        self._price_import[:, cols] = x.price_import
        self._price_export[:, cols] = x.price_export
        self._charge_max[:, cols] = x.charge_max_kw
        self._discharge_max[:, cols] = x.discharge_max_kw
        self._rate[:, cols] = x.rate
        self._new_period[:, cols] = x.new_period
        self._any_new_period = self._new_period.any(axis=1)
        batteries = x.battery if isinstance(x.battery, list) else [x.battery]
        bank = BatteryBank.of(batteries)
        for name, value in (("e0", bank.e0_kwh()), ("soh0", bank.soh0()), ("peak0", x.initial_peak_kw),
                            ("budget0", x.budget_kwh), ("p_charge", [b.p_charge_kw for b in batteries]),
                            ("p_discharge", [b.p_discharge_kw for b in batteries]),
                            ("wear", [b.degradation_cost_per_kwh for b in batteries]),
                            ("terminal_value", x.terminal_value), ("inv_cap", 1.0 / bank.capacity_kwh),
                            ("inv_conn", 1.0 / np.asarray(x.connection_kw, dtype=np.float64))):
            getattr(self, f"_{name}")[cols] = value
        # the budget-share slot: budget / budget0 for a finite positive budget, else 1 (no cap) or 0
        self._budget_finite = (self._budget0 > 0.0) & (self._budget0 < math.inf)
        self._budget_base = np.where(self._budget_finite, self._budget0, 1.0)
        self._budget_else = (self._budget0 > 0.0).astype(np.float64)
        self._budget_all_finite = bool(self._budget_finite.all())
        self._symmetric = bool((self._p_charge == self._p_discharge).all())
        changed = False
        rows = idx.tolist()
        if len(batteries) == 1:
            b = batteries[0]
            if any(self._batteries[i] is not b for i in rows):
                for i in rows:
                    self._batteries[i] = b
                changed = True
        else:
            for i, b in zip(rows, batteries, strict=True):
                if self._batteries[i] is not b:
                    self._batteries[i], changed = b, True
        if changed or self._bank is None:
            self._set_battery()
        self.restart(idx)

    def _set_battery(self) -> None:
        """The battery bank and bound coefficients: one battery broadcast when every row has the same one."""
        unique = {id(b): b for b in self._batteries if b is not None}
        if len(unique) == 1:
            self._bank = BatteryBank.of(list(unique.values()))
        else:
            first = next(iter(unique.values()))
            self._bank = BatteryBank.of([b if b is not None else first for b in self._batteries])
        self._k = self._bank.coefficients(self.dt)

    def restart(self, idx: np.ndarray) -> None:
        """Episodes ``idx`` back to their initial state."""
        self.t[idx] = 0
        self.e[idx] = self._e0[idx]
        self.soh[idx] = self._soh0[idx]
        self.peak[idx] = self._peak0[idx]
        self.budget[idx] = self._budget0[idx]
        self._sync()

    @property
    def step_index(self) -> int | None:
        """The step every episode is at, or None while they are at different steps."""
        return self._t0

    def _sync(self) -> None:
        t = self.t
        self._t0 = int(t[0]) if (t == t[0]).all() else None

    def _at(self, series: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Each episode's value of ``series`` at its step (a row while they are all at one step)."""
        return series[self._t0] if self._t0 is not None else series[t, self._cols]

    # ------------------------------------------------------------------ step
    def step(self, a: np.ndarray, active: np.ndarray | None = None) -> BatchStep:
        """Apply shares ``a`` (one finite share per episode; the vector env checks them) to the episodes
        where ``active`` (all when None)."""
        a = np.asarray(a, dtype=np.float64)
        if a.shape != (self.n,):
            raise ValueError(f"a must hold one share per episode, shape ({self.n},), got {a.shape}")
        if active is not None and active.all():
            active = None
        if active is not None and not active.any():
            z = np.zeros(self.n)
            return BatchStep(z, np.zeros(self.n, dtype=bool), z, z, z, z, z, z, z, z)
        if active is None and self._t0 is not None:
            if self._t0 >= self.n_steps:
                raise RuntimeError("the episodes have ended; restart them before stepping them")
            t = self.t
        else:
            self._t0 = None
            t = self.t if active is None else np.where(active, self.t, 0)
            if (t >= self.n_steps).any():
                raise RuntimeError("an episode has ended; restart it before stepping it")
        dt, k = self.dt, self._k
        a = np.minimum(np.maximum(a, -1.0), 1.0)
        # one rating both ways (the usual pack) skips the choice of rating: a * rating either way
        p_req = a * self._p_charge if self._symmetric else powers_of_shares(a, self._p_charge, self._p_discharge)
        lo, hi = bounds_batch(k, self.e, self.soh, self._at(self._charge_max, t), self._at(self._discharge_max, t),
                              self.budget)
        p = np.minimum(np.maximum(p_req, lo), hi)
        imp, exp, energy, demand, wear, peak = settle_batch(
            self._at(self._net, t), p, self._at(self._price_import, t), self._at(self._price_export, t),
            self._at(self._rate, t), self._at(self._new_period, t), self.peak, self._wear, dt)
        e, soh = self._bank.step(self.e, self.soh, p, dt)
        charged = np.maximum(p, 0.0)
        budget = np.maximum(self.budget - (charged * dt if dt != 1.0 else charged), 0.0)  # x * 1.0 is x
        t_next = t + 1
        reward = -(energy + demand + wear)
        if self._t0 is not None:
            ended = self._t0 + 1 >= self.n_steps
            terminated = np.full(self.n, ended)
        else:
            terminated = t_next >= self.n_steps
            ended = bool(terminated.any())
        if ended:
            credit = np.where(terminated, self._terminal_value * (e - self._e0), 0.0)
            reward += credit
        else:
            credit = np.zeros(self.n)
        if active is None:
            self.e, self.soh, self.peak, self.budget, self.t = e, soh, peak, budget, t_next
            if self._t0 is not None:
                self._t0 += 1
            else:
                self._sync()
            return BatchStep(reward, terminated, p, p_req - p, imp, exp, energy, demand, wear, credit)
        self.e, self.soh = np.where(active, e, self.e), np.where(active, soh, self.soh)
        self.peak, self.budget = np.where(active, peak, self.peak), np.where(active, budget, self.budget)
        self.t = np.where(active, t_next, self.t)
        self._sync()
        parts = [np.where(active, x, 0.0) for x in (reward, p, p_req - p, imp, exp, energy, demand, wear, credit)]
        return BatchStep(parts[0], terminated & active, *parts[1:])

    def write_slots(self, out: np.ndarray) -> None:
        """:meth:`IndustrialState.write_slots` for every episode: columns 0-3 of ``out`` (``(N, >= 4)``)."""
        soc = self.e * self._inv_cap
        soc /= self.soh
        out[:, 0] = np.minimum(np.maximum(soc, 0.0, out=soc), 1.0, out=soc)
        out[:, 1] = self.soh
        peak = self._peak_before() * self._inv_conn
        out[:, 2] = np.minimum(peak, 1.0, out=peak)
        share = self.budget / self._budget_base
        np.minimum(share, 1.0, out=share)
        out[:, 3] = share if self._budget_all_finite else np.where(self._budget_finite, share, self._budget_else)

    def _peak_before(self) -> np.ndarray:
        """:meth:`IndustrialScenario.peak_before` per episode: 0 where the current step opens a billing period."""
        t0 = self._t0
        if t0 is not None:
            if t0 >= self.n_steps or not self._any_new_period[t0]:
                return self.peak
            return np.where(self._new_period[t0], 0.0, self.peak)
        opens = self._new_period[np.minimum(self.t, self.n_steps - 1), self._cols] & (self.t < self.n_steps)
        return np.where(opens, 0.0, self.peak)
