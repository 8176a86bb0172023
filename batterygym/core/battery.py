"""The one battery model: parameters, feasible power and the state update.

Every setting's env steps a battery with :func:`power_bounds` and :func:`step_battery`, and every
MILP writes the same equations from the same :class:`BatteryParams` coefficients, so an env and its
optimiser can never disagree on physics.

Conventions: energy ``E`` in kWh, power in kW, ``dt`` in hours, signed power ``p > 0`` charges and
``p < 0`` discharges; ``c = max(p, 0)``, ``d = max(-p, 0)`` (never both in one step).

    E' = E + eta_c * c * dt - d * dt / eta_d
    SoH' = SoH - fade_per_kwh * (c + d) * dt - calendar_fade_per_day * dt / 24
    soc_min * Cap_nom * SoH' <= E' <= soc_max * Cap_nom * SoH'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from batterygym.core.validation import check_finite, check_fraction, check_nonnegative, check_positive

# Energy (as a share of nominal capacity) below which a ceiling overshoot is float rounding, not physics.
ENERGY_TOL = 1e-12


@dataclass(frozen=True)
class BatteryParams:
    """One battery (or pack) and its initial state.

    ``capacity_kwh`` is the nominal (new) capacity; the usable capacity is ``soh * capacity_kwh``.
    ``fade_per_cycle`` is the state of health lost per equivalent full cycle of nominal capacity
    (``2 * capacity_kwh`` kWh of throughput); ``degradation_cost_per_kwh`` is paid on every kWh
    charged or discharged. ``max_cycles_per_day`` caps the energy charged per episode at
    ``max_cycles_per_day * days * soh * capacity_kwh`` (None: no cap). ``calendar_fade_per_day``
    is off by default: about 2 %/year is 0.04 % of capacity in a week, and a fading ceiling can force
    a discharge the site cannot take (no load, no export), which the scenario then rejects.
    """

    capacity_kwh: float = 500.0
    p_charge_kw: float = 200.0
    p_discharge_kw: float = 200.0
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    soc0: float = 0.5
    soh0: float = 0.8
    soh_end_of_life: float = 0.6
    degradation_cost_per_kwh: float = 0.0107
    fade_per_cycle: float = 0.2 / 3000
    calendar_fade_per_day: float = 0.0
    max_cycles_per_day: float | None = 1.0

    def __post_init__(self) -> None:
        check_positive("capacity_kwh", self.capacity_kwh)
        check_nonnegative("p_charge_kw", self.p_charge_kw)
        check_nonnegative("p_discharge_kw", self.p_discharge_kw)
        for name in ("eta_charge", "eta_discharge"):
            value = getattr(self, name)
            check_finite(name, value)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        for name in ("soc_min", "soc_max", "soc0", "soh0", "soh_end_of_life"):
            check_fraction(name, getattr(self, name))
        if self.soc_min >= self.soc_max:
            raise ValueError(
                f"soc_min must be below soc_max, got soc_min={self.soc_min!r} >= soc_max={self.soc_max!r}"
            )
        if not self.soc_min <= self.soc0 <= self.soc_max:
            raise ValueError(
                f"soc0 must lie in [soc_min, soc_max] = [{self.soc_min}, {self.soc_max}], got {self.soc0!r}"
            )
        if self.soh0 <= 0.0:
            raise ValueError(f"soh0 must be positive, got {self.soh0!r}")
        check_nonnegative("degradation_cost_per_kwh", self.degradation_cost_per_kwh)
        check_nonnegative("fade_per_cycle", self.fade_per_cycle)
        check_nonnegative("calendar_fade_per_day", self.calendar_fade_per_day)
        if self.fade_per_cycle >= 0.5:
            raise ValueError(f"fade_per_cycle must be below 0.5, got {self.fade_per_cycle!r}")
        if self.max_cycles_per_day is not None:
            check_nonnegative("max_cycles_per_day", self.max_cycles_per_day)

    @classmethod
    def second_life(
        cls,
        capacity_kwh: float = 500.0,
        power_kw: float = 200.0,
        price_eur_per_kwh: float = 80.0,
        cycle_life: float = 3000.0,
        **overrides: float,
    ) -> BatteryParams:
        """A repurposed EV pack priced per kWh of remaining capacity, worn from SoH 0.8 to 0.6.

        The degradation cost spreads the pack's price over the throughput it delivers before end of
        life: ``price * soh0 * Cap / ((soh0 - soh_eol) * 2 * Cap / fade_per_cycle)``.
        """
        check_positive("cycle_life", cycle_life)
        soh0 = overrides.pop("soh0", 0.8)
        soh_eol = overrides.pop("soh_end_of_life", 0.6)
        if not soh_eol < soh0:
            raise ValueError(f"soh_end_of_life must be below soh0 = {soh0!r}, got {soh_eol!r}")
        fade = (soh0 - soh_eol) / cycle_life
        cost = wear_cost_per_kwh(price_eur_per_kwh, soh0, soh_eol, fade)
        return cls(
            capacity_kwh=capacity_kwh,
            p_charge_kw=power_kw,
            p_discharge_kw=power_kw,
            soh0=soh0,
            soh_end_of_life=soh_eol,
            fade_per_cycle=fade,
            degradation_cost_per_kwh=cost,
            **overrides,
        )

    def with_state(self, soc: float, soh: float) -> BatteryParams:
        """The same battery starting from another state (rolling horizons, multi-day runs)."""
        return replace(self, soc0=soc, soh0=soh)

    # Coefficients shared by the env's step and the MILP's constraints.
    @property
    def e0_kwh(self) -> float:
        """Initial stored energy."""
        return self.soc0 * self.soh0 * self.capacity_kwh

    @property
    def fade_per_kwh(self) -> float:
        """State of health lost per kWh of throughput (charge plus discharge)."""
        return self.fade_per_cycle / (2.0 * self.capacity_kwh)

    def calendar_fade(self, dt: float) -> float:
        """State of health lost to calendar ageing in one step of ``dt`` hours."""
        return self.calendar_fade_per_day * dt / 24.0

    def charge_budget_kwh(self, days: float) -> float:
        """Energy that may be charged in an episode of ``days`` (inf without a cap)."""
        if self.max_cycles_per_day is None:
            return math.inf
        return self.max_cycles_per_day * days * self.soh0 * self.capacity_kwh


def wear_cost_per_kwh(price_eur_per_kwh: float, soh0: float, soh_end_of_life: float, fade_per_cycle: float) -> float:
    """Value a pack priced per kWh of remaining capacity loses per kWh of throughput: its price spread
    over the throughput that wears it from ``soh0`` to end of life,
    ``price * soh0 * fade_per_cycle / (2 * (soh0 - soh_end_of_life))``."""
    return price_eur_per_kwh * soh0 * fade_per_cycle / (2.0 * (soh0 - soh_end_of_life))


class Coefficients(NamedTuple):
    """The constants of :func:`bounds_of` for one battery and step length ``dt`` (hours): what a hot
    loop precomputes once per episode. Fields are floats for one battery, arrays for a bank."""

    e_floor: Any  # soc_min * Cap (kWh per unit of SoH)
    e_ceiling: Any  # soc_max * Cap
    k_floor: Any  # dt * (1 / eta_d - soc_min * fade_per_cycle / 2): kWh above the floor per kW discharged
    k_ceiling: Any  # dt * (eta_c + soc_max * fade_per_cycle / 2): kWh under the ceiling per kW charged
    k_forced: Any  # dt * (1 / eta_d - soc_max * fade_per_cycle / 2): kWh over the ceiling per kW discharged
    calendar: Any  # SoH lost to calendar ageing in one step
    tol: Any  # ENERGY_TOL * Cap: a ceiling overshoot this small is rounding
    dt: float


def coefficients(b: BatteryParams, dt: float) -> Coefficients:
    """The constants of :func:`bounds_of` for battery ``b`` and steps of ``dt`` hours."""
    kc, half = b.capacity_kwh, 0.5 * b.fade_per_cycle
    return Coefficients(b.soc_min * kc, b.soc_max * kc, dt * (1.0 / b.eta_discharge - b.soc_min * half),
                        dt * (b.eta_charge + b.soc_max * half), dt * (1.0 / b.eta_discharge - b.soc_max * half),
                        b.calendar_fade(dt), ENERGY_TOL * kc, dt)


def bounds_of(k: Coefficients, e: float, soh: float, charge_max_kw: float, discharge_max_kw: float,
              budget_kwh: float = math.inf) -> tuple[float, float]:
    """Feasible interval ``[lo, hi]`` of signed power for one step: the bound equations, written once.

    ``charge_max_kw``/``discharge_max_kw`` are the limits of the battery and its site (ratings,
    connection, no export); ``budget_kwh`` is the charge energy still allowed. The interval holds
    every power that keeps next step's energy inside next step's SoC window (the window shrinks with
    the SoH the step's own throughput and calendar ageing take). It contains 0 unless calendar fade
    lowers the ceiling below the stored energy, which then forces a small discharge.
    :meth:`BatteryBank.bounds` is the batched form; ``tests/test_battery_bank.py`` ties them.
    """
    soh_idle = soh - k.calendar
    head = k.e_ceiling * soh_idle - e  # room under the ceiling if idle
    floor_room = e - k.e_floor * soh_idle  # energy above the floor if idle
    d_hi = floor_room / k.k_floor if floor_room > 0.0 else 0.0
    if discharge_max_kw < d_hi:
        d_hi = discharge_max_kw
    if head >= -k.tol:  # at the ceiling up to rounding: idle stays feasible
        c_hi = head / k.k_ceiling if head > 0.0 else 0.0
        if charge_max_kw < c_hi:
            c_hi = charge_max_kw
        if budget_kwh < math.inf:
            cap = budget_kwh / k.dt if budget_kwh > 0.0 else 0.0
            if cap < c_hi:
                c_hi = cap
        return -d_hi, c_hi
    d_lo = -head / k.k_forced
    if d_lo > d_hi:
        d_lo = d_hi  # infeasible site limits; scenario validation rules this out
    return -d_hi, -d_lo


def power_bounds(
    b: BatteryParams,
    e: float,
    soh: float,
    dt: float,
    charge_max_kw: float,
    discharge_max_kw: float,
    budget_kwh: float,
) -> tuple[float, float]:
    """:func:`bounds_of` for battery ``b`` (its coefficients computed on the spot)."""
    return bounds_of(coefficients(b, dt), e, soh, charge_max_kw, discharge_max_kw, budget_kwh)


def power_of_share(a: float, p_charge_kw: float, p_discharge_kw: float) -> float:
    """Signed power a share ``a`` in [-1, 1] of the rating asks for: ``a * p_charge_kw`` when charging,
    ``a * p_discharge_kw`` when discharging. :func:`powers_of_shares` is the batched form."""
    return a * (p_charge_kw if a > 0.0 else p_discharge_kw)


def share_of_power(p: float, p_charge_kw: float, p_discharge_kw: float) -> float:
    """The share that asks for signed power ``p`` (the inverse of :func:`power_of_share`; 0 for a zero rating)."""
    rating = p_charge_kw if p > 0.0 else p_discharge_kw
    return p / rating if rating > 0.0 else 0.0


def powers_of_shares(a: np.ndarray, p_charge_kw: np.ndarray | float, p_discharge_kw: np.ndarray | float
                     ) -> np.ndarray:
    """:func:`power_of_share` on arrays."""
    if type(p_charge_kw) is float and type(p_discharge_kw) is float and p_charge_kw == p_discharge_kw:  # one product
        return a * np.float64(p_charge_kw)  # float64 like the general form's, whatever the dtype of ``a``
    return a * np.where(a > 0.0, p_charge_kw, p_discharge_kw)


def shares_of_powers(p: np.ndarray, p_charge_kw: np.ndarray | float, p_discharge_kw: np.ndarray | float
                     ) -> np.ndarray:
    """:func:`share_of_power` on arrays."""
    rating = np.where(p > 0.0, p_charge_kw, p_discharge_kw)
    return np.divide(p, rating, out=np.zeros(np.broadcast(p, rating).shape), where=rating > 0.0)


def step_battery(b: BatteryParams, e: float, soh: float, p: float, dt: float) -> tuple[float, float]:
    """Next energy and state of health after signed power ``p`` for ``dt`` hours."""
    if p >= 0.0:
        e_next = e + b.eta_charge * p * dt
        thr = p * dt
    else:
        e_next = e + p * dt / b.eta_discharge
        thr = -p * dt
    soh_next = soh - b.fade_per_kwh * thr - b.calendar_fade(dt)
    return e_next, soh_next


@dataclass(frozen=True)
class BatteryBank:
    """Many batteries stepped at once (fleets, EVs): the same equations as :func:`power_bounds` and
    :func:`step_battery`, on arrays with one entry per battery. Build it with :meth:`of`."""

    params: tuple[BatteryParams, ...]
    capacity_kwh: np.ndarray
    eta_charge: np.ndarray
    eta_discharge: np.ndarray
    soc_min: np.ndarray
    soc_max: np.ndarray
    fade_per_kwh: np.ndarray
    half_fade: np.ndarray
    calendar_fade_per_day: np.ndarray

    @classmethod
    def of(cls, params: list[BatteryParams] | tuple[BatteryParams, ...]) -> BatteryBank:
        ps = tuple(params)
        if not ps or not all(isinstance(p, BatteryParams) for p in ps):
            raise ValueError("a BatteryBank needs one or more BatteryParams")

        def col(name: str) -> np.ndarray:
            a = np.array([getattr(p, name) for p in ps], dtype=np.float64)
            a.setflags(write=False)
            return a

        half = col("fade_per_cycle") * 0.5
        return cls(ps, col("capacity_kwh"), col("eta_charge"), col("eta_discharge"), col("soc_min"),
                   col("soc_max"), col("fade_per_kwh"), half, col("calendar_fade_per_day"))

    @property
    def n(self) -> int:
        return len(self.params)

    def e0_kwh(self) -> np.ndarray:
        return np.array([p.e0_kwh for p in self.params])

    def soh0(self) -> np.ndarray:
        return np.array([p.soh0 for p in self.params])

    def coefficients(self, dt: float) -> Coefficients:
        """:func:`coefficients` of every battery, as arrays."""
        return Coefficients(self.soc_min * self.capacity_kwh, self.soc_max * self.capacity_kwh,
                            dt * (1.0 / self.eta_discharge - self.soc_min * self.half_fade),
                            dt * (self.eta_charge + self.soc_max * self.half_fade),
                            dt * (1.0 / self.eta_discharge - self.soc_max * self.half_fade),
                            self.calendar_fade_per_day * dt / 24.0, ENERGY_TOL * self.capacity_kwh, dt)

    def bounds(self, e: np.ndarray, soh: np.ndarray, dt: float, charge_max_kw: np.ndarray,
               discharge_max_kw: np.ndarray, budget_kwh: np.ndarray | float = np.inf
               ) -> tuple[np.ndarray, np.ndarray]:
        """Per battery, the feasible interval ``[lo, hi]`` of signed power (:func:`bounds_of`)."""
        return bounds_batch(self.coefficients(dt), e, soh, charge_max_kw, discharge_max_kw, budget_kwh)

    def step(self, e: np.ndarray, soh: np.ndarray, p: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Next energy and state of health per battery after signed powers ``p``."""
        c = np.maximum(p, 0.0)
        d = np.maximum(-p, 0.0)
        e_next = e + self.eta_charge * c * dt - d * dt / self.eta_discharge
        soh_next = soh - self.fade_per_kwh * ((c + d) * dt) - self.calendar_fade_per_day * dt / 24.0
        return e_next, soh_next


def bounds_batch(k: Coefficients, e: np.ndarray, soh: np.ndarray, charge_max_kw: np.ndarray | float,
                 discharge_max_kw: np.ndarray | float, budget_kwh: np.ndarray | float = np.inf
                 ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bounds_of` on arrays (any shape that broadcasts against the coefficients)."""
    soh_idle = soh - k.calendar
    head = k.e_ceiling * soh_idle - e
    d_hi = np.minimum(np.maximum(e - k.e_floor * soh_idle, 0.0) / k.k_floor, discharge_max_kw)
    c_hi = np.minimum(np.maximum(head, 0.0) / k.k_ceiling, charge_max_kw)
    c_hi = np.minimum(c_hi, np.maximum(budget_kwh, 0.0) / k.dt)
    d_lo = np.minimum(np.maximum(-head, 0.0) / k.k_forced, d_hi)
    return -d_hi, np.where(head >= -k.tol, c_hi, -d_lo)


def window_batch(k: Coefficients, e: np.ndarray, soh: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The SoC-window terms of :func:`bounds_batch` alone: the signed powers that take energy ``e`` exactly
    to next step's floor and ceiling, with no power limit and no budget. For ``e`` inside the window they
    equal ``bounds_batch(k, e, soh, inf, inf)``; as lines in ``e`` they are what a projection that adds its
    own limits to the window uses (two operations each, for hot loops)."""
    soh_idle = soh - k.calendar
    return (k.e_floor * soh_idle - e) / k.k_floor, (k.e_ceiling * soh_idle - e) / k.k_ceiling
