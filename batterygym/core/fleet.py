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
        bad = np.argwhere(~np.isfinite(prices)) if not np.isfinite(prices).all() else ()
        if len(bad):
            t, m = (int(v) for v in bad[0])
            raise ValueError(f"prices has a non-finite value {float(prices[t, m])!r} at step {t}, market {m}")
        prices.setflags(write=False)
        set_(self, "prices", prices)

        try:  # a read-only float array (a generated layout's) is kept as it is: resets reuse its constants
            given = self.prequalified_kw
            keep = isinstance(given, np.ndarray) and given.dtype == np.float64 and not given.flags.writeable
            pq = given if keep else np.array(given, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prequalified_kw must be an array of numbers: {exc}") from None
        if pq.shape != (n, k):
            raise ValueError(f"prequalified_kw must have shape ({n}, {k}) (assets x markets), got {pq.shape}")
        if not (np.isfinite(pq).all() and (pq >= 0).all()):
            i, m = (int(v) for v in np.argwhere(~np.isfinite(pq) | (pq < 0))[0])
            raise ValueError(f"prequalified_kw[{i}, {m}] must be a finite number >= 0, got {float(pq[i, m])!r}")
        is_up = np.array([d == UP for d in self.directions])
        rating = np.where(is_up, np.array([b.p_discharge_kw for b in self.assets])[:, None],
                          np.array([b.p_charge_kw for b in self.assets])[:, None])
        over = pq > rating * (1 + 1e-12)
        if over.any():
            i, m = (int(v) for v in np.argwhere(over)[0])
            d = self.directions[m]
            what = "p_discharge_kw" if d == UP else "p_charge_kw"
            raise ValueError(
                f"prequalified_kw[{i}, {m}] = {float(pq[i, m])!r} exceeds asset {i}'s {what} = "
                f"{float(rating[i, m])!r} (market {m} is {d}): no asset prequalifies for more than it can deliver"
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
        self._value = (s.prices * (s.sign * EUR_PER_MWH_TO_KWH)).tolist()  # = s.value_eur_per_kwh
        self._zeros = [0.0] * (s.n_assets * s.n_markets)
        self.reset()

    @staticmethod
    def _constants(s: FleetScenario) -> list[tuple]:
        """Per asset: its (flat index ``i * n_markets + m``, market ``m``, prequalified kW) up and down, and the
        coefficients of
        :func:`~batterygym.core.battery.power_bounds` and :func:`~batterygym.core.battery.step_battery`
        without calendar fade (a fleet has none)."""
        pq, bank, dt = s.prequalified_kw, s.bank, s.dt_h
        rows = []
        for i in range(s.n_assets):
            k = s.n_markets
            ups = tuple((i * k + m, m, float(pq[i, m])) for m in range(k) if s.is_up[m] and pq[i, m] > 0)
            dns = tuple((i * k + m, m, float(pq[i, m])) for m in range(k) if not s.is_up[m] and pq[i, m] > 0)
            rows.append((
                ups, dns, float(s.wear_eur_per_kwh[i]), float(bank.eta_charge[i]), float(bank.eta_discharge[i]),
                float(bank.fade_per_kwh[i]),
                float(bank.soc_min[i] * bank.capacity_kwh[i]), float(bank.soc_max[i] * bank.capacity_kwh[i]),
                float(dt * (1.0 / bank.eta_discharge[i] - bank.soc_min[i] * bank.half_fade[i])),
                float(dt * (bank.eta_charge[i] + bank.soc_max[i] * bank.half_fade[i])),
                float(dt * (1.0 / bank.eta_discharge[i] - bank.soc_max[i] * bank.half_fade[i])),
                float(s.charge_limit_kw[i]), float(s.discharge_limit_kw[i]),
            ))
        return rows

    def reset(self) -> None:
        """Back to the episode's first step: every asset at its initial energy, SoH and charge budget."""
        if self._initial is None:
            s = self.s
            e = [b.e0_kwh for b in s.assets]
            soh = [b.soh0 for b in s.assets]
            budget = s.charge_budget_kwh.tolist()
            bounds = [self._bounds(*args) for args in zip(self._consts, e, soh, budget, strict=True)]
            self._initial = (e, soh, budget, [lo for lo, _ in bounds], [hi for _, hi in bounds])
        self.t = 0
        self.energy_kwh, self.soh, self.budget_kwh, self.lo, self.hi = (list(v) for v in self._initial)

    def _bounds(self, k: tuple, e: float, soh: float, budget: float) -> tuple[float, float]:
        """Feasible signed power ``(lo, hi)`` of an asset with constants ``k``: :func:`power_bounds` (and
        ``BatteryBank.bounds``) term for term, with its coefficients precomputed and no calendar fade."""
        dt = self.dt
        head = k[7] * soh - e
        floor_room = e - k[6] * soh
        d_hi = floor_room / k[8] if floor_room > 0.0 else 0.0
        if k[12] < d_hi:
            d_hi = k[12]
        if head >= 0.0:
            c_hi = head / k[9]
            if k[11] < c_hi:
                c_hi = k[11]
            if budget < c_hi * dt:
                c_hi = budget / dt if budget > 0.0 else 0.0
            return -d_hi, c_hi
        d_lo = -head / k[10]  # above the ceiling by rounding: power_bounds forces that much discharge
        return -d_hi, -(d_lo if d_lo < d_hi else d_hi)

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
        k_m = s.n_markets
        energy, soh, budget, lo, hi = self.energy_kwh, self.soh, self.budget_kwh, self.lo, self.hi
        x = self._zeros.copy()
        charge, discharge = [], []
        revenue = wear = clipped = 0.0
        for i, k in enumerate(self._consts):
            up = up_val = dn = dn_val = 0.0
            for j, m, pq in k[0]:
                r = shares[j]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[j] = r
                    up += r
                    up_val += value[m] * r
            for j, m, pq in k[1]:
                r = shares[j]
                if r > 0.0:
                    r = pq if r >= 1.0 else r * pq
                    x[j] = r
                    dn += r
                    dn_val += value[m] * r
            if up > 0.0 and up >= dn:
                keep_up, keep, drop, total, val, limit = True, k[0], k[1], up, up_val, -lo[i]
            elif dn > 0.0:
                keep_up, keep, drop, total, val, limit = False, k[1], k[0], dn, dn_val, hi[i]
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
            wear += k[2] * total
            # step_battery, term for term
            if keep_up:
                charge.append(0.0)
                discharge.append(total)
                energy[i] += -total * dt / k[4]
            else:
                charge.append(total)
                discharge.append(0.0)
                energy[i] += k[3] * total * dt
                left = budget[i] - total * dt
                budget[i] = left if left > 0.0 else 0.0
            soh[i] = soh[i] - k[5] * (total * dt) - 0.0
            lo[i], hi[i] = self._bounds(k, energy[i], soh[i], budget[i])
        self.t = t + 1
        terminal = terminal_credit(s, energy) if self.t == s.n_steps else 0.0
        return StepOutcome(np.array(x).reshape(s.n_assets, k_m), charge, discharge, revenue * dt, wear * dt, terminal,
                           clipped)


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
        out = state.step(shares[t].ravel().tolist())
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
    df.attrs["soc0"] = {name: b.soc0 for name, b in zip(s.asset_names, s.assets, strict=True)}
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
