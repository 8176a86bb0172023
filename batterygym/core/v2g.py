"""A V2G aggregator: EVs plugged in at a workplace sell regulation capacity and trade energy.

After Sortomme and El-Sharkawi (2012) as rebuilt in ``v2g_aggregator.txt`` (``SOURCES.md`` section 4).
Every EV ``i`` is a :class:`~batterygym.core.battery.BatteryParams` (all alike, no capacity fade); on day
``d`` it is plugged in from hour ``arrival_hour[d, i]`` up to (not including) ``departure_hour[d, i]``,
arrives with ``arrival_soc`` and must leave with at least ``required_soc`` (of its capacity). Per plugged
EV and hour the aggregator decides three powers (kW):

- ``q``: the net power the battery takes in expectation (signed, > 0 charges), and
- ``r_up``, ``r_dn`` >= 0: regulation up and down capacity offered.

The charger's set-point (the source's preferred operating point) is ``p = q - ExD r_dn + ExU r_up``: the
regulation the operator is expected to deploy (shares ``ExD`` = 0.75 of the down capacity and ``ExU`` =
0.25 of the up capacity, the source's constants) moves the power from ``p`` to ``q`` on average. With
``MPc``/``MPd`` the charger's charge/discharge rating, ``E`` the energy at the start of the hour, ``Emin``/
``Emax`` the SoC window, the offer is deliverable when

    p - r_up >= -MPd                     (P1: full up deployment within the charger's rating)
    p + r_dn <=  MPc                     (P2: full down deployment within the charger's rating)
    E + eta_c (p + ExD r_dn) dt <= Emax  (E1: energy headroom when down is deployed at its share)
    E + (p - ExU r_up) dt / eta_d >= Emin (E2: energy headroom when up is deployed at its share)

and the battery follows the shared equations with ``q``: ``E' = E + eta_c max(q, 0) dt - max(-q, 0) dt /
eta_d``. At departure ``E >= required_soc * capacity``; the projection forces the charging that keeps this
reachable, so no policy can miss it. The money of an hour (EUR; prices in EUR/MWh, as quoted):

    reward = sum_i [ pRD r_dn + pRU r_up - pE q ] dt / 1000    (capacity payments, energy bought or sold)
           + fee * sum_i q dt                                   (drivers pay 0.01 EUR/kWh, net, as the source)
           - wear * sum_i |q| dt                                (throughput wear, ``degradation_cost_per_kwh``)

:class:`V2GState` steps it (the env calls it, and :func:`simulate` too); the MILP writes the same
constraints from the same arrays of :class:`V2GScenario`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryBank, BatteryParams
from batterygym.core.validation import as_series, check_nonnegative, check_positive

EUR_PER_MWH_TO_KWH = 1e-3
EXPECTED_DOWN = 0.75  # share of the reg-down capacity the operator is expected to deploy [src]
EXPECTED_UP = 0.25  # share of the reg-up capacity [src]
DRIVER_FEE_EUR_PER_KWH = 0.01  # what drivers pay per kWh delivered to their car [src]
ACTION_FIELDS = ("power", "reg_up", "reg_down")  # per charger, in this order
INFEASIBLE_TOL_KW = 1e-6


def ev_battery(capacity_kwh: float = 24.0, charger_kw: float = 7.2, efficiency: float = 0.9,
               replacement_eur_per_kwh: float = 200.0, cycle_life: float = 3000.0) -> BatteryParams:
    """An EV's battery on its charger: the source's Nissan Leaf (24 kWh, 7.2 kW, 0.9 each way).

    Wear: the replacement cost (200 EUR/kWh [src]) spread over the throughput of ``cycle_life``
    equivalent full cycles (3000, our assumption), ``replacement / (2 * cycle_life)`` per kWh charged or
    discharged. No capacity fade within an episode (a quarter's cycling fades a pack by well under 1 %).
    """
    check_positive("cycle_life", cycle_life)
    check_nonnegative("replacement_eur_per_kwh", replacement_eur_per_kwh)
    return BatteryParams(
        capacity_kwh=capacity_kwh, p_charge_kw=charger_kw, p_discharge_kw=charger_kw, eta_charge=efficiency,
        eta_discharge=efficiency, soc_min=0.0, soc_max=1.0, soc0=0.5, soh0=1.0, soh_end_of_life=0.8,
        degradation_cost_per_kwh=replacement_eur_per_kwh / (2.0 * cycle_life), fade_per_cycle=0.0,
        max_cycles_per_day=None,
    )


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class V2GScenario:
    """One episode of the aggregator: its EVs' days and every price.

    ``arrival_hour``, ``departure_hour``, ``arrival_soc`` and ``required_soc`` have shape ``(n_days,
    n_evs)``; an EV is plugged in during hours ``arrival_hour <= h < departure_hour`` of its day (whole
    hours, 0..24). Prices are hourly, ``n_days * 24`` values in EUR/MWh: ``energy_price`` (day-ahead),
    ``reg_up_price`` and ``reg_down_price`` (capacity, per MW and hour; 0 where the operator accepted
    nothing). An arrival from which the requirement cannot be reached is rejected here.
    """

    ev: BatteryParams
    arrival_hour: np.ndarray
    departure_hour: np.ndarray
    arrival_soc: np.ndarray
    required_soc: np.ndarray
    energy_price: np.ndarray
    reg_up_price: np.ndarray
    reg_down_price: np.ndarray
    expected_up: float = EXPECTED_UP
    expected_down: float = EXPECTED_DOWN
    driver_fee_eur_per_kwh: float = DRIVER_FEE_EUR_PER_KWH
    start: str = "2019-08-01"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.ev, BatteryParams):
            raise ValueError(f"ev must be a BatteryParams, got {type(self.ev).__name__}")
        if self.ev.fade_per_cycle != 0.0 or self.ev.calendar_fade_per_day != 0.0:
            raise ValueError("ev must have no capacity fade (fade_per_cycle = calendar_fade_per_day = 0): "
                             "wear is paid as money per kWh")
        if self.ev.p_charge_kw <= 0:
            raise ValueError(f"ev.p_charge_kw (the charger) must be positive, got {self.ev.p_charge_kw!r}")
        shape = None
        for name in ("arrival_hour", "departure_hour", "arrival_soc", "required_soc"):
            try:
                a = np.array(getattr(self, name), dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be an array of numbers: {exc}") from None
            if a.ndim != 2 or 0 in a.shape:
                raise ValueError(f"{name} must have shape (n_days, n_evs), got {a.shape}")
            if shape is None:
                shape = a.shape
            elif a.shape != shape:
                raise ValueError(f"{name} has shape {a.shape}, arrival_hour has {shape}")
            if not np.isfinite(a).all():
                d, i = (int(v) for v in np.argwhere(~np.isfinite(a))[0])
                raise ValueError(f"{name} of EV {i} on day {d} is not finite: {float(a[d, i])!r}")
            if name.endswith("_hour"):
                if (a != np.round(a)).any() or (a < 0).any() or (a > 24).any():
                    d, i = (int(v) for v in np.argwhere((a != np.round(a)) | (a < 0) | (a > 24))[0])
                    raise ValueError(f"{name} of EV {i} on day {d} must be a whole hour in 0..24, "
                                     f"got {float(a[d, i])!r}")
                a = a.astype(np.int64)
            else:
                lo, hi = self.ev.soc_min, self.ev.soc_max
                bad = (a < lo) | (a > hi)
                if bad.any():
                    d, i = (int(v) for v in np.argwhere(bad)[0])
                    raise ValueError(f"{name} of EV {i} on day {d} must be in [{lo}, {hi}], got {float(a[d, i])!r}")
            set_(self, name, _frozen(a))
        bad = self.departure_hour <= self.arrival_hour
        if bad.any():
            d, i = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"EV {i} on day {d} leaves (hour {self.departure_hour[d, i]}) before it arrives "
                             f"(hour {self.arrival_hour[d, i]})")
        b = self.ev
        need = (self.required_soc - self.arrival_soc) * b.capacity_kwh
        can = b.eta_charge * b.p_charge_kw * (self.departure_hour - self.arrival_hour)
        bad = need > can * (1 + 1e-12)
        if bad.any():
            d, i = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"EV {i} on day {d} cannot meet its departure requirement: it arrives at hour "
                f"{self.arrival_hour[d, i]} with SoC {float(self.arrival_soc[d, i]):g} and needs "
                f"{float(self.required_soc[d, i]):g} "
                f"at hour {self.departure_hour[d, i]}, {need[d, i]:.3f} kWh more, but its charger delivers at most "
                f"{can[d, i]:.3f} kWh in {self.departure_hour[d, i] - self.arrival_hour[d, i]} h"
            )
        n = shape[0] * 24
        for name in ("energy_price", "reg_up_price", "reg_down_price"):
            set_(self, name, as_series(name, getattr(self, name), length=n))
        for name in ("reg_up_price", "reg_down_price"):
            neg = np.flatnonzero(getattr(self, name) < 0)
            if neg.size:
                raise ValueError(f"{name} must be non-negative (a capacity payment), got "
                                 f"{float(getattr(self, name)[neg[0]])!r} at hour {int(neg[0])}")
        for name in ("expected_up", "expected_down"):
            value = getattr(self, name)
            check_positive(name, value)
            if not value < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {value!r}")
        check_nonnegative("driver_fee_eur_per_kwh", self.driver_fee_eur_per_kwh)
        try:
            np.datetime64(self.start, "D")
        except ValueError:
            raise ValueError(f"start must be an ISO date, got {self.start!r}") from None

    # ------------------------------------------------------------------ sizes
    @cached_property
    def n_days(self) -> int:
        return int(self.arrival_hour.shape[0])

    @cached_property
    def n_evs(self) -> int:
        return int(self.arrival_hour.shape[1])

    @cached_property
    def n_steps(self) -> int:
        return self.n_days * 24

    dt_h = 1.0

    @property
    def days(self) -> float:
        return float(self.n_days)

    # ------------------------------------------------------------------ derived arrays, shared by env and MILP
    @cached_property
    def bank(self) -> BatteryBank:
        return BatteryBank.of([self.ev])

    @cached_property
    def present(self) -> np.ndarray:
        """Plugged in, per step and EV ``(T, N)``."""
        h = np.arange(24)[None, :, None]
        p = (h >= self.arrival_hour[:, None, :]) & (h < self.departure_hour[:, None, :])
        return _frozen(p.reshape(self.n_steps, self.n_evs))

    @cached_property
    def arrival_step(self) -> np.ndarray:
        """Step of each EV-day's arrival ``(D, N)``."""
        return _frozen(self.arrival_hour + 24 * np.arange(self.n_days)[:, None])

    @cached_property
    def departure_step(self) -> np.ndarray:
        """Step at whose start each EV-day has left ``(D, N)``: its energy then must meet the requirement."""
        return _frozen(self.departure_hour + 24 * np.arange(self.n_days)[:, None])

    @cached_property
    def arrival_energy_kwh(self) -> np.ndarray:
        return _frozen(self.arrival_soc * self.ev.capacity_kwh)

    @cached_property
    def required_energy_kwh(self) -> np.ndarray:
        return _frozen(self.required_soc * self.ev.capacity_kwh)

    def _per_step(self, values: np.ndarray, fill: float) -> np.ndarray:
        """A per EV-day value spread over the day's plugged steps ``(T, N)``, ``fill`` elsewhere."""
        v = np.repeat(values, 24, axis=0)
        return np.where(self.present, v, fill)

    @cached_property
    def required_now_kwh(self) -> np.ndarray:
        """The energy required at the current plug-in's departure, per step and EV (0 when absent)."""
        return _frozen(self._per_step(self.required_energy_kwh, 0.0))

    @cached_property
    def hours_left(self) -> np.ndarray:
        """Plugged hours left including the current one, per step and EV (0 when absent)."""
        t = np.arange(self.n_steps)[:, None]
        dep = np.repeat(self.departure_step, 24, axis=0)
        return _frozen(np.where(self.present, dep - t, 0).astype(np.float64))

    @cached_property
    def floor_next_kwh(self) -> np.ndarray:
        """Least energy after step t from which the requirement stays reachable (``-inf`` when absent):
        ``required - eta_c * MPc * dt * (hours left after t)``."""
        b = self.ev
        after = np.maximum(self.hours_left - 1.0, 0.0)
        f = self.required_now_kwh - b.eta_charge * b.p_charge_kw * self.dt_h * after
        return _frozen(np.where(self.present, f, -np.inf))

    @property
    def swing_kw(self) -> float:
        """The most capacity one charger can offer in a direction: ``MPc + MPd`` (see :class:`V2GState`)."""
        return self.ev.p_charge_kw + self.ev.p_discharge_kw

    @cached_property
    def reg_up_value(self) -> np.ndarray:
        """EUR per kW of reg-up capacity per step."""
        return _frozen(self.reg_up_price * EUR_PER_MWH_TO_KWH * self.dt_h)

    @cached_property
    def reg_down_value(self) -> np.ndarray:
        return _frozen(self.reg_down_price * EUR_PER_MWH_TO_KWH * self.dt_h)

    @cached_property
    def net_energy_cost(self) -> np.ndarray:
        """EUR per kW of net power ``q`` per step: the energy price less the drivers' fee."""
        return _frozen((self.energy_price * EUR_PER_MWH_TO_KWH - self.driver_fee_eur_per_kwh) * self.dt_h)

    @property
    def wear_eur_per_kwh(self) -> float:
        return self.ev.degradation_cost_per_kwh

    @cached_property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq="h")


