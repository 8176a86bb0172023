"""The V2G aggregator's state and step: one episode (:class:`V2GState`) or many at once (:class:`V2GBatch`).

The model is :mod:`batterygym.core.v2g`'s (module docstring). Both classes project a request with the
same :func:`project`, on ``(n_evs,)`` or ``(n_envs, n_evs)`` arrays, and read an EV's day through the
same :func:`day_patterns` and :func:`departure_floor` (which :class:`V2GScenario`'s per-step arrays are
built with too); ``tests/test_v2g_core.py`` ties the batched step to the scalar one.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryParams, Coefficients, coefficients, powers_of_shares, window_batch

if TYPE_CHECKING:
    from batterygym.core.v2g import V2GScenario

HOURS = 24  # hourly steps per day: every day starts at midnight


# ---------------------------------------------------------------------------------------------- an EV's day
def plugged(hour: np.ndarray, arrival_hour: np.ndarray, departure_hour: np.ndarray) -> np.ndarray:
    """Plugged in at hour of day ``hour``: ``arrival_hour <= hour < departure_hour`` (arrays broadcast)."""
    return (hour >= arrival_hour) & (hour < departure_hour)


def hours_left_at(hour: np.ndarray, departure_hour: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Plugged hours left including the current one (0 when absent), as floats."""
    return np.where(present, departure_hour - hour, 0.0)


def departure_floor(ev: BatteryParams, required_kwh: np.ndarray, hours_after: np.ndarray, dt: float) -> np.ndarray:
    """Least energy after this step from which the requirement stays reachable at full charging power:
    ``required - eta_c * MPc * dt * hours_after``, with ``hours_after`` the plugged hours after this one
    (``inf`` when absent, which makes the floor ``-inf``: none)."""
    return required_kwh - ev.eta_charge * ev.p_charge_kw * dt * hours_after


CODES = HOURS + 1  # departure hours 0..24: an EV-day's code is arrival_hour * CODES + departure_hour
NEVER = (HOURS + 1) * CODES  # the code of no EV-day: arrives at hour 25, never plugged in, never arriving


def day_code(arrival_hour: np.ndarray, departure_hour: np.ndarray) -> np.ndarray:
    """The code of each EV-day, its column in :func:`day_patterns`."""
    return arrival_hour * CODES + departure_hour


class DayPatterns(NamedTuple):
    """What an EV-day looks like hour by hour, ``(25, NEVER + 1)`` per hour of day (hour 24: the day is
    over) and day code: all an EV's day depends on is when it arrives and leaves, so episodes look these
    columns up."""

    present: np.ndarray  # plugged in (:func:`plugged`)
    hours_left: np.ndarray  # :func:`hours_left_at`
    hours_after: np.ndarray  # plugged hours after this one (inf when absent), for :func:`departure_floor`
    arriving: np.ndarray  # its energy is set to the arrival energy when this hour begins


@functools.cache
def day_patterns() -> DayPatterns:
    """:class:`DayPatterns` of every arrival hour (0..23, and 25 for :data:`NEVER`) and departure hour (0..24)."""
    arrival, departure = np.divmod(np.arange(NEVER + 1), CODES)
    hour = np.arange(HOURS + 1)[:, None]
    present = plugged(hour, arrival, departure)
    left = hours_left_at(hour, departure, present)
    out = DayPatterns(present, left, np.where(present, np.maximum(left - 1.0, 0.0), np.inf), hour == arrival)
    for a in out:
        a.setflags(write=False)
    return out


class StepArrays(NamedTuple):
    """An episode's EV-days hour by hour ``(T, N)``, looked up in :func:`day_patterns` (read-only)."""

    present: np.ndarray
    arriving: np.ndarray
    hours_left: np.ndarray
    required_now_kwh: np.ndarray  # the energy required at the current plug-in's departure, 0 when absent
    floor_next_kwh: np.ndarray  # :func:`departure_floor`, -inf when absent


