"""A battery fleet bidding into up and down markets: its scenario, its dynamics and its money.

Every asset ``i`` is a :class:`BatteryParams`; every market ``m`` is ``up`` (the fleet delivers power:
discharge) or ``down`` (it absorbs power: charge). Per step ``t`` each asset allocates
``0 <= x[t,i,m] <= prequalified_kw[i,m]`` to each market, and

    d[t,i] = sum_{m up} x[t,i,m]  <= p_discharge_kw[i]      (discharge)
    c[t,i] = sum_{m down} x[t,i,m] <= p_charge_kw[i]        (charge; never both c > 0 and d > 0)

with the shared battery equations (efficiency, SoC window, cycle fade, charge budget). The money of a
step, in EUR, with prices in EUR/MWh (``dir[m] = +1`` up, ``-1`` down, as in the source):

    revenue = sum_{i,m} dir[m] * price[t,m] * x[t,i,m] * dt / 1000
    wear    = sum_i degradation_cost_per_kwh[i] * (c[t,i] + d[t,i]) * dt
    reward  = revenue - wear   (+ terminal_value / 1000 * sum_i (E_T,i - E_0,i) on the last step)

So an up market pays the fleet for the energy it delivers, and a down market charges it for the
energy it absorbs (a negative down price pays it to charge). :class:`FleetState` applies a requested
allocation after projecting it onto the feasible set; the env, the multi-agent env and
:func:`simulate` all step through it, and the MILP writes the same equations from the same arrays.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryBank, BatteryParams
from batterygym.core.validation import check_nonnegative, check_positive

UP, DOWN = "up", "down"
DIRECTIONS = (UP, DOWN)
EUR_PER_MWH_TO_KWH = 1e-3  # prices are quoted per MWh; powers are kW
INFEASIBLE_TOL_KW = 1e-6  # a schedule given to simulate() may exceed its limits by rounding, not more


def _direction(name: str, value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in DIRECTIONS:
        raise ValueError(f"{name} must be 'up' or 'down', got {value!r}")
    return value.strip().lower()


@dataclass(frozen=True)
class FleetScenario:
    """One episode of a fleet: its assets, its markets and every price.

    ``assets`` are the batteries (any number, each with its own ratings, capacity and efficiency;
    calendar fade must be 0). ``directions[m]`` is ``"up"`` or ``"down"``; ``prices`` has shape
    ``(n_steps, n_markets)`` in EUR/MWh; ``prequalified_kw`` has shape ``(n_assets, n_markets)``,
    the most asset ``i`` may offer in market ``m`` (at most its rating in that direction).
    ``terminal_value_eur_per_mwh`` credits the energy left at the end against the start (0, as in
    the source: what is left is worth nothing).
    """

    assets: tuple[BatteryParams, ...]
    directions: tuple[str, ...]
    prices: np.ndarray
    prequalified_kw: np.ndarray
    market_names: tuple[str, ...] | None = None
    asset_names: tuple[str, ...] | None = None
    terminal_value_eur_per_mwh: float = 0.0
    start: str = "2025-01-01T00:00"
    dt_h: float = 1.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_positive("dt_h", self.dt_h)
        if isinstance(self.assets, BatteryParams) or not isinstance(self.assets, Sequence) or not self.assets:
            raise ValueError(f"assets must be a non-empty sequence of BatteryParams, got {self.assets!r}")
        for i, b in enumerate(self.assets):
            if not isinstance(b, BatteryParams):
                raise ValueError(f"assets[{i}] must be a BatteryParams, got {type(b).__name__}")
            if b.calendar_fade_per_day != 0.0:
                raise ValueError(
                    f"assets[{i}].calendar_fade_per_day must be 0 in a fleet (a fading ceiling could force a "
                    f"discharge no market takes), got {b.calendar_fade_per_day!r}"
                )
        set_(self, "assets", tuple(self.assets))
        if isinstance(self.directions, str) or not isinstance(self.directions, Sequence) or not self.directions:
            raise ValueError(f"directions must be a non-empty sequence of 'up'/'down', got {self.directions!r}")
        set_(self, "directions", tuple(_direction(f"directions[{m}]", d) for m, d in enumerate(self.directions)))
        n, k = len(self.assets), len(self.directions)

        try:
            prices = np.array(self.prices, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prices must be an array of numbers: {exc}") from None
        if prices.ndim != 2 or prices.shape[1] != k or prices.shape[0] == 0:
            raise ValueError(f"prices must have shape (n_steps, {k}) (one column per market), got {prices.shape}")
        bad = np.argwhere(~np.isfinite(prices))
        if bad.size:
            t, m = (int(v) for v in bad[0])
            raise ValueError(f"prices has a non-finite value {float(prices[t, m])!r} at step {t}, market {m}")
        prices.setflags(write=False)
        set_(self, "prices", prices)

        try:
            pq = np.array(self.prequalified_kw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prequalified_kw must be an array of numbers: {exc}") from None
        if pq.shape != (n, k):
            raise ValueError(f"prequalified_kw must have shape ({n}, {k}) (assets x markets), got {pq.shape}")
        bad = np.argwhere(~np.isfinite(pq) | (pq < 0))
        if bad.size:
            i, m = (int(v) for v in bad[0])
            raise ValueError(f"prequalified_kw[{i}, {m}] must be a finite number >= 0, got {float(pq[i, m])!r}")
        for i, b in enumerate(self.assets):
            for m, d in enumerate(self.directions):
                rating = b.p_discharge_kw if d == UP else b.p_charge_kw
                if pq[i, m] > rating * (1 + 1e-12):
                    what = "p_discharge_kw" if d == UP else "p_charge_kw"
                    raise ValueError(
                        f"prequalified_kw[{i}, {m}] = {pq[i, m]!r} exceeds asset {i}'s {what} = {rating!r} "
                        f"(market {m} is {d}): no asset prequalifies for more than it can deliver"
                    )
        pq.setflags(write=False)
        set_(self, "prequalified_kw", pq)

        for field_name, count, prefix in (("market_names", k, "m"), ("asset_names", n, "a")):
            names = getattr(self, field_name)
            if names is None:
                names = tuple(f"{prefix}{j}" for j in range(count))
            if isinstance(names, str) or len(names) != count or not all(isinstance(x, str) and x for x in names):
                raise ValueError(f"{field_name} must be {count} non-empty strings, got {names!r}")
            if len(set(names)) != count:
                raise ValueError(f"{field_name} must be unique, got {names!r}")
            set_(self, field_name, tuple(names))
        check_nonnegative("terminal_value_eur_per_mwh", self.terminal_value_eur_per_mwh)
        try:
            np.datetime64(self.start)
        except ValueError:
            raise ValueError(f"start must be an ISO timestamp, got {self.start!r}") from None

    # Derived, read-only; shared by the env and the MILP.
    @property
    def n_assets(self) -> int:
        return len(self.assets)

    @property
    def n_markets(self) -> int:
        return len(self.directions)

    @property
    def n_steps(self) -> int:
        return int(self.prices.shape[0])

    @property
    def days(self) -> float:
        return self.n_steps * self.dt_h / 24.0

    @cached_property
    def bank(self) -> BatteryBank:
        """The assets as arrays (one entry per asset)."""
        return BatteryBank.of(self.assets)

    @cached_property
    def is_up(self) -> np.ndarray:
        """True for up (discharge) markets, per market."""
        a = np.array([d == UP for d in self.directions])
        a.setflags(write=False)
        return a

    @cached_property
    def sign(self) -> np.ndarray:
        """``dir[m]``: +1 for an up market, -1 for a down market."""
        a = np.where(self.is_up, 1.0, -1.0)
        a.setflags(write=False)
        return a

    @cached_property
    def value_eur_per_kwh(self) -> np.ndarray:
        """``dir[m] * price[t, m] / 1000``: EUR earned per kWh allocated to market m at step t, (T, M)."""
        a = self.sign[None, :] * self.prices * EUR_PER_MWH_TO_KWH
        a.setflags(write=False)
        return a

    @cached_property
    def discharge_limit_kw(self) -> np.ndarray:
        """Largest discharge per asset: its rating, or all its up prequalification if that is less."""
        pq_up = self.prequalified_kw[:, self.is_up].sum(axis=1)
        a = np.minimum(np.array([b.p_discharge_kw for b in self.assets]), pq_up)
        a.setflags(write=False)
        return a

    @cached_property
    def charge_limit_kw(self) -> np.ndarray:
        """Largest charge per asset: its rating, or all its down prequalification if that is less."""
        pq_dn = self.prequalified_kw[:, ~self.is_up].sum(axis=1)
        a = np.minimum(np.array([b.p_charge_kw for b in self.assets]), pq_dn)
        a.setflags(write=False)
        return a

    @cached_property
    def charge_budget_kwh(self) -> np.ndarray:
        """Energy each asset may charge in the episode (inf without a cycle cap)."""
        a = np.array([b.charge_budget_kwh(self.days) for b in self.assets])
        a.setflags(write=False)
        return a

    @cached_property
    def wear_eur_per_kwh(self) -> np.ndarray:
        a = np.array([b.degradation_cost_per_kwh for b in self.assets])
        a.setflags(write=False)
        return a

    @property
    def terminal_value_eur_per_kwh(self) -> float:
        return self.terminal_value_eur_per_mwh * EUR_PER_MWH_TO_KWH

    @cached_property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq=pd.Timedelta(hours=self.dt_h))

    @cached_property
    def hour_of_day(self) -> np.ndarray:
        ts = self.timestamps
        return (ts.hour + ts.minute / 60.0).to_numpy(dtype=np.float64)

    def window(self, start: int, length: int, energy_kwh: Sequence[float], soh: Sequence[float],
               budget_kwh: Sequence[float]) -> FleetScenario:
        """The sub-episode ``[start, start + length)`` from a given state (rolling-horizon MPC)."""
        end = min(start + length, self.n_steps)
        assets = []
        for b, e, h, left in zip(self.assets, energy_kwh, soh, budget_kwh, strict=True):
            soc = min(max(e / (h * b.capacity_kwh), b.soc_min), b.soc_max)
            days = (end - start) * self.dt_h / 24.0
            cycles = None
            if b.max_cycles_per_day is not None:
                cycles = left / (days * h * b.capacity_kwh) if days > 0 else 0.0
            assets.append(replace(b, soc0=soc, soh0=h, max_cycles_per_day=cycles))
        return FleetScenario(
            assets=tuple(assets), directions=self.directions, prices=self.prices[start:end],
            prequalified_kw=self.prequalified_kw, market_names=self.market_names, asset_names=self.asset_names,
            terminal_value_eur_per_mwh=self.terminal_value_eur_per_mwh,
            start=str(self.timestamps[start].isoformat()), dt_h=self.dt_h,
        )


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


class FleetState:
    """The fleet's state (energy, SoH, charge budget per asset) and its step.

    :meth:`step` takes the requested share of every prequalification (assets x markets) and projects
    the request onto the feasible set, per asset:

    1. a share is clipped to [0, 1] and allocates ``share * prequalified_kw`` to its market;
    2. if both the asset's up total and its down total are positive, it keeps the larger side (up on
       a tie) and drops the other (no charge and discharge in one step);
    3. it scales the kept side's allocations down uniformly until their total fits the asset's
       feasible power now (rating, SoC window of the fading capacity, charge budget: the bounds of
       :func:`batterygym.core.battery.power_bounds`).

    A request the MILP could make is left unchanged. Plain python floats over the prequalified
    markets only: it runs millions of times, and at fleet sizes of a few assets this beats numpy.
    """

    def __init__(self, s: FleetScenario) -> None:
        self.s = s
        pq = s.prequalified_kw
        self._up = [[(m, float(pq[i, m])) for m in range(s.n_markets) if s.is_up[m] and pq[i, m] > 0]
                    for i in range(s.n_assets)]
        self._dn = [[(m, float(pq[i, m])) for m in range(s.n_markets) if not s.is_up[m] and pq[i, m] > 0]
                    for i in range(s.n_assets)]
        self._value = s.value_eur_per_kwh.tolist()
        self._clim = s.charge_limit_kw.tolist()
        self._dlim = s.discharge_limit_kw.tolist()
        self._wear = s.wear_eur_per_kwh.tolist()
        self._zeros = [0.0] * s.n_markets
        # power_bounds' and step_battery's coefficients per asset, without calendar fade (a fleet has none)
        bank, dt = s.bank, s.dt_h
        self._floor = (bank.soc_min * bank.capacity_kwh).tolist()
        self._ceil = (bank.soc_max * bank.capacity_kwh).tolist()
        self._den_d = (dt * (1.0 / bank.eta_discharge - bank.soc_min * bank.half_fade)).tolist()
        self._den_c = (dt * (bank.eta_charge + bank.soc_max * bank.half_fade)).tolist()
        self._den_forced = (dt * (1.0 / bank.eta_discharge - bank.soc_max * bank.half_fade)).tolist()
        self._eta_c = bank.eta_charge.tolist()
        self._eta_d = bank.eta_discharge.tolist()
        self._fade = bank.fade_per_kwh.tolist()
        self.reset()

    def reset(self) -> None:
        s = self.s
        self.t = 0
        self.energy_kwh = [b.e0_kwh for b in s.assets]
        self.soh = [b.soh0 for b in s.assets]
        self.budget_kwh = s.charge_budget_kwh.tolist()
        self._update_bounds()

    def _update_bounds(self) -> None:
        """Feasible signed power of every asset now, ``lo[i] <= hi[i]``: :func:`power_bounds` (and
        ``BatteryBank.bounds``) term for term, with their coefficients precomputed and no calendar fade."""
        dt = self.s.dt_h
        e, soh, budget, clim, dlim = self.energy_kwh, self.soh, self.budget_kwh, self._clim, self._dlim
        lo, hi = [], []
        for i in range(len(e)):
            head = self._ceil[i] * soh[i] - e[i]
            floor_room = e[i] - self._floor[i] * soh[i]
            d_hi = floor_room / self._den_d[i] if floor_room > 0.0 else 0.0
            if dlim[i] < d_hi:
                d_hi = dlim[i]
            lo.append(-d_hi)
            if head >= 0.0:
                c_hi = head / self._den_c[i]
                if clim[i] < c_hi:
                    c_hi = clim[i]
                if budget[i] < c_hi * dt:
                    c_hi = budget[i] / dt if budget[i] > 0.0 else 0.0
                hi.append(c_hi)
            else:  # above the ceiling by rounding: power_bounds forces that much discharge
                d_lo = -head / self._den_forced[i]
                hi.append(-(d_lo if d_lo < d_hi else d_hi))
        self.lo, self.hi = lo, hi

    def soc(self, i: int) -> float:
        """State of charge of asset ``i`` as a share of its current capacity."""
        return self.energy_kwh[i] / (self.soh[i] * self.s.assets[i].capacity_kwh)

    def step(self, shares: Sequence[Sequence[float]]) -> StepOutcome:
        """Apply one step's requested shares (assets x markets; NaN must be rejected before) and settle it."""
        s, t = self.s, self.t
        if t >= s.n_steps:
            raise RuntimeError("the episode has ended; reset the state")
        if len(shares) != s.n_assets:
            raise ValueError(f"the request has {len(shares)} rows, expected one per asset ({s.n_assets})")
        dt = s.dt_h
        value = self._value[t]
        rows: list[list[float]] = []
        charge, discharge = [], []
        revenue = wear = clipped = 0.0
        for i, req in enumerate(shares):
            x = self._zeros.copy()
            up = up_val = dn = dn_val = 0.0
            for m, pq in self._up[i]:
                r = req[m]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[m] = r
                    up += r
                    up_val += value[m] * r
            for m, pq in self._dn[i]:
                r = req[m]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[m] = r
                    dn += r
                    dn_val += value[m] * r
            rows.append(x)
            if up > 0.0 and up >= dn:
                keep, drop, total, val, limit = self._up[i], self._dn[i], up, up_val, -self.lo[i]
            elif dn > 0.0:
                keep, drop, total, val, limit = self._dn[i], self._up[i], dn, dn_val, self.hi[i]
            else:
                charge.append(0.0)
                discharge.append(0.0)
                continue
            asked = up + dn
            if up > 0.0 and dn > 0.0:
                for m, _ in drop:
                    x[m] = 0.0
            if total > limit:
                f = limit / total if limit > 0.0 else 0.0
                for m, _ in keep:
                    x[m] *= f
                total *= f
                val *= f
            revenue += val
            clipped += asked - total
            wear += self._wear[i] * total
            # step_battery, term for term
            if keep is self._up[i]:
                charge.append(0.0)
                discharge.append(total)
                self.energy_kwh[i] += -total * dt / self._eta_d[i]
            else:
                charge.append(total)
                discharge.append(0.0)
                self.energy_kwh[i] += self._eta_c[i] * total * dt
                left = self.budget_kwh[i] - total * dt
                self.budget_kwh[i] = left if left > 0.0 else 0.0
            self.soh[i] = self.soh[i] - self._fade[i] * (total * dt) - 0.0
        self.t = t + 1
        terminal = terminal_credit(s, self.energy_kwh) if self.t == s.n_steps else 0.0
        self._update_bounds()
        return StepOutcome(np.array(rows), charge, discharge, revenue * dt, wear * dt, terminal, clipped)