class V2GStep(NamedTuple):
    """What one step did, per EV (kW) and in money (EUR); ``clipped_kw`` is what the projection removed."""

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

    The SoC-window terms are :func:`~batterygym.core.battery.power_bounds` with unlimited power and no
    fade, in closed form (``tests/test_v2g_core.py`` checks them against ``BatteryBank.bounds``): this
    step runs millions of times on 100 cars, so it is a few dozen numpy operations on whole arrays.
    """

    def __init__(self, s: V2GScenario) -> None:
        self.s = s
        b, xu, xd, dt = s.ev, s.expected_up, s.expected_down, s.dt_h
        self._mpc, self._mpd, self._swing = b.p_charge_kw, b.p_discharge_kw, s.swing_kw
        self._emin, self._emax = b.soc_min * b.capacity_kwh, b.soc_max * b.capacity_kwh
        self._eta_c, self._eta_d, self._dt = b.eta_charge, b.eta_discharge, dt
        # q >= (floor - E) / (eta_c dt) when charging is needed, else (floor - E) eta_d / dt: the larger one
        self._kf = (1.0 / (b.eta_charge * dt), b.eta_discharge / dt)
        self._k = (1.0 / (1.0 - xu), 1.0 / xu, 1.0 - xu, 1.0 / xd, 1.0 / (1.0 - xd), xu)
        self._floor_next = s.floor_next_kwh
        self._mask = np.repeat(s.present[:, :, None], 3, axis=2).astype(np.float64)
        self._any = s.present.any(axis=1).tolist()
        self._arrivals: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        steps, energies = s.arrival_step.ravel(), s.arrival_energy_kwh.ravel()
        for t in np.unique(steps).tolist():
            flat = np.flatnonzero(steps == t)
            self._arrivals[t] = (flat % s.n_evs, energies[flat])
        self._ru, self._rd, self._qc = s.reg_up_value.tolist(), s.reg_down_value.tolist(), s.net_energy_cost.tolist()
        self._fee = s.driver_fee_eur_per_kwh * dt
        self._wear = s.wear_eur_per_kwh * dt
        self._zeros = np.zeros(s.n_evs)
        self._n_steps = s.n_steps
        self.reset()

    def reset(self) -> None:
        self.t = 0
        self.energy_kwh = np.full(self.s.n_evs, self._emin)
        self._arrive()

    def _arrive(self) -> None:
        hit = self._arrivals.get(self.t)
        if hit is not None:
            self.energy_kwh[hit[0]] = hit[1]

    def _window(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E2 and E1 without regulation: the signed power range keeping E' in the SoC window, no power limit."""
        return (self._emin - e) * (self._eta_d / self._dt), (self._emax - e) * (1.0 / (self._eta_c * self._dt))

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Now, per EV: ``(q_lo, q_hi, e1_head, e2_floor)``: the net power range without regulation and the
        E1/E2 limits on ``q + ExU r_up`` (kW, from above) and ``q - ExD r_dn`` (from below). 0 when absent."""
        t, e = self.t, self.energy_kwh
        present = self.s.present[t]
        floor, head = self._window(e)
        x = self._floor_next[t] - e
        q_floor = np.maximum(x * self._kf[0], x * self._kf[1])  # -inf when absent
        q_hi = np.where(present, np.minimum(head, self._mpc), 0.0)
        q_lo = np.minimum(np.maximum(np.maximum(floor, -self._mpd), q_floor), q_hi)
        q_lo = np.where(present, q_lo, 0.0)
        return q_lo, q_hi, np.where(present, head, 0.0), np.where(present, floor, 0.0)

    def step(self, action: np.ndarray) -> V2GStep:
        """Apply the shares ``action`` (``(n_evs, 3)``: power, reg_up, reg_down) for one step."""
        t = self.t
        if t >= self._n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        if not self._any[t]:  # nobody plugged in: every slice is ignored
            self.t = t + 1
            self._arrive()
            z = self._zeros
            return V2GStep(z.copy(), z.copy(), z.copy(), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        ku1, ku2, one_m_xu, kd1, kd2, xu = self._k
        mpc, mpd, swing = self._mpc, self._mpd, self._swing
        e = self.energy_kwh
        a = action * self._mask[t]  # an absent EV requests nothing: its bounds contain 0
        a_p, a_u, a_d = a[:, 0], a[:, 1], a[:, 2]
        floor, head = self._window(e)
        x = self._floor_next[t] - e
        q_hi = np.minimum(head, mpc)
        q_lo = np.minimum(np.maximum(np.maximum(floor, x * self._kf[0]), np.maximum(x * self._kf[1], -mpd)), q_hi)
        want_q = a_p * mpc if mpc == mpd else np.where(a_p >= 0.0, a_p * mpc, a_p * mpd)
        q = np.minimum(np.maximum(want_q, q_lo), q_hi)
        q_mpd = q + mpd  # >= 0 and q_hi - q >= 0 exactly: q lies in [q_lo, q_hi] with q_lo >= -mpd
        want_u = np.maximum(a_u, 0.0) * swing
        r_up = np.minimum(want_u, np.minimum(q_mpd * ku1, (q_hi - q) * ku2))
        dn_hi = np.minimum(np.minimum((q_mpd - one_m_xu * r_up) * kd1, (mpc - q - xu * r_up) * kd2), (q - floor) * kd1)
        want_d = np.maximum(a_d, 0.0) * swing
        r_dn = np.minimum(want_d, np.maximum(dn_hi, 0.0))
        self.energy_kwh = e + np.minimum(q * self._eta_c, q * (1.0 / self._eta_d)) * self._dt
        add = np.add.reduce
        sq, su, sd = float(add(q)), float(add(r_up)), float(add(r_dn))
        thr = float(add(np.abs(q)))
        clipped = float(add(np.abs(want_q - q)) + add(want_u) - su + add(want_d) - sd)
        out = V2GStep(q, r_up, r_dn, self._ru[t] * su, self._rd[t] * sd, (self._qc[t] + self._fee) * sq,
                      self._fee * sq, self._wear * thr, clipped)
        self.t = t + 1
        self._arrive()
        return out


def shares_of(s: V2GScenario, power_kw: np.ndarray, reg_up_kw: np.ndarray, reg_down_kw: np.ndarray) -> np.ndarray:
    """The env's action shares ``(T, N, 3)`` that request the given powers ``(T, N)`` each."""
    b = s.ev
    q = np.asarray(power_kw, dtype=np.float64)
    a = np.zeros((s.n_steps, s.n_evs, 3))
    a[..., 0] = np.where(q >= 0, q / b.p_charge_kw, q / max(b.p_discharge_kw, 1e-300))
    a[..., 1] = np.asarray(reg_up_kw, dtype=np.float64) / s.swing_kw
    a[..., 2] = np.asarray(reg_down_kw, dtype=np.float64) / s.swing_kw
    return a


