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

:class:`~batterygym.core.v2g_state.V2GState` steps it (the env calls it, and :func:`simulate` too), and
:class:`~batterygym.core.v2g_state.V2GBatch` many episodes at once (the vector env); the MILP writes the
same constraints from the same arrays of :class:`V2GScenario`. :func:`idle_rewards` is what zero actions
earn.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryBank, BatteryParams, coefficients, shares_of_powers
from batterygym.core.v2g_state import HOURS, StepArrays, V2GBatch, V2GState, V2GStep, step_arrays
from batterygym.core.validation import as_series, check_nonnegative, check_positive

__all__ = ["V2GBatch", "V2GScenario", "V2GState", "V2GStep", "cost_breakdown", "departure_energy", "ev_battery",
           "idle_rewards", "shares_of", "simulate"]

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


class cached_property:
    """:func:`functools.cached_property` without the lock Python 3.11 takes on every first access (3.12 dropped
    it): a value computed on first access and kept in the instance's ``__dict__``. A scenario's derived arrays
    are computed on the path of every reset."""

    def __init__(self, func: Any) -> None:
        self.func, self.name, self.__doc__ = func, func.__name__, func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


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
        return self.n_days * HOURS

    dt_h = 1.0

    @property
    def days(self) -> float:
        return float(self.n_days)

    @classmethod
    def from_valid(cls, **fields: Any) -> V2GScenario:
        """A scenario from arrays that pass every check by construction, without checking them again: the
        generator's (its :class:`~batterygym.core.v2g_generator.V2GConfig` rules out every failure; its tests
        rebuild generated scenarios through the checks). Hours int64, the rest float64, shapes as the fields say."""
        s = object.__new__(cls)
        values = {**_defaults(cls), **fields}
        for name in _ARRAY_FIELDS:
            if values[name].flags.writeable:
                values[name].setflags(write=False)
        s.__dict__.update(values)
        return s

    # ------------------------------------------------------------------ derived arrays, shared by env and MILP
    @cached_property
    def bank(self) -> BatteryBank:
        return BatteryBank.of([self.ev])

    @cached_property
    def step_arrays(self) -> StepArrays:
        """The EV-days hour by hour (presence, arrivals, hours left, required energy, departure floor)."""
        return step_arrays(self.ev, self.arrival_hour, self.departure_hour, self.required_energy_kwh, self.dt_h)

    @property
    def present(self) -> np.ndarray:
        """Plugged in, per step and EV ``(T, N)``."""
        return self.step_arrays.present

    @property
    def arriving(self) -> np.ndarray:
        """Arriving at the start of the step (its energy set to the arrival energy), per step and EV ``(T, N)``."""
        return self.step_arrays.arriving

    @cached_property
    def arrival_step(self) -> np.ndarray:
        """Step of each EV-day's arrival ``(D, N)``."""
        return _frozen(self.arrival_hour + HOURS * np.arange(self.n_days)[:, None])

    @cached_property
    def departure_step(self) -> np.ndarray:
        """Step at whose start each EV-day has left ``(D, N)``: its energy then must meet the requirement."""
        return _frozen(self.departure_hour + HOURS * np.arange(self.n_days)[:, None])

    @cached_property
    def arrival_energy_kwh(self) -> np.ndarray:
        return _frozen(self.arrival_soc * self.ev.capacity_kwh)

    @cached_property
    def required_energy_kwh(self) -> np.ndarray:
        return _frozen(self.required_soc * self.ev.capacity_kwh)

    def _per_step(self, values: np.ndarray, fill: float) -> np.ndarray:
        """A per EV-day value spread over the day's plugged steps ``(T, N)``, ``fill`` elsewhere."""
        present = self.present.reshape(self.n_days, HOURS, self.n_evs)
        return np.where(present, values[:, None, :], fill).reshape(self.n_steps, self.n_evs)

    @property
    def required_now_kwh(self) -> np.ndarray:
        """The energy required at the current plug-in's departure, per step and EV (0 when absent)."""
        return self.step_arrays.required_now_kwh

    @property
    def hours_left(self) -> np.ndarray:
        """Plugged hours left including the current one, per step and EV (0 when absent)."""
        return self.step_arrays.hours_left

    @property
    def floor_next_kwh(self) -> np.ndarray:
        """Least energy after step t from which the requirement stays reachable (``-inf`` when absent):
        ``required - eta_c * MPc * dt * (hours left after t)``."""
        return self.step_arrays.floor_next_kwh

    @property
    def swing_kw(self) -> float:
        """The most capacity one charger can offer in a direction: ``MPc + MPd`` (see :class:`V2GState`)."""
        return self.ev.p_charge_kw + self.ev.p_discharge_kw

    @cached_property
    def reg_up_value(self) -> np.ndarray:
        """EUR per kW of reg-up capacity per step."""
        return _frozen(capacity_value(self.reg_up_price, self.dt_h))

    @cached_property
    def reg_down_value(self) -> np.ndarray:
        return _frozen(capacity_value(self.reg_down_price, self.dt_h))

    @cached_property
    def net_energy_cost(self) -> np.ndarray:
        """EUR per kW of net power ``q`` per step: the energy price less the drivers' fee."""
        return _frozen(net_energy_cost(self.energy_price, self.driver_fee_eur_per_kwh, self.dt_h))

    @property
    def wear_eur_per_kwh(self) -> float:
        return self.ev.degradation_cost_per_kwh

    @cached_property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq="h")