def terminal_credit(s: FleetScenario, energy_kwh: Sequence[float]) -> float:
    """Value credited on the last step for the energy left in the fleet (minus what it held)."""
    if s.terminal_value_eur_per_mwh == 0.0:
        return 0.0
    held = math.fsum(b.e0_kwh for b in s.assets)
    return s.terminal_value_eur_per_kwh * (math.fsum(energy_kwh) - held)


def simulate(s: FleetScenario, allocation_kw: np.ndarray) -> pd.DataFrame:
    """Step a feasible allocation schedule ``(n_steps, n_assets, n_markets)`` in kW through the model.

    Returns one row per step: fleet totals per market (``bid_kw:<market>``, ``revenue_eur:<market>``),
    per asset charge, discharge, energy and SoC after the step (``soc:<asset>``, ...), and the money
    (``revenue_eur``, ``degradation_eur``, ``terminal_eur``, ``reward``). It runs :class:`FleetState`,
    so the total ``reward`` is what the env pays; a schedule the projection would change by more than
    rounding (outside the feasible set) raises ``ValueError``.
    """
    x = np.asarray(allocation_kw, dtype=np.float64)
    shape = (s.n_steps, s.n_assets, s.n_markets)
    if x.shape != shape:
        raise ValueError(f"allocation_kw must have shape {shape} (steps x assets x markets), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("allocation_kw has a non-finite value")
    pq = s.prequalified_kw
    shares = np.divide(x, pq, out=np.where(x > 0, np.inf, 0.0), where=pq > 0)  # kW above a zero PQ: infeasible
    state = FleetState(s)
    applied = np.empty_like(x)
    cols: dict[str, list[float]] = {"revenue_eur": [], "degradation_eur": [], "terminal_eur": []}
    charge, discharge, energy, soc, soh = [], [], [], [], []
    for t in range(s.n_steps):
        out = state.step(shares[t].tolist())
        gap = np.abs(out.allocation_kw - np.maximum(x[t], 0.0))
        tol = INFEASIBLE_TOL_KW * np.maximum(1.0, s.prequalified_kw)
        if (gap > tol).any() or (x[t] < -tol).any():
            i, m = (int(v) for v in np.argwhere((gap > tol) | (x[t] < -tol))[0])
            raise ValueError(
                f"allocation_kw at step {t}, asset {i}, market {m} = {x[t, i, m]!r} kW is infeasible "
                f"(the feasible set allows {out.allocation_kw[i, m]!r}: prequalification, no charge and "
                "discharge at once, rating, SoC window or charge budget)"
            )
        applied[t] = out.allocation_kw
        cols["revenue_eur"].append(out.revenue_eur)
        cols["degradation_eur"].append(out.degradation_eur)
        cols["terminal_eur"].append(out.terminal_eur)
        charge.append(out.charge_kw)
        discharge.append(out.discharge_kw)
        energy.append(list(state.energy_kwh))
        soh.append(list(state.soh))
        soc.append([state.soc(i) for i in range(s.n_assets)])
    data: dict[str, np.ndarray] = {}
    for m, name in enumerate(s.market_names):
        data[f"direction:{name}"] = np.full(s.n_steps, s.directions[m])
        data[f"price:{name}"] = s.prices[:, m]
        data[f"bid_kw:{name}"] = applied[:, :, m].sum(axis=1)
        data[f"revenue_eur:{name}"] = s.value_eur_per_kwh[:, m] * data[f"bid_kw:{name}"] * s.dt_h
    for i, name in enumerate(s.asset_names):
        data[f"charge_kw:{name}"] = np.array([row[i] for row in charge])
        data[f"discharge_kw:{name}"] = np.array([row[i] for row in discharge])
        data[f"energy_kwh:{name}"] = np.array([row[i] for row in energy])
        data[f"soh:{name}"] = np.array([row[i] for row in soh])
        data[f"soc:{name}"] = np.array([row[i] for row in soc])
    df = pd.DataFrame(data, index=s.timestamps)
    for key, values in cols.items():
        df[key] = values
    df["reward"] = df["revenue_eur"] - df["degradation_eur"] + df["terminal_eur"]
    df.attrs["allocation_kw"] = applied
    return df


def cost_breakdown(schedule: pd.DataFrame) -> dict[str, float]:
    """Episode totals of a :func:`simulate` record: revenue, wear, terminal credit, profit, energy.

    ``total_cost_eur`` is minus the profit (the episode's return), so the CLI's saving column reads
    the same for every setting.
    """
    revenue = float(schedule["revenue_eur"].sum())
    wear = float(schedule["degradation_eur"].sum())
    credit = float(schedule["terminal_eur"].sum())
    profit = float(schedule["reward"].sum())
    up = sum(float(schedule[c].sum()) for c in schedule.columns if c.startswith("discharge_kw:"))
    dn = sum(float(schedule[c].sum()) for c in schedule.columns if c.startswith("charge_kw:"))
    dt = _dt_hours(schedule)
    return {
        "revenue_eur": revenue, "degradation_eur": wear, "terminal_credit_eur": credit, "profit_eur": profit,
        "total_cost_eur": -profit, "discharged_mwh": up * dt / 1000.0, "charged_mwh": dn * dt / 1000.0,
    }


def _dt_hours(schedule: pd.DataFrame) -> float:
    idx = schedule.index
    if isinstance(idx, pd.DatetimeIndex) and len(idx) > 1:
        return (idx[1] - idx[0]) / pd.Timedelta(hours=1)
    return 1.0