def simulate(s: V2GScenario, actions: np.ndarray) -> pd.DataFrame:
    """Step an action schedule ``(T, N * 3)`` (or ``(T, N, 3)``) through :class:`V2GState`.

    One row per hour: fleet totals (``power_kw``, ``charge_kw``, ``discharge_kw``, ``reg_up_kw``,
    ``reg_down_kw``, ``plugged``, ``energy_kwh`` of the plugged EVs after the step), the money
    (``reg_up_eur``, ``reg_down_eur``, ``energy_eur``, ``driver_fee_eur``, ``degradation_eur``,
    ``reward``) and ``clipped_kw``. The ``reward`` column sums to what the env pays for these actions.
    """
    a = np.asarray(actions, dtype=np.float64)
    if a.size != s.n_steps * s.n_evs * 3:
        raise ValueError(f"actions must have shape ({s.n_steps}, {s.n_evs * 3}), got {a.shape}")
    a = np.clip(a.reshape(s.n_steps, s.n_evs, 3), -1.0, 1.0)
    if not np.isfinite(a).all():
        raise ValueError("actions have a non-finite value")
    state = V2GState(s)
    rows = []
    for t in range(s.n_steps):
        out = state.step(a[t])
        q = out.power_kw
        rows.append({
            "power_kw": float(q.sum()), "charge_kw": float(np.maximum(q, 0).sum()),
            "discharge_kw": float(np.maximum(-q, 0).sum()), "reg_up_kw": float(out.reg_up_kw.sum()),
            "reg_down_kw": float(out.reg_down_kw.sum()), "plugged": int(s.present[t].sum()),
            "energy_kwh": float(state.energy_kwh[s.present[t]].sum()),
            "reg_up_eur": out.reg_up_eur, "reg_down_eur": out.reg_down_eur, "energy_eur": out.energy_eur,
            "driver_fee_eur": out.driver_fee_eur, "degradation_eur": out.degradation_eur, "reward": out.reward,
            "clipped_kw": out.clipped_kw,
        })
    df = pd.DataFrame(rows, index=s.timestamps)
    df.index.name = "timestamp"
    df["energy_price"] = s.energy_price
    df["reg_up_price"] = s.reg_up_price
    df["reg_down_price"] = s.reg_down_price
    return df