def step_arrays(ev: BatteryParams, arrival_hour: np.ndarray, departure_hour: np.ndarray, required_kwh: np.ndarray,
                dt: float) -> StepArrays:
    """:class:`StepArrays` of the EV-days ``(D, N)`` of one episode (days of 24 steps)."""
    code = day_code(arrival_hour, departure_hour)
    d, n = code.shape
    # each table (25, codes) read at the EV-days' codes: (24, D, N), as (T, N)
    if d == 1:
        present, left, after, arriving = (a[:HOURS].take(code[0], axis=1) for a in day_patterns())
    else:
        present, left, after, arriving = (a[:HOURS].take(code, axis=1).transpose(1, 0, 2).reshape(d * HOURS, n)
                                          for a in day_patterns())
    required_now = np.where(present.reshape(d, HOURS, n), required_kwh[:, None, :], 0.0).reshape(d * HOURS, n)
    out = StepArrays(present, arriving, left, required_now, departure_floor(ev, required_now, after, dt))
    for a in out:
        a.setflags(write=False)
    return out


# ---------------------------------------------------------------------------------------------- the projection
class Projection(NamedTuple):
    """The constants of :func:`project` for one EV type, deployment shares and step length."""

    battery: Coefficients  # the shared model's bound coefficients (SoC window, kWh per kW charged, discharged)
    mpc: float
    mpd: float
    swing: float
    up_from_q: float  # 1 / (1 - ExU): P1 and E2 on r_up
    up_from_head: float  # 1 / ExU: E1 on r_up
    one_m_xu: float
    dn_from_q: float  # 1 / ExD
    dn_from_mpc: float  # 1 / (1 - ExD)
    xu: float
    eta_c: float
    inv_eta_d: float
    dt: float


def projection(ev: BatteryParams, expected_up: float, expected_down: float, dt: float) -> Projection:
    """:func:`project`'s constants for EVs ``ev``."""
    xu, xd = expected_up, expected_down
    return Projection(coefficients(ev, dt), ev.p_charge_kw, ev.p_discharge_kw, ev.p_charge_kw + ev.p_discharge_kw,
                      1.0 / (1.0 - xu), 1.0 / xu, 1.0 - xu, 1.0 / xd, 1.0 / (1.0 - xd), xu,
                      ev.eta_charge, 1.0 / ev.eta_discharge, dt)


def project(k: Projection, a: np.ndarray, e: np.ndarray, floor_next: np.ndarray) -> tuple[np.ndarray, ...]:
    """Project the shares ``a`` (``(..., 3)``: power, reg_up, reg_down; zero for absent EVs) of EVs with energy
    ``e`` onto the deliverable set (:class:`V2GState`) and step the energy: ``(q, r_up, r_dn, want_q, want_u,
    want_d, e_next)``, what was applied (kW), what was asked for and the energy after the step.

    The SoC window is the shared battery model's (:func:`~batterygym.core.battery.window_batch`, no power limit:
    the charger's limits enter as P1 and P2); the departure floor ``F`` asks for the power that takes ``E`` to
    ``F``, ``(F - E) / k_ceiling`` when charging and ``(F - E) / k_floor`` when discharging (the same
    coefficients: the battery has no fade), the larger of the two.
    """
    kb, mpc, mpd, swing, ku1, ku2, one_m_xu, kd1, kd2, xu, eta_c, inv_eta_d, dt = k
    floor, head = window_batch(kb, e)
    x = floor_next - e
    q_hi = np.minimum(head, mpc)
    q_lo = np.minimum(np.maximum(np.maximum(floor, x / kb.k_ceiling), np.maximum(x / kb.k_floor, -mpd)), q_hi)
    want_q = powers_of_shares(a[..., 0], mpc, mpd)
    q = np.minimum(np.maximum(want_q, q_lo), q_hi)
    q_mpd = q + mpd  # >= 0 and q_hi - q >= 0 exactly: q lies in [q_lo, q_hi] with q_lo >= -mpd
    want_u = np.maximum(a[..., 1], 0.0) * swing
    r_up = np.minimum(want_u, np.minimum(q_mpd * ku1, (q_hi - q) * ku2))
    dn_hi = np.minimum(np.minimum((q_mpd - one_m_xu * r_up) * kd1, (mpc - q - xu * r_up) * kd2), (q - floor) * kd1)
    want_d = np.maximum(a[..., 2], 0.0) * swing
    r_dn = np.minimum(want_d, np.maximum(dn_hi, 0.0))
    # the shared battery equation with eta_c <= 1 <= 1 / eta_d: the smaller product is the right direction's
    e_next = e + np.minimum(q * eta_c, q * inv_eta_d) * dt
    return q, r_up, r_dn, want_q, want_u, want_d, e_next