_ARRAY_FIELDS = ("arrival_hour", "departure_hour", "arrival_soc", "required_soc", "energy_price", "reg_up_price",
                 "reg_down_price")


@functools.cache
def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def capacity_value(price_eur_per_mwh: np.ndarray, dt: float) -> np.ndarray:
    """EUR per kW of regulation capacity offered for a step, from its price (EUR per MW and hour)."""
    return price_eur_per_mwh * (EUR_PER_MWH_TO_KWH * dt)


def net_energy_cost(energy_price_eur_per_mwh: np.ndarray, driver_fee_eur_per_kwh: float, dt: float) -> np.ndarray:
    """EUR per kW of net power ``q`` for a step: the energy price less the drivers' fee."""
    return energy_price_eur_per_mwh * (EUR_PER_MWH_TO_KWH * dt) - driver_fee_eur_per_kwh * dt


def idle_rewards(s: V2GScenario) -> np.ndarray:
    """Per step, the reward ``(T,)`` the env pays when every action is zero (the idle policy).

    Zero shares offer no regulation and ask for no power, so each EV charges only what its departure floor
    forces: none until the floor rises above its arrival energy, then the step that lifts it onto the
    floor, then full power until it leaves with exactly the required energy. In closed form per step,
    ``q = clip((F - E_arrival) / (eta_c dt), 0, MPc)``, and the money is the energy bought, the drivers'
    fee and the wear of that charging.
    """
    k = coefficients(s.ev, s.dt_h)
    e0 = s._per_step(s.arrival_energy_kwh, 0.0)
    q = np.clip((s.floor_next_kwh - e0) / k.k_ceiling, 0.0, s.ev.p_charge_kw)  # 0 when absent (floor -inf)
    sq = q.sum(axis=1)
    fee = s.driver_fee_eur_per_kwh * s.dt_h
    return -((s.net_energy_cost + fee) * sq) + fee * sq - s.wear_eur_per_kwh * s.dt_h * sq


def shares_of(s: V2GScenario, power_kw: np.ndarray, reg_up_kw: np.ndarray, reg_down_kw: np.ndarray) -> np.ndarray:
    """The env's action shares ``(T, N, 3)`` that request the given powers ``(T, N)`` each."""
    b = s.ev
    a = np.zeros((s.n_steps, s.n_evs, 3))
    a[..., 0] = shares_of_powers(np.asarray(power_kw, dtype=np.float64), b.p_charge_kw, b.p_discharge_kw)
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