def departure_energy(s: V2GScenario, actions: np.ndarray) -> np.ndarray:
    """Each EV-day's energy at departure ``(D, N)`` under ``actions``: what the requirement is checked on."""
    a = np.clip(np.asarray(actions, dtype=np.float64).reshape(s.n_steps, s.n_evs, 3), -1.0, 1.0)
    state = V2GState(s)
    out = np.zeros((s.n_days, s.n_evs))
    for t in range(s.n_steps):
        state.step(a[t])
        d = t // 24
        leaving = s.departure_step[d] == t + 1
        out[d, leaving] = state.energy_kwh[leaving]
    return out


def cost_breakdown(schedule: pd.DataFrame) -> dict[str, float]:
    """Episode totals of a :func:`simulate` record, by revenue stream; ``total_cost_eur`` is minus the profit."""
    g = {k: float(schedule[k].sum()) for k in ("reg_up_eur", "reg_down_eur", "energy_eur", "driver_fee_eur",
                                               "degradation_eur", "reward")}
    return {
        "reg_up_eur": g["reg_up_eur"], "reg_down_eur": g["reg_down_eur"], "energy_cost_eur": g["energy_eur"],
        "driver_fee_eur": g["driver_fee_eur"], "degradation_eur": g["degradation_eur"], "profit_eur": g["reward"],
        "total_cost_eur": -g["reward"], "charged_mwh": float(schedule["charge_kw"].sum()) / 1000.0,
        "discharged_mwh": float(schedule["discharge_kw"].sum()) / 1000.0,
    }

