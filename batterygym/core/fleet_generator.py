"""Seeded fleet episodes (the CSV files of prices and assets are read by :mod:`batterygym.core.fleet_io`).

A fleet's *layout* (its assets, the markets' directions and character, the prequalification) is drawn
from ``layout_seed`` (fixed for an env, like a real portfolio) or, with ``layout_seed=None``, anew every
episode; the *prices* and the start date are drawn from the episode's ``rng``. Prices follow a daily
shape of European day-ahead prices (night trough, morning and evening peaks, a midday solar dip that
deepens in summer), a day level with weekend discount, AR(1) noise, and per market a premium (up
markets above the base, down markets below), noise and spikes (up markets spike up, down markets down,
towards negative prices). Premiums are small (up to 8 % of the base): a same-hour spread between an up
and a down market that beat the round trip's losses and wear would be a riskless fleet-wide arbitrage
(one asset charges while another discharges), which liquid markets do not leave open for long; the
spikes still open such spreads now and then.

"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.fleet import DIRECTIONS, DOWN, UP, FleetScenario
from batterygym.core.validation import (
    check_field_types,
    check_fraction,
    check_nonnegative,
    check_positive,
    from_known_kwargs,
)

PRICE_ROUND = 2  # prices are quoted in EUR/MWh with cents, as the source's
BLOCK_BYTES = 120_000  # episodes' prices are built in blocks whose arrays stay below this


@dataclass(frozen=True)
class FleetConfig:
    """What a fleet episode looks like; every field is a keyword of ``Fleet-v0`` (plain values, JSON-clean).

    Markets: without ``directions``, half up and half down (one more up when odd) in a random order.
    Assets: power uniform in ``[power_kw_min, power_kw_max]`` (rounded to 500 kW), a duration drawn
    from ``durations_h``, a round-trip efficiency uniform in ``[round_trip_min, round_trip_max]`` split
    evenly between charge and discharge. Wear: ``pack_price_eur_per_kwh`` spread over the throughput
    of ``cycle_life`` cycles from ``soh0`` to ``soh_end_of_life``; with ``capacity_fade`` the capacity also
    shrinks with throughput at that rate (off by default: a day's cycle is 0.003 % of capacity, and the SoC
    window's dependence on throughput makes the MILP many times slower). Prequalification: an asset is
    prequalified in a market with probability ``prequalified_prob`` (always in at least one market of
    each direction), for a share uniform in ``[prequalified_min_share, 1]`` of its rating, rounded
    down to 100 kW. Prices: see the module docstring; ``level_eur_per_mwh`` is the median day level.
    """

    n_assets: int = 5
    n_markets: int = 4
    n_days: int = 1
    dt_h: float = 1.0
    layout_seed: int | None = 0
    directions: tuple[str, ...] | None = None
    year: int = 2025
    random_start: bool = True
    power_kw_min: float = 1000.0
    power_kw_max: float = 10000.0
    durations_h: tuple[float, ...] = (1.0, 2.0, 2.0, 4.0)
    round_trip_min: float = 0.85
    round_trip_max: float = 0.92
    soc_min: float = 0.1
    soc_max: float = 1.0
    soc0: float = 0.5
    soh0: float = 1.0
    soh_end_of_life: float = 0.8
    pack_price_eur_per_kwh: float = 150.0
    cycle_life: float = 6000.0
    max_cycles_per_day: float | None = None
    capacity_fade: bool = False
    prequalified_prob: float = 0.75
    prequalified_min_share: float = 0.3
    level_eur_per_mwh: float = 90.0
    level_sigma: float = 0.25
    base_noise: float = 0.06
    premium_max: float = 0.08
    volatility_min: float = 0.02
    volatility_max: float = 0.08
    spike_prob_max: float = 0.04
    price_floor_eur_per_mwh: float = -100.0
    price_cap_eur_per_mwh: float = 500.0
    terminal_value_eur_per_mwh: float = 0.0

    def __post_init__(self) -> None:
        for name in ("n_assets", "n_markets", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_field_types(self)  # bools, integers, numbers and strings where the annotations say
        check_positive("dt_h", self.dt_h)
        if abs(24.0 / self.dt_h - round(24.0 / self.dt_h)) > 1e-9:
            raise ValueError(f"dt_h must divide 24 hours, got {self.dt_h!r}")
        if self.layout_seed is not None and (not isinstance(self.layout_seed, int) or self.layout_seed < 0):
            raise ValueError(f"layout_seed must be a non-negative integer or None, got {self.layout_seed!r}")
        if self.directions is not None:
            if isinstance(self.directions, str) or len(self.directions) != self.n_markets:
                raise ValueError(f"directions must list {self.n_markets} of 'up'/'down' (one per market), "
                                 f"got {self.directions!r}")
            bad = [d for d in self.directions if d not in DIRECTIONS]
            if bad:
                raise ValueError(f"directions must be 'up' or 'down', got {bad[0]!r} in {self.directions!r}")
            object.__setattr__(self, "directions", tuple(self.directions))
        for name in ("power_kw_min", "cycle_life", "level_eur_per_mwh"):
            check_positive(name, getattr(self, name))
        if self.power_kw_max < self.power_kw_min:
            raise ValueError(f"power_kw_max must be >= power_kw_min = {self.power_kw_min!r}, "
                             f"got {self.power_kw_max!r}")
        if isinstance(self.durations_h, (int, float)) or not self.durations_h:
            raise ValueError(f"durations_h must be a non-empty list of hours, got {self.durations_h!r}")
        for d in self.durations_h:
            check_positive("durations_h", d)
        object.__setattr__(self, "durations_h", tuple(float(d) for d in self.durations_h))
        for name in ("round_trip_min", "round_trip_max"):
            value = getattr(self, name)
            check_fraction(name, value)
            if value <= 0:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if self.round_trip_max < self.round_trip_min:
            raise ValueError(f"round_trip_max must be >= round_trip_min = {self.round_trip_min!r}, "
                             f"got {self.round_trip_max!r}")
        for name in ("prequalified_prob", "prequalified_min_share", "premium_max", "soc_min", "soc_max", "soc0",
                     "soh0", "soh_end_of_life"):
            check_fraction(name, getattr(self, name))
        if self.soh_end_of_life >= self.soh0:
            raise ValueError(f"soh_end_of_life must be below soh0 = {self.soh0!r}, got {self.soh_end_of_life!r}")
        for name in ("pack_price_eur_per_kwh", "level_sigma", "base_noise", "volatility_min", "spike_prob_max",
                     "terminal_value_eur_per_mwh"):
            check_nonnegative(name, getattr(self, name))
        if self.volatility_max < self.volatility_min:
            raise ValueError(f"volatility_max must be >= volatility_min = {self.volatility_min!r}, "
                             f"got {self.volatility_max!r}")
        check_fraction("spike_prob_max", self.spike_prob_max)
        if not self.price_floor_eur_per_mwh < self.price_cap_eur_per_mwh:
            raise ValueError(f"price_floor_eur_per_mwh ({self.price_floor_eur_per_mwh!r}) must be below "
                             f"price_cap_eur_per_mwh ({self.price_cap_eur_per_mwh!r})")
        if self.max_cycles_per_day is not None:
            check_nonnegative("max_cycles_per_day", self.max_cycles_per_day)
        self.battery(1000.0, 1.0, 0.9)  # the battery fields are checked by BatteryParams itself

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FleetConfig:
        """Build from keywords, naming any unknown one (env kwargs go through here)."""
        return from_known_kwargs(cls, "fleet", kwargs)

    @property
    def n_steps(self) -> int:
        return int(round(self.n_days * 24 / self.dt_h))

    def battery(self, power_kw: float, duration_h: float, round_trip: float) -> BatteryParams:
        """One asset with this config's SoC window, wear and cycle cap."""
        fade = (self.soh0 - self.soh_end_of_life) / self.cycle_life
        cost = self.pack_price_eur_per_kwh * self.soh0 * fade / (2.0 * (self.soh0 - self.soh_end_of_life))
        eta = math.sqrt(round_trip)
        return BatteryParams(
            capacity_kwh=power_kw * duration_h, p_charge_kw=power_kw, p_discharge_kw=power_kw,
            eta_charge=eta, eta_discharge=eta, soc_min=self.soc_min, soc_max=self.soc_max, soc0=self.soc0,
            soh0=self.soh0, soh_end_of_life=self.soh_end_of_life, degradation_cost_per_kwh=cost,
            fade_per_cycle=fade if self.capacity_fade else 0.0, calendar_fade_per_day=0.0,
            max_cycles_per_day=self.max_cycles_per_day,
        )


@dataclass(frozen=True)
class FleetLayout:
    """The fixed part of a fleet: assets, markets and prequalification, and each market's price character
    (``premium``: relative offset from the base price, up above and down below; ``volatility``: noise
    as a share of the day level; ``spike_prob``: chance of a spike per step)."""

    assets: tuple[BatteryParams, ...]
    directions: tuple[str, ...]
    prequalified_kw: np.ndarray
    market_names: tuple[str, ...]
    asset_names: tuple[str, ...]
    premium: np.ndarray
    volatility: np.ndarray
    spike_prob: np.ndarray

    @functools.cached_property
    def sign(self) -> np.ndarray:
        """+1 for an up market, -1 for a down market."""
        return np.where(np.array(self.directions) == UP, 1.0, -1.0)

    def markets(self, cfg: FleetConfig) -> MarketSteps:
        """The markets' character over ``cfg``'s steps (kept: every episode of the layout uses it)."""
        key = (cfg.n_steps, float(cfg.base_noise))
        found = self._markets.get(key)
        if found is None:
            found = self._markets[key] = MarketSteps.of(cfg, self.premium, self.volatility, self.spike_prob,
                                                        self.sign)
        return found

    @functools.cached_property
    def _markets(self) -> dict[tuple[int, float], MarketSteps]:
        return {}

    @functools.cached_property
    def _first_episodes(self) -> dict[tuple[int, float, float], FleetScenario]:
        return {}

    def scenario(self, cfg: FleetConfig, prices: np.ndarray, start: str) -> FleetScenario:
        """An episode of this fleet with ``prices`` from ``start``: the first of a config's length, step and
        terminal value is checked in full, later ones through :meth:`FleetScenario.with_prices`."""
        key = (cfg.n_steps, float(cfg.dt_h), float(cfg.terminal_value_eur_per_mwh))
        first = self._first_episodes.get(key)
        if first is not None:
            return first.with_prices(prices, start)
        first = self._first_episodes[key] = FleetScenario(
            assets=self.assets, directions=self.directions, prices=prices, prequalified_kw=self.prequalified_kw,
            market_names=self.market_names, asset_names=self.asset_names,
            terminal_value_eur_per_mwh=cfg.terminal_value_eur_per_mwh, start=start, dt_h=cfg.dt_h)
        return first


def generate_layout(rng: np.random.Generator, cfg: FleetConfig, directions: Sequence[str] | None = None
                    ) -> FleetLayout:
    """Draw a fleet's assets, market directions and prequalification from ``rng``."""
    n, k = cfg.n_assets, cfg.n_markets
    # half the markets up, half down, in a random order (balancing products come in up/down pairs); drawn
    # even when given, so a layout's assets do not depend on whether its directions were given
    drawn = [str(d) for d in rng.permutation([UP] * ((k + 1) // 2) + [DOWN] * (k // 2))]
    dirs = directions if directions is not None else cfg.directions
    dirs = tuple(drawn if dirs is None else dirs)
    if len(dirs) != k:
        raise ValueError(f"directions must list {k} markets, got {dirs!r}")
    steps = np.arange(cfg.power_kw_min, cfg.power_kw_max + 1e-9, 500.0)
    power = rng.choice(steps, size=n) if steps.size else np.full(n, cfg.power_kw_min)
    duration = rng.choice(np.array(cfg.durations_h), size=n)
    round_trip = rng.uniform(cfg.round_trip_min, cfg.round_trip_max, size=n)
    assets = tuple(cfg.battery(float(p), float(d), float(r)) for p, d, r in zip(power, duration, round_trip,
                                                                                   strict=True))
    is_up = np.array([d == UP for d in dirs])
    share = rng.uniform(cfg.prequalified_min_share, 1.0, size=(n, k))
    on = rng.random((n, k)) < cfg.prequalified_prob
    sides = [cols for cols in (np.flatnonzero(is_up), np.flatnonzero(~is_up)) if cols.size]
    missing = [(i, cols) for i in range(n) for cols in sides if not on[i, cols].any()]
    for i, cols in missing:  # in asset order, up before down: as many draws as sides without a market
        on[i, int(rng.choice(cols))] = True
    pq = np.floor(np.where(on, share, 0.0) * power[:, None] / 100.0) * 100.0
    pq = np.where(on, np.maximum(pq, np.minimum(100.0, power[:, None])), 0.0)
    premium = rng.uniform(0.0, cfg.premium_max, size=k)
    volatility = rng.uniform(cfg.volatility_min, cfg.volatility_max, size=k)
    spike = rng.uniform(0.0, cfg.spike_prob_max, size=k)
    for arr in (pq, premium, volatility, spike):
        arr.setflags(write=False)
    return FleetLayout(
        assets=assets, directions=dirs, prequalified_kw=pq,
        market_names=tuple(f"m{m}_{d}" for m, d in enumerate(dirs)),
        asset_names=tuple(f"a{i}" for i in range(n)),
        premium=premium, volatility=volatility, spike_prob=spike,
    )


def fixed_layout(cfg: FleetConfig) -> FleetLayout | None:
    """The layout of ``cfg.layout_seed`` (None when every episode draws its own)."""
    if cfg.layout_seed is None:
        return None
    return generate_layout(np.random.default_rng(cfg.layout_seed), cfg)


_AMP_LOW = np.array([0.10, 0.25, 0.0, 0.10])  # daily amplitudes of the morning and evening peaks, solar and night dips
_AMP_SPAN = np.array([0.25, 0.35, 0.25, 0.20])


@functools.lru_cache(maxsize=8)
def _bumps(n: int, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Day index and the four daily shapes (morning, evening, solar, night bumps) of steps 0..n-1."""
    step_h = np.arange(n) * dt_h
    hours = step_h % 24.0
    bumps = []
    for centre, width in ((8.0, 1.5), (19.0, 2.0), (13.0, 2.5), (3.5, 2.5)):
        d = (hours - centre + 12.0) % 24.0 - 12.0  # distance on the clock
        bumps.append(np.exp(-0.5 * (d / width) ** 2))
    b = np.stack(bumps, axis=1) * np.array([1.0, 1.0, -1.0, -1.0])
    day = (step_h // 24).astype(int)
    for a in (b, day):
        a.setflags(write=False)
    return day, b


@functools.lru_cache(maxsize=8)
def _ar1_filter(n: int, rho: float) -> np.ndarray:
    """``L`` with ``L @ z`` a stationary AR(1) path of unit variance from i.i.d. standard normals ``z``:
    ``x[0] = z[0]``, ``x[t] = rho x[t-1] + sqrt(1 - rho^2) z[t]``."""
    lag = np.arange(n)[:, None] - np.arange(n)[None, :]
    f = np.where(lag >= 0, rho ** np.maximum(lag, 0), 0.0) * math.sqrt(1 - rho * rho)
    f[:, 0] = rho ** np.arange(n)
    f.setflags(write=False)
    return f


class PriceDraws(NamedTuple):
    """The random numbers of episodes' start days and prices, one row per episode, as the generator draws
    them from each episode's ``rng`` (:func:`draw_episodes`); :func:`episode_prices` turns them into prices,
    every row at once."""

    start_day: np.ndarray  # (n,) days after 1 January
    level: np.ndarray  # (n, days) standard normal: the day level's log deviation / level_sigma
    amp: np.ndarray  # (n, days, 4) uniform: the daily amplitudes
    noise: np.ndarray  # (n, steps, 1 + markets) standard normal: the AR(1) innovations, base then markets
    spikes: np.ndarray  # (n, 2, steps, markets) uniform: whether a spike (below spike_prob) and its size

    @classmethod
    def empty(cls, n: int, cfg: FleetConfig, n_markets: int) -> PriceDraws:
        """Room for ``n`` episodes of ``cfg`` with ``n_markets`` markets (starting 1 January)."""
        t, days = cfg.n_steps, _n_days(cfg)
        return cls(np.zeros(n, dtype=np.int64), np.empty((n, days)), np.empty((n, days, 4)),
                   np.empty((n, t, 1 + n_markets)), np.empty((n, 2, t, n_markets)))


def _n_days(cfg: FleetConfig) -> int:
    """Calendar days the price series spans (one more than it touches, as the daily draws always were)."""
    return int(_bumps(cfg.n_steps, float(cfg.dt_h))[0][-1]) + 2


def draw_episodes(rngs: Sequence[np.random.Generator], cfg: FleetConfig, draws: PriceDraws) -> None:
    """Fill row ``j`` of ``draws`` from ``rngs[j]``: the start day, then the prices' numbers, in the
    generator's order (each episode's numbers are the same whether one is built or many)."""
    start, high = draws.start_day, 365 - cfg.n_days
    rows = zip(rngs, draws.level, draws.amp, draws.noise, draws.spikes, strict=False)
    for j, (rng, level, amp, noise, spikes) in enumerate(rows):
        if cfg.random_start:
            start[j] = rng.integers(0, high)
        rng.standard_normal(out=level)
        rng.random(out=amp)
        rng.standard_normal(out=noise)
        rng.random(out=spikes)  # the spike test, then the spike size


@functools.lru_cache(maxsize=8)
def _calendar(year: int, n_day: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Per day of ``year`` (and ``n_day`` beyond): 1 at midsummer, 0 at midwinter; 0.85 on weekends, else 1
    (weekends 15 % cheaper); and the ISO start of an episode beginning that day."""
    jan1 = np.datetime64(f"{year}-01-01", "D")
    wd0 = jan1.item().weekday()  # 0 = Monday
    days = range(366 + n_day)
    summer = np.array([0.5 * (1.0 + math.cos(2 * math.pi * (d - 172) / 365.25)) for d in days])
    weekend = np.array([0.85 if (wd0 + d) % 7 >= 5 else 1.0 for d in days])
    starts = tuple(f"{jan1 + np.timedelta64(d, 'D')}T00:00" for d in range(366))
    for a in (summer, weekend):
        a.setflags(write=False)
    return summer, weekend, starts


def start_of(cfg: FleetConfig, start_day: int) -> str:
    """The ISO start of an episode ``start_day`` days after 1 January of ``cfg.year``."""
    return _calendar(cfg.year, _n_days(cfg))[2][start_day]


class MarketSteps(NamedTuple):
    """The markets' price character (:class:`FleetLayout`'s) repeated over an episode's steps, flat per row
    (``(1 or n, steps * markets)``; ``sigma`` and its clip over ``steps * (1 + markets)``, the base's first):
    what :func:`episode_prices` applies to the draws."""

    sign: np.ndarray
    premium_factor: np.ndarray  # 1 + sign * premium
    spike_prob: np.ndarray
    sigma: np.ndarray  # the AR(1) noise's standard deviation: base_noise, then each market's volatility
    sigma_clip: np.ndarray  # 4 sigma

    @classmethod
    def of(cls, cfg: FleetConfig, premium: np.ndarray, volatility: np.ndarray, spike_prob: np.ndarray,
           sign: np.ndarray) -> MarketSteps:
        """From market arrays ``(n_markets,)`` (shared) or ``(n, n_markets)`` (one row per episode)."""
        t = cfg.n_steps
        premium, volatility, spike_prob, sign = (np.asarray(x, dtype=np.float64) for x in
                                                 (premium, volatility, spike_prob, sign))
        rows = max(x.shape[0] if x.ndim == 2 else 1 for x in (premium, volatility, spike_prob, sign))
        vol = np.broadcast_to(volatility, (rows, volatility.shape[-1]))
        sigma = np.tile(np.concatenate([np.full((rows, 1), cfg.base_noise), vol], axis=1), (1, t))

        def steps(x: np.ndarray) -> np.ndarray:
            return np.tile(np.broadcast_to(x, (rows, x.shape[-1])), (1, t))

        return cls(steps(sign), steps(1.0 + sign * premium), steps(spike_prob), sigma, 4 * sigma)

    def rows(self, part: slice) -> MarketSteps:
        """The rows ``part`` (all of them when shared)."""
        return self if self.sign.shape[0] == 1 else MarketSteps(*(x[part] for x in self))


def episode_prices(cfg: FleetConfig, draws: PriceDraws, markets: MarketSteps) -> np.ndarray:
    """Prices (EUR/MWh, ``(n, n_steps, n_markets)``) of the episodes of ``draws`` in ``markets``. Per step
    and market arrays are flat, ``(n, steps * markets)``: numpy is slow on a short innermost axis; blocks of
    episodes keep every temporary array small (a large one is fresh memory from the system each time)."""
    n, t, m1 = draws.noise.shape
    if n == 1:
        return _prices(cfg, draws, markets)
    out = np.empty((n, t, m1 - 1))
    size = max(1, BLOCK_BYTES // (8 * t * m1))
    for a in range(0, n, size):
        part = slice(a, min(a + size, n))
        out[part] = _prices(cfg, PriceDraws(*(d[part] for d in draws)), markets.rows(part))
    return out


def _prices(cfg: FleetConfig, draws: PriceDraws, markets: MarketSteps) -> np.ndarray:
    """:func:`episode_prices` of one block."""
    n, t, m1 = draws.noise.shape
    m = m1 - 1
    _, bumps = _bumps(t, float(cfg.dt_h))
    n_day = draws.level.shape[1]
    summer_of, weekend_of, _ = _calendar(cfg.year, n_day)
    on = draws.start_day[:, None] + np.arange(n_day)
    level = cfg.level_eur_per_mwh * np.exp(cfg.level_sigma * draws.level) * weekend_of[on]
    amp = _AMP_LOW + _AMP_SPAN * draws.amp  # morning, evening, solar, night
    amp[:, :, 2] = np.minimum(amp[:, :, 2] + 0.45 * summer_of[on], 0.8)
    per_day = t // cfg.n_days  # steps of a day: day[j] = j // per_day
    bump = np.repeat(amp[:, :cfg.n_days], per_day, axis=1) * bumps  # amp[:, day] * bumps
    shape = bump[:, :, 0] + bump[:, :, 1]  # the four bumps added in order (the sum of each step's row)
    shape += bump[:, :, 2]
    shape += bump[:, :, 3]
    shape += 1.0
    lv = np.repeat(level[:, :cfg.n_days], per_day, axis=1)  # level[:, day]
    noise = np.matmul(_ar1_filter(t, 0.7), draws.noise).reshape(n, t * m1)  # stationary AR(1), unit variance
    noise *= markets.sigma
    np.minimum(noise, markets.sigma_clip, out=noise)
    np.maximum(noise, -markets.sigma_clip, out=noise)
    noise = noise.reshape(n, t, m1)
    base = lv * shape
    base *= 1.0 + noise[:, :, 0]
    spikes = 0.5 + 1.5 * draws.spikes[:, 1].reshape(n, t * m)  # a spike's size, uniform in [0.5, 2)
    spikes *= draws.spikes[:, 0].reshape(n, t * m) < markets.spike_prob  # where there is one
    spikes *= markets.sign
    spikes += noise[:, :, 1:].reshape(n, t * m)
    spikes *= np.repeat(lv, m, axis=1)
    prices = np.repeat(base, m, axis=1)
    prices *= markets.premium_factor
    prices += spikes  # base * (1 + sign * premium) + level * (noise + sign * spike)
    np.minimum(prices, cfg.price_cap_eur_per_mwh, out=prices)
    np.maximum(prices, cfg.price_floor_eur_per_mwh, out=prices)
    return np.round(prices, PRICE_ROUND, out=prices).reshape(n, t, m)


def generate_fleet(rng: np.random.Generator, cfg: FleetConfig, layout: FleetLayout | None = None) -> FleetScenario:
    """Draw one fleet episode from ``rng``: the layout (unless given), the start date and the prices."""
    if layout is None:
        layout = generate_layout(rng, cfg)
    draws = PriceDraws.empty(1, cfg, len(layout.directions))
    draw_episodes([rng], cfg, draws)
    prices = episode_prices(cfg, draws, layout.markets(cfg))[0]
    prices.setflags(write=False)
    return layout.scenario(cfg, prices, start_of(cfg, int(draws.start_day[0])))


# ---------------------------------------------------------------------------------------------- CSV
