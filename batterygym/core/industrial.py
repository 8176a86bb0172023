"""The industrial site: its scenario (one episode's parameters and series) and its money.

A site imports ``g = load - pv + c - d`` from the grid (export when negative). Per step:

    energy   = price_import * max(g, 0) * dt - price_export * max(-g, 0) * dt
    demand   = rate_k * max(0, max(g, 0) - peak_so_far_k)    (the peak's increment in billing period k)
    wear     = degradation_cost_per_kwh * (c + d) * dt
    reward   = -(energy + demand + wear)   (+ terminal_value * (E_T - E_0) on the last step)

Both the env and the MILP use these functions and limits; nothing here is duplicated elsewhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryParams, coefficients, step_battery
from batterygym.core.validation import as_series, check_nonnegative, check_positive


@dataclass(frozen=True)
class IndustrialScenario:
    """One episode of an industrial site with a battery.

    Series are per step (``dt_h`` hours each), in kW and EUR/kWh. ``demand_charge_eur_per_kw`` is
    paid on each billing period's peak import: ``billing_period`` gives each step's period (0, 1, ...
    in order; None: the whole episode is one period) and ``billing_share`` each period's share of the
    rate (a month the data covers in part; None: 1). The first period's peak counts only above
    ``initial_peak_kw`` (the peak already set when the episode starts). Without ``allow_export`` the PV
    surplus is curtailed and the battery never discharges more than the net load (load - PV).
    ``charge_budget_kwh`` defaults to the battery's cycle cap over the episode;
    ``terminal_value_eur_per_kwh`` (default: lowest import price times discharge efficiency)
    credits energy left in the battery at the end, so no policy gains by emptying it.
    """

    load_kw: np.ndarray
    price_import: np.ndarray
    pv_kw: np.ndarray | None = None
    price_export: np.ndarray | None = None
    battery: BatteryParams = field(default_factory=BatteryParams)
    connection_kw: float = 1000.0
    demand_charge_eur_per_kw: float = 0.0
    allow_export: bool = True
    initial_peak_kw: float = 0.0
    billing_period: np.ndarray | None = None
    billing_share: np.ndarray | None = None
    charge_budget_kwh: float | None = None
    terminal_value_eur_per_kwh: float | None = None
    start: str = "2025-01-06T00:00"
    dt_h: float = 1.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_positive("dt_h", self.dt_h)
        load = as_series("load_kw", self.load_kw, nonnegative=True)
        n = load.shape[0]
        set_(self, "load_kw", load)
        set_(self, "price_import", as_series("price_import", self.price_import, n))
        pv = np.zeros(n) if self.pv_kw is None else self.pv_kw
        set_(self, "pv_kw", as_series("pv_kw", pv, n, nonnegative=True))
        exp = np.zeros(n) if self.price_export is None or not self.allow_export else self.price_export
        set_(self, "price_export", as_series("price_export", exp, n))
        if not isinstance(self.battery, BatteryParams):
            raise ValueError(f"battery must be a BatteryParams, got {type(self.battery).__name__}")
        check_positive("connection_kw", self.connection_kw)
        check_nonnegative("demand_charge_eur_per_kw", self.demand_charge_eur_per_kw)
        check_nonnegative("initial_peak_kw", self.initial_peak_kw)
        self._set_billing(n)
        try:
            ok = isinstance(self.start, str) and bool(datetime.fromisoformat(self.start))
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"start must be an ISO timestamp, got {self.start!r}")
        self._check_site()

    @classmethod
    def from_arrays(cls, derived: dict[str, object] | None = None, check: bool = True, **values: object
                    ) -> IndustrialScenario:
        """A scenario from series already in final form, as a generator builds them: read-only float64
        arrays of one length (``price_export`` zeros without export), ``billing_period`` int64 counting
        0, 1, ... and ``billing_share`` float64, every field given. It skips ``__post_init__``'s conversion
        and per-field checks (what makes a reset slow) but runs its site checks, which raise the same
        errors. ``derived`` pre-fills cached properties the builder already knows (``hour_of_day``, ...).
        ``check=False`` skips the site checks too, for a builder that has run them on its arrays (a batched
        generator's screen) and gives ``charge_budget_kwh`` and ``terminal_value_eur_per_kwh`` as they derive."""
        missing = _FIELD_NAMES.difference(values)
        if missing or len(values) != len(_FIELD_NAMES):
            raise ValueError(f"from_arrays needs every field of IndustrialScenario once; missing {sorted(missing)}, "
                             f"unknown {sorted(set(values) - _FIELD_NAMES)}")
        s = object.__new__(cls)
        s.__dict__.update(values)
        if derived:
            s.__dict__.update(derived)
        if check:
            s._check_site()
        elif s.charge_budget_kwh is None or s.terminal_value_eur_per_kwh is None:
            raise ValueError("from_arrays(check=False) needs charge_budget_kwh and terminal_value_eur_per_kwh")
        return s

    def _check_site(self) -> None:
        """The checks across fields (connection, prices, budget, ageing) and the defaults derived from them."""
        set_ = object.__setattr__
        net = self.net_kw
        if net.max() > self.connection_kw:
            t = int(net.argmax())
            raise ValueError(
                f"load_kw - pv_kw = {net[t]:.6g} kW at step {t} exceeds connection_kw = {self.connection_kw}"
            )
        if self.allow_export and net.min() < -self.connection_kw:
            t = int(net.argmin())
            raise ValueError(
                f"pv_kw - load_kw = {-net[t]:.6g} kW at step {t} exceeds connection_kw = {self.connection_kw}"
            )
        lowest = float(self.price_import.min())
        if not self.allow_export and lowest < 0:
            t = int(self.price_import.argmin())
            raise ValueError(
                f"price_import is negative ({float(self.price_import[t])!r}) at step {t} while allow_export=False: "
                "curtailing PV to import would pay; allow export (at a price <= import) instead"
            )
        if (self.price_export > self.price_import).any():
            t = int(np.flatnonzero(self.price_export > self.price_import)[0])
            raise ValueError(
                f"price_export ({float(self.price_export[t])!r}) exceeds price_import "
                f"({float(self.price_import[t])!r}) at step {t}: importing to export would pay, which no meter allows"
            )
        if self.charge_budget_kwh is None:
            set_(self, "charge_budget_kwh", self.battery.charge_budget_kwh(self.days))
        else:
            budget = float(self.charge_budget_kwh)
            if math.isnan(budget) or budget < 0:
                raise ValueError(f"charge_budget_kwh must be non-negative, got {self.charge_budget_kwh!r}")
            set_(self, "charge_budget_kwh", budget)
        if self.terminal_value_eur_per_kwh is None:
            set_(self, "terminal_value_eur_per_kwh", float(default_terminal_value(lowest, self.battery.eta_discharge)))
        else:
            check_nonnegative("terminal_value_eur_per_kwh", self.terminal_value_eur_per_kwh)
        self._check_calendar_fade()
        self._check_forced_discharge()

    def _check_calendar_fade(self) -> None:
        """Calendar fade alone must leave the pack some capacity at the episode's end."""
        b = self.battery
        left = b.soh0 - b.calendar_fade_per_day * self.days
        if left <= 0.0:
            raise ValueError(
                f"calendar_fade_per_day = {b.calendar_fade_per_day!r} takes the state of health from "
                f"{b.soh0:g} to {left:.3g} within the episode's {self.days:g} days; it is a share of capacity "
                "lost per day (2 %/year is about 5.5e-5)"
            )

    def _set_billing(self, n: int) -> None:
        """Billing periods per step and the rate's share per period, checked and stored as arrays."""
        if self.billing_period is None:
            period = np.zeros(n, dtype=np.int64)
        else:
            raw = np.asarray(self.billing_period)
            if raw.shape != (n,) or not np.issubdtype(raw.dtype, np.integer):
                raise ValueError(f"billing_period must be {n} integers (one per step), got shape {raw.shape} "
                                 f"of {raw.dtype}")
            period = raw.astype(np.int64)
            jumps = np.diff(period)
            if period[0] != 0 or ((jumps != 0) & (jumps != 1)).any():
                t = 0 if period[0] != 0 else int(np.flatnonzero((jumps != 0) & (jumps != 1))[0]) + 1
                raise ValueError(f"billing_period must count 0, 1, 2, ... in order, got {int(period[t])} at step {t}")
        n_periods = int(period[-1]) + 1
        share = np.ones(n_periods) if self.billing_share is None else self.billing_share
        share = as_series("billing_share", share, n_periods, nonnegative=True)
        period.setflags(write=False)
        object.__setattr__(self, "billing_period", period)
        object.__setattr__(self, "billing_share", share)

    def _check_forced_discharge(self) -> None:
        """Calendar fade can lower the SoC ceiling under a full battery: it must be able to discharge."""
        b = self.battery
        if b.calendar_fade_per_day == 0.0:
            return
        need = b.soc_max * b.capacity_kwh * b.calendar_fade(self.dt_h)
        need /= self.dt_h * (1.0 / b.eta_discharge - 0.5 * b.soc_max * b.fade_per_cycle)
        short = np.flatnonzero(self.discharge_limit_kw < need)
        if short.size:
            t = int(short[0])
            raise ValueError(
                f"at step {t} the battery cannot discharge the {need:.3g} kW that calendar fade may force "
                f"(discharge limit {self.discharge_limit_kw[t]:.3g} kW: p_discharge_kw, or load_kw without "
                "export); set calendar_fade_per_day=0 or allow export"
            )

    # Derived, read-only; shared by the env and the MILP.
    @property
    def n_steps(self) -> int:
        return int(self.load_kw.shape[0])

    @property
    def days(self) -> float:
        return self.n_steps * self.dt_h / 24.0

    @cached_property
    def net_kw(self) -> np.ndarray:
        """Load minus PV: the import with the battery idle (negative: surplus)."""
        return self.load_kw - self.pv_kw

    @property
    def n_periods(self) -> int:
        """Number of demand-charge billing periods."""
        return int(self.billing_period[-1]) + 1

    @cached_property
    def period_rate(self) -> np.ndarray:
        """Demand charge per kW of each billing period's peak (EUR/kW)."""
        return self.demand_charge_eur_per_kw * self.billing_share

    @cached_property
    def _billing_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`billing_steps` of the scenario."""
        return billing_steps(self.demand_charge_eur_per_kw, self.billing_share, self.billing_period)

    @cached_property
    def _step_rate(self) -> list[float]:
        return self._billing_steps[0].tolist()

    @cached_property
    def _new_period(self) -> list[bool]:
        return self._billing_steps[1].tolist()

    def peak_before(self, t: int, peak_kw: float) -> float:
        """The peak that step ``t``'s demand charge is measured against: 0 when ``t`` opens a new period."""
        return 0.0 if t < self.n_steps and self._new_period[t] else peak_kw

    @cached_property
    def _site_limits(self) -> tuple[np.ndarray, np.ndarray]:
        return site_limits(self.net_kw, self.connection_kw, self.allow_export)

    @property
    def site_charge_limit_kw(self) -> np.ndarray:
        """Largest charge per step the site allows (grid connection), whatever the battery's rating."""
        return self._site_limits[0]

    @property
    def site_discharge_limit_kw(self) -> np.ndarray:
        """Largest discharge per step the site allows: the connection, or the net load when export is barred."""
        return self._site_limits[1]

    @cached_property
    def charge_limit_kw(self) -> np.ndarray:
        """Largest charge per step: battery rating and grid connection."""
        return np.minimum(self.battery.p_charge_kw, self.site_charge_limit_kw)

    @cached_property
    def discharge_limit_kw(self) -> np.ndarray:
        """Largest discharge per step: rating and connection, or the net load when export is barred."""
        return np.minimum(self.battery.p_discharge_kw, self.site_discharge_limit_kw)

    @cached_property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq=pd.Timedelta(hours=self.dt_h))

    @cached_property
    def hour_of_day(self) -> np.ndarray:
        ts = self.timestamps
        return (ts.hour + ts.minute / 60.0).to_numpy(dtype=np.float64)

    @cached_property
    def day_of_week(self) -> np.ndarray:
        return self.timestamps.day_of_week.to_numpy(dtype=np.float64)

    def window(self, start: int, length: int, soc: float, soh: float, peak_kw: float,
               budget_kwh: float) -> IndustrialScenario:
        """The sub-episode ``[start, start + length)`` from a given state (rolling-horizon MPC)."""
        end = min(start + length, self.n_steps)
        sl = slice(start, end)
        period = self.billing_period[sl]
        return IndustrialScenario(
            load_kw=self.load_kw[sl], price_import=self.price_import[sl], pv_kw=self.pv_kw[sl],
            price_export=self.price_export[sl], battery=self.battery.with_state(soc, soh),
            connection_kw=self.connection_kw, demand_charge_eur_per_kw=self.demand_charge_eur_per_kw,
            allow_export=self.allow_export, initial_peak_kw=self.peak_before(start, peak_kw),
            billing_period=period - period[0], billing_share=self.billing_share[period[0]:period[-1] + 1],
            charge_budget_kwh=budget_kwh,
            terminal_value_eur_per_kwh=self.terminal_value_eur_per_kwh,
            start=str(self.timestamps[start].isoformat()), dt_h=self.dt_h,
        )


