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
energy it absorbs (a negative down price pays it to charge). :class:`~batterygym.core.fleet_state.FleetState`
(re-exported here) applies a requested allocation after projecting it onto the feasible set; the env, the
multi-agent env and :func:`simulate` all step through it, the vector env through its batched form
:class:`~batterygym.core.fleet_state.FleetBatch`, and the MILP writes the same equations from the same arrays.
:func:`idle_rewards` is what the idle policy earns.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryBank, BatteryParams
from batterygym.core.fleet_state import EUR_PER_MWH_TO_KWH, FleetState
from batterygym.core.validation import check_nonnegative, check_positive

UP, DOWN = "up", "down"
DIRECTIONS = (UP, DOWN)
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

    def with_prices(self, prices: np.ndarray, start: str) -> FleetScenario:
        """The same fleet and markets over other prices (of the same shape) from another ``start``: only the
        prices and the start are checked, and the fleet's derived arrays are shared, so the episodes of one
        layout cost no more than their prices (a read-only float array is kept as it is)."""
        keep = isinstance(prices, np.ndarray) and prices.dtype == np.float64 and not prices.flags.writeable
        try:
            p = prices if keep else np.array(prices, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prices must be an array of numbers: {exc}") from None
        if p.shape != self.prices.shape:
            raise ValueError(f"prices must have shape {self.prices.shape} (steps x markets), got {p.shape}")
        if not np.isfinite(p).all():
            t, m = (int(v) for v in np.argwhere(~np.isfinite(p))[0])
            raise ValueError(f"prices has a non-finite value {float(p[t, m])!r} at step {t}, market {m}")
        try:
            np.datetime64(start)
        except ValueError:
            raise ValueError(f"start must be an ISO timestamp, got {start!r}") from None
        p.setflags(write=False)
        new = object.__new__(FleetScenario)
        state = new.__dict__
        state.update((name, value) for name, value in self.__dict__.items() if name in _OF_THE_LAYOUT)
        state["prices"], state["start"] = p, start
        return new

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


# what with_prices carries over: the fields but prices and start, and the arrays derived from them alone
_OF_THE_LAYOUT = frozenset({"assets", "directions", "prequalified_kw", "market_names", "asset_names",
                            "terminal_value_eur_per_mwh", "dt_h", "bank", "is_up", "sign", "discharge_limit_kw",
                            "charge_limit_kw", "charge_budget_kwh", "wear_eur_per_kwh"})


def idle_rewards(s: FleetScenario) -> np.ndarray:
    """Per-step rewards the env pays when every action is zero (the idle policy), from the scenario alone:
    a zero share allocates nothing, so no asset charges or discharges, and there is no revenue, no wear,
    and no terminal credit (the energy stays what it was). A fleet earns only what it allocates."""
    return np.zeros(s.n_steps)


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