# ---------------------------------------------------------------------------------------------- one episode
class V2GStep(NamedTuple):
    """What one step did, per EV (kW) and in money (EUR); ``clipped_kw`` is what the projection removed.
    In :class:`V2GBatch` every field has a leading ``n_envs`` axis."""

    power_kw: np.ndarray
    reg_up_kw: np.ndarray
    reg_down_kw: np.ndarray
    reg_up_eur: float
    reg_down_eur: float
    energy_eur: float
    driver_fee_eur: float
    degradation_eur: float
    clipped_kw: float

    @property
    def reward(self) -> float:
        return self.reg_up_eur + self.reg_down_eur - self.energy_eur + self.driver_fee_eur - self.degradation_eur


class V2GState:
    """The EVs' energies and the step that projects a request onto the deliverable set.

    Shares in [-1, 1] per charger: ``power`` times the rating in its direction (``MPc`` charging,
    ``MPd`` discharging) requests ``q``; ``reg_up``/``reg_down`` (values <= 0 offer nothing) times the
    swing ``MPc + MPd`` request capacities. The projection, per EV, with the constraints of the module
    docstring: ``q`` is clipped to the range the constraints allow with no regulation (which no
    regulation offer can widen), raised to the departure floor; then ``r_up`` to the most P1, P2 and E1
    allow with this ``q`` and no reg-down; then ``r_dn`` to what is left. A deliverable request is left
    unchanged; an absent EV's slice does nothing. Every limit is linear in the shares, so the regulation
    bounds stay within the swing: ``max_q min((q + MPd) / (1 - ExU), (MPc - q) / ExU) = MPc + MPd``.

    The SoC-window terms are the shared battery model's (:func:`~batterygym.core.battery.window_batch`):
    this step runs millions of times on 100 cars, so it is a few dozen numpy operations on whole arrays.
    ``plugged_any[t]`` says whether anyone is plugged in at step ``t``.
    """

    def __init__(self, s: V2GScenario) -> None:
        self.s = s
        self._k = projection(s.ev, s.expected_up, s.expected_down, s.dt_h)
        self._emin = s.ev.soc_min * s.ev.capacity_kwh
        self._floor_next = s.floor_next_kwh
        present = s.present
        self._mask = present.astype(np.float64)[:, :, None]
        anyone = np.logical_or.reduce
        self.plugged_any: list[bool] = anyone(present, axis=1).tolist()
        self._arriving = arriving = s.arriving
        self._arrive_at = [*anyone(arriving, axis=1).tolist(), False]
        self._arrival_kwh = s.arrival_energy_kwh
        self._ru, self._rd, self._qc = s.reg_up_value.tolist(), s.reg_down_value.tolist(), s.net_energy_cost.tolist()
        self._fee = s.driver_fee_eur_per_kwh * s.dt_h
        self._wear = s.wear_eur_per_kwh * s.dt_h
        self._zeros = np.zeros(s.n_evs)
        self._n_steps = s.n_steps
        self.reset()

    def reset(self) -> None:
        self.t = 0
        self.energy_kwh = e = np.empty(self.s.n_evs)
        e.fill(self._emin)
        self._arrive()

    def _arrive(self) -> None:
        t = self.t
        if self._arrive_at[t]:
            np.copyto(self.energy_kwh, self._arrival_kwh[t // HOURS], where=self._arriving[t])

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Now, per EV: ``(q_lo, q_hi, e1_head, e2_floor)``: the net power range without regulation and the
        E1/E2 limits on ``q + ExU r_up`` (kW, from above) and ``q - ExD r_dn`` (from below). 0 when absent."""
        t, e, k = self.t, self.energy_kwh, self._k
        present = self.s.present[t]
        floor, head = window_batch(k.battery, e)
        x = self._floor_next[t] - e
        q_floor = np.maximum(x / k.battery.k_ceiling, x / k.battery.k_floor)  # -inf when absent
        q_hi = np.where(present, np.minimum(head, k.mpc), 0.0)
        q_lo = np.minimum(np.maximum(np.maximum(floor, -k.mpd), q_floor), q_hi)
        q_lo = np.where(present, q_lo, 0.0)
        return q_lo, q_hi, np.where(present, head, 0.0), np.where(present, floor, 0.0)

    def step(self, action: np.ndarray) -> V2GStep:
        """Apply the shares ``action`` (``(n_evs, 3)``: power, reg_up, reg_down) for one step."""
        t = self.t
        if t >= self._n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        if not self.plugged_any[t]:  # nobody plugged in: every slice is ignored
            self.t = t + 1
            self._arrive()
            z = self._zeros
            return V2GStep(z.copy(), z.copy(), z.copy(), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        # an absent EV requests nothing: its bounds contain 0
        q, r_up, r_dn, want_q, want_u, want_d, e = project(self._k, action * self._mask[t], self.energy_kwh,
                                                           self._floor_next[t])
        self.energy_kwh = e
        add = np.add.reduce
        sq, su, sd = float(add(q)), float(add(r_up)), float(add(r_dn))
        thr = float(add(np.abs(q)))
        clipped = float(add(np.abs(want_q - q)) + add(want_u) - su + add(want_d) - sd)
        fee = self._fee
        out = V2GStep(q, r_up, r_dn, self._ru[t] * su, self._rd[t] * sd, (self._qc[t] + fee) * sq, fee * sq,
                      self._wear * thr, clipped)
        self.t = t + 1
        self._arrive()
        return out


# ---------------------------------------------------------------------------------------------- many episodes
class V2GBatch:
    """``n_envs`` episodes of :class:`V2GState` stepped at once, each with its own EVs' days and prices.

    Every episode has ``n_days`` days of ``n_evs`` EVs of one type ``ev``; :meth:`start` loads the days and
    money of some episodes and starts them. It keeps per-day arrays only (``(n_envs, n_days, n_evs)``):
    when a step begins (:meth:`now`), presence, hours left, required energy and departure floor are looked
    up in :func:`day_patterns` (as :class:`V2GScenario` builds its per-step arrays). Episodes may be at
    different steps; one past its end sees nobody plugged in.
    """

    def __init__(self, ev: BatteryParams, n_envs: int, n_days: int, n_evs: int, expected_up: float,
                 expected_down: float, driver_fee_eur_per_kwh: float, wear_eur_per_kwh: float, dt: float = 1.0
                 ) -> None:
        self.ev, self.n_envs, self.n_days, self.n_evs, self.dt = ev, n_envs, n_days, n_evs, dt
        self.n_steps = n_days * HOURS
        self._k = projection(ev, expected_up, expected_down, dt)
        self._emin = ev.soc_min * ev.capacity_kwh
        self._fee = driver_fee_eur_per_kwh * dt
        self._wear = wear_eur_per_kwh * dt
        days, steps = (n_envs, n_days, n_evs), (n_envs, self.n_steps)
        self.day_code = np.full(days, NEVER, dtype=np.int64)  # arrival_hour * CODES + departure_hour
        self.arrival_energy_kwh = np.zeros(days)
        self.required_energy_kwh = np.zeros(days)
        self.reg_up_value, self.reg_down_value, self.net_energy_cost = np.zeros(steps), np.zeros(steps), np.zeros(steps)
        self.t = np.zeros(n_envs, dtype=np.int64)
        self.energy_kwh = np.full((n_envs, n_evs), self._emin)
        self._rows = np.arange(n_envs)
        self.now()

    def start(self, idx: np.ndarray, arrival_hour: np.ndarray, departure_hour: np.ndarray,
              arrival_energy_kwh: np.ndarray, required_energy_kwh: np.ndarray, reg_up_value: np.ndarray,
              reg_down_value: np.ndarray, net_energy_cost: np.ndarray) -> None:
        """Start episodes ``idx`` with these days ``(len(idx), n_days, n_evs)`` and money per kW ``(len(idx),
        n_steps)`` (:class:`V2GScenario`'s arrays of the same names, stacked)."""
        self.day_code[idx] = day_code(arrival_hour, departure_hour)
        self.arrival_energy_kwh[idx] = arrival_energy_kwh
        self.required_energy_kwh[idx] = required_energy_kwh
        self.reg_up_value[idx] = reg_up_value
        self.reg_down_value[idx] = reg_down_value
        self.net_energy_cost[idx] = net_energy_cost
        self.t[idx] = 0
        self.energy_kwh[idx] = self._emin
        self.now()

    def _days(self) -> tuple[np.ndarray | slice, np.ndarray | int, np.ndarray | int]:
        """Row and day index of every episode's current step, and its hour of day (``(n_envs, 1)``, or one for
        all); an episode past its end is at hour 24 of its last day, when nobody is plugged in."""
        t = self.t
        t0 = int(t[0])
        if (t == t0).all():  # the usual case: every episode at the same step, read with views
            day = min(t0 // HOURS, self.n_days - 1)
            return slice(None), day, min(t0 - HOURS * day, HOURS)
        day = np.minimum(t // HOURS, self.n_days - 1)
        return self._rows, day, np.minimum(t - HOURS * day, HOURS)[:, None]

    def now(self) -> None:
        """Begin the current step of every episode: who is plugged in, their hours left, required energy and
        departure floor, and the arrivals' energies."""
        rows, day, hour = self._days()
        code = self.day_code[rows, day]
        if isinstance(hour, int):
            present, left, after, arriving = (a[hour][code] for a in day_patterns())
        else:
            present, left, after, arriving = (a[hour, code] for a in day_patterns())
        self.present, self.hours_left = present, left
        self.required_now_kwh = req = np.where(present, self.required_energy_kwh[rows, day], 0.0)
        self.floor_next_kwh = departure_floor(self.ev, req, after, self.dt)
        np.copyto(self.energy_kwh, self.arrival_energy_kwh[rows, day], where=arriving)

    def step(self, action: np.ndarray, active: np.ndarray | None = None) -> V2GStep:
        """Apply the shares ``action`` (``(n_envs, n_evs, 3)``) in the episodes where ``active`` (all by default;
        the others keep their state and step, and their results are to be ignored) and begin the next step."""
        t, e = self.t, self.energy_kwh
        a = np.asarray(action, dtype=np.float64) * self.present[:, :, None]
        q, r_up, r_dn, want_q, want_u, want_d, e_next = project(self._k, a, e, self.floor_next_kwh)
        partial = active is not None and not active.all()
        self.energy_kwh = np.where(active[:, None], e_next, e) if partial else e_next
        add = np.add.reduce
        sq, su, sd = add(q, axis=1), add(r_up, axis=1), add(r_dn, axis=1)
        thr = add(np.abs(q), axis=1)
        clipped = add(np.abs(want_q - q), axis=1) + add(want_u, axis=1) - su + add(want_d, axis=1) - sd
        at = np.minimum(t, self.n_steps - 1)
        rows, fee = self._rows, self._fee
        out = V2GStep(q, r_up, r_dn, self.reg_up_value[rows, at] * su, self.reg_down_value[rows, at] * sd,
                      (self.net_energy_cost[rows, at] + fee) * sq, fee * sq, self._wear * thr, clipped)
        self.t = t + active if partial else t + 1
        self.now()
        return out