def billing_steps(demand_charge_eur_per_kw: float, billing_share: np.ndarray, billing_period: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the demand charge per kW of new peak (the rate times its period's share) and whether
    the step opens a billing period (the first step does not: the episode's first peak starts from
    ``initial_peak_kw``)."""
    period = np.asarray(billing_period)
    opens = np.zeros(period.shape, dtype=bool)
    opens[1:] = period[1:] != period[:-1]
    return (demand_charge_eur_per_kw * billing_share)[period], opens


def default_terminal_value(lowest_price: np.ndarray | float, eta_discharge: np.ndarray | float) -> np.ndarray | float:
    """The default value of energy left in the battery (EUR/kWh): the lowest import price, discharged,
    and never negative (arrays broadcast)."""
    return np.maximum(lowest_price * eta_discharge, 0.0)


def site_limits(net_kw: np.ndarray, connection_kw: np.ndarray | float, allow_export: np.ndarray | bool
                ) -> tuple[np.ndarray, np.ndarray]:
    """Largest charge and discharge per step the site allows: the grid connection either way, and without
    export no discharge beyond the net load. Arrays broadcast (one episode or many)."""
    if isinstance(allow_export, bool):
        return connection_kw - net_kw, connection_kw + net_kw if allow_export else np.maximum(net_kw, 0.0)
    return connection_kw - net_kw, np.where(allow_export, connection_kw + net_kw, np.maximum(net_kw, 0.0))


_FIELD_NAMES = frozenset(f.name for f in fields(IndustrialScenario))


def settle_step(s: IndustrialScenario, t: int, p: float, peak_kw: float) -> tuple[float, ...]:
    """Money of step ``t`` with signed battery power ``p`` (kW) and the peak import so far in the
    billing period (the period's peak starts again from 0 at the step that opens a new period).

    Returns ``(import_kw, export_kw, energy_eur, demand_eur, wear_eur, new_peak_kw)``; energy is
    net of export revenue. Scalar floats: the env calls it every step.
    """
    dt = s.dt_h
    g = float(s.net_kw[t]) + p
    if g >= 0.0:
        imp, exp = g, 0.0
        energy = float(s.price_import[t]) * g * dt
    else:
        imp, exp = 0.0, -g
        energy = float(s.price_export[t]) * g * dt
    if s._new_period[t]:
        peak_kw = 0.0
    if imp > peak_kw:
        demand = s._step_rate[t] * (imp - peak_kw)
        peak_kw = imp
    else:
        demand = 0.0
    wear = s.battery.degradation_cost_per_kwh * abs(p) * dt
    return imp, exp, energy, demand, wear, peak_kw


def settle_batch(net_kw: np.ndarray, p: np.ndarray, price_import: np.ndarray, price_export: np.ndarray,
                 rate: np.ndarray, new_period: np.ndarray, peak_kw: np.ndarray, wear_eur_per_kwh: np.ndarray | float,
                 dt: float) -> tuple[np.ndarray, ...]:
    """:func:`settle_step` for many episodes at once, each at its own step: ``net_kw``, the prices, ``rate``
    (the step's demand charge per kW) and ``new_period`` (the step opens a billing period) are the values
    of that step, one per episode. Returns the same six quantities as arrays;
    ``tests/test_industrial_state.py`` ties the two."""
    g = net_kw + p
    imp = np.maximum(g, 0.0)
    exp = imp - g  # max(-g, 0), exactly
    energy = np.where(g >= 0.0, price_import, price_export) * g
    wear = wear_eur_per_kwh * np.abs(p)
    if dt != 1.0:  # hourly steps skip the product: x * 1.0 is x
        energy *= dt
        wear *= dt
    peak = np.where(new_period, 0.0, peak_kw) if new_period.any() else peak_kw
    demand = imp - peak
    np.maximum(demand, 0.0, out=demand)
    demand *= rate
    return imp, exp, energy, demand, wear, np.maximum(peak, imp)


def idle_power(s: IndustrialScenario) -> np.ndarray:
    """The battery's power per step when every action is zero: none, unless calendar fade lowers the SoC
    ceiling under the stored energy; from then on each step discharges what keeps the battery on its
    ceiling (:func:`~batterygym.core.battery.bounds_of`'s forced discharge), a constant after the first."""
    b, n = s.battery, s.n_steps
    k = coefficients(b, s.dt_h)
    p = np.zeros(n)
    if k.calendar == 0.0:
        return p
    e0 = b.e0_kwh
    # SoH after each idle step (subtracted step by step, as the env does), and the head room it leaves
    soh_next = np.subtract.accumulate(np.concatenate([[b.soh0], np.full(n, k.calendar)]))[1:]
    forced = np.flatnonzero(k.e_ceiling * soh_next - e0 < -k.tol)
    if forced.size == 0:
        return p
    t0 = int(forced[0])
    dlim = s.discharge_limit_kw
    p[t0] = -min((e0 - k.e_ceiling * soh_next[t0]) / k.k_forced, float(dlim[t0]))
    p[t0 + 1:] = -np.minimum(k.e_ceiling * k.calendar / k.k_forced, dlim[t0 + 1:])
    return p


def idle_rewards(s: IndustrialScenario) -> np.ndarray:
    """Per-step rewards the env pays when every action is zero (the idle policy), from the scenario's
    arrays alone: the energy and demand charges of the net load (plus :func:`idle_power`, which is zero
    without calendar fade) and, on the last step, the terminal credit of what that power took out."""
    dt = s.dt_h
    p = idle_power(s)
    g = s.net_kw + p
    imp = np.maximum(g, 0.0)
    energy = np.where(g >= 0.0, s.price_import, s.price_export) * g * dt
    # each billing period's running peak before every step (the first period starts from initial_peak_kw)
    period = s.billing_period
    starts = np.flatnonzero(np.concatenate([[True], period[1:] != period[:-1]]))
    ends = np.append(starts[1:], s.n_steps)
    before = np.empty(s.n_steps)
    for a, z in zip(starts.tolist(), ends.tolist(), strict=True):
        floor = s.initial_peak_kw if a == 0 else 0.0
        before[a] = floor
        before[a + 1:z] = np.maximum(np.maximum.accumulate(imp[a:z - 1]), floor)
    demand = s.period_rate[period] * np.maximum(imp - before, 0.0)
    wear = s.battery.degradation_cost_per_kwh * np.abs(p) * dt
    rewards = -(energy + demand + wear)
    e_final = s.battery.e0_kwh + float(np.sum(p[p < 0] * dt / s.battery.eta_discharge))
    rewards[-1] += terminal_credit(s, e_final)
    return rewards


def terminal_credit(s: IndustrialScenario, e_final_kwh: float) -> float:
    """Value credited on the last step for the energy left in the battery (minus what it held)."""
    return s.terminal_value_eur_per_kwh * (e_final_kwh - s.battery.e0_kwh)


def simulate(s: IndustrialScenario, power_kw: np.ndarray) -> pd.DataFrame:
    """Step a feasible signed power schedule through the model: the physical and money record.

    Runs the same functions as the env, so a schedule's total ``reward`` is what the env pays.
    """
    power_kw = np.asarray(power_kw, dtype=np.float64)
    if power_kw.shape != (s.n_steps,):
        raise ValueError(f"power_kw must have shape ({s.n_steps},), got {power_kw.shape}")
    b = s.battery
    e, soh, peak = b.e0_kwh, b.soh0, s.initial_peak_kw
    rows = []
    for t in range(s.n_steps):
        p = float(power_kw[t])
        imp, exp, energy, demand, wear, peak = settle_step(s, t, p, peak)
        e, soh = step_battery(b, e, soh, p, s.dt_h)
        rows.append((p, imp, exp, e, soh, peak, energy, demand, wear))
    df = pd.DataFrame(
        rows,
        columns=["battery_kw", "import_kw", "export_kw", "energy_kwh", "soh", "peak_kw",
                 "energy_eur", "demand_eur", "degradation_eur"],
        index=s.timestamps,
    )
    df.insert(0, "load_kw", s.load_kw)
    df.insert(1, "pv_kw", s.pv_kw)
    df.insert(2, "price_import", s.price_import)
    df["soc"] = df["energy_kwh"] / (df["soh"] * b.capacity_kwh)
    df["terminal_eur"] = 0.0
    df.iloc[-1, df.columns.get_loc("terminal_eur")] = terminal_credit(s, e)
    df["reward"] = -(df["energy_eur"] + df["demand_eur"] + df["degradation_eur"]) + df["terminal_eur"]
    return df


def cost_breakdown(schedule: pd.DataFrame) -> dict[str, float]:
    """Episode totals of a :func:`simulate` record (costs positive, total = -return)."""
    totals = {
        "energy_eur": float(schedule["energy_eur"].sum()),
        "demand_eur": float(schedule["demand_eur"].sum()),
        "degradation_eur": float(schedule["degradation_eur"].sum()),
        "terminal_credit_eur": float(schedule["terminal_eur"].sum()),
    }
    totals["total_cost_eur"] = -float(schedule["reward"].sum())
    totals["peak_kw"] = float(schedule["peak_kw"].max())
    return totals
