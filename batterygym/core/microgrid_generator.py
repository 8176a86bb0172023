"""Seeded microgrid-BSS episodes: renewables, residential load, swap requests, tariffs and the station.

Every draw goes through the ``rng`` passed in (the env's ``np_random``). Labels: **[src]** stated by
the source (Marchesano et al. 2023, see ``SOURCES.md`` section 3), **[fill-in]** our assumption or
``SOURCES.md``'s fill-ins for the tables that could not be recovered, **[lit]** the literature's
usual values.

- PV [src: 500 kWp, output only 05:00-20:00, Weibull irradiance]: ``PV_t = kWp * sin(pi (h + 0.5 - 5) / 15)
  * k_t`` in daylight, with an irradiance factor ``k_t = min(1, Weibull(shape 5, scale 0.85))``
  per hour [fill-in: shape and scale].
- Wind [src: one 500 kW turbine, Weibull speeds]: hourly speeds Weibull ``k = 2, c = 7.5 m/s``
  [fill-in], power curve 0 below cut-in 3.5 m/s and above cut-out 25 m/s, linear to rated 500 kW
  at 13 m/s [lit].
- Residential load [src: a summer-day profile; Fig. 4 not recovered, fill-in shape]: peak
  ``load_peak_kw`` = 400 kW [fill-in], night trough, morning and evening peaks, multiplicative
  Gaussian noise 5 % per hour clipped at 3 sigma [fill-in].
- Swaps: a day's expected requests ``swaps_per_day`` = 36 [fill-in] spread over an hourly profile
  with commuter peaks (Fig. 3 not recovered) [fill-in]; inter-arrival times Gamma with shape ``k = 1``
  [src] and the profile's rate (time-rescaled exponential arrivals); category by shares
  0.20/0.25/0.35/0.20 for A-D [fill-in, with n_C > n_B as the source's sizing demands]; arriving
  SoC ``0.2 + 0.6 * Beta(2, 2)`` [src: Beta on 20-80 %; fill-in: Beta(2, 2)].
- Station [fill-in]: capacities 24/40/52/75 kWh (2019 Italian BEV packs), 3/3/4/2 packs; each starts
  full with probability 0.75, else at a SoC uniform in 20-80 %. Charging [src: standard 0.2C, fast 1C]
  with efficiency 0.95 [fill-in]; wear 0.025 EUR/kWh charged and 0.02 EUR/kWh more above 0.2C [fill-in].
- Storage [src: second-life packs, SoH 0.6-0.8]: SoH uniform in [0.6, 0.8], drawn once from
  ``layout_seed`` for an env, like a real site (``None``: every episode); 4 packs of 75 kWh nominal,
  37.5 kW, SoC window 10-90 %, start at 50 % [fill-in]; wear from a 80 EUR/kWh pack over 3000 cycles
  (``BatteryParams.second_life``) [fill-in].
- Tariff: residents pay the household time-of-use price, ARERA bands F1 Mon-Fri 08-19, F2 Mon-Fri 07-08
  and 19-23 and Sat 07-23, F3 otherwise [lit], at 0.30/0.27/0.22 EUR/kWh [fill-in]; the microgrid buys
  at that price minus 10 % [src]. Import limit 600 kW [fill-in]. Off-grid: value of lost load
  3 EUR/kWh [fill-in].
- Swap revenue [fill-in]: 3 EUR per swap plus 0.45 EUR per kWh the customer gains; 10 EUR penalty per
  lost swap (lost goodwill) [fill-in].
- Episode: a summer day (random start in June-August 2025) [src: summer-day load], ``n_days`` days.
  Terminal value: energy left in packs and storage against the start, at the cheapest grid price
  [our choice: below the cost of charging it, so the end cannot be gamed].
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.microgrid import FULL_GAP_KWH, MicrogridScenario
from batterygym.core.microgrid_batch import PER_EPISODE, MicrogridEpisodes
from batterygym.core.validation import (
    check_field_types,
    check_fraction,
    check_nonnegative,
    check_positive,
    from_known_kwargs,
)

# hourly residential shape, summer day, share of the peak (00..23) [fill-in]
LOAD_SHAPE = (0.45, 0.40, 0.38, 0.37, 0.37, 0.40, 0.48, 0.58, 0.62, 0.60, 0.60, 0.62,
              0.66, 0.68, 0.68, 0.66, 0.66, 0.72, 0.82, 0.92, 1.00, 0.98, 0.80, 0.60)
# hourly swap-demand profile (relative rates, 00..23), commuter peaks at 7-9 and 17-19 [fill-in]
SWAP_PROFILE = (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.2, 2.5, 1.6, 1.0, 1.0,
                1.2, 1.2, 1.0, 1.1, 1.5, 2.3, 2.6, 2.0, 1.2, 0.8, 0.5, 0.3)


@dataclass(frozen=True)
class MicrogridConfig:
    """What a microgrid episode looks like; every field is a keyword of ``MicrogridBSS-v0`` (JSON-clean).

    Defaults and their sources: see the module docstring.
    """

    n_days: int = 1
    off_grid: bool = False
    year: int = 2025
    random_start: bool = True
    pv_kwp: float = 500.0
    pv_weibull_shape: float = 5.0
    pv_weibull_scale: float = 0.85
    wind_rated_kw: float = 500.0
    wind_weibull_shape: float = 2.0
    wind_weibull_scale: float = 7.5
    wind_cut_in: float = 3.5
    wind_rated_speed: float = 13.0
    wind_cut_out: float = 25.0
    load_peak_kw: float = 400.0
    load_noise: float = 0.05
    categories: tuple[str, ...] = ("A", "B", "C", "D")
    pack_kwh: tuple[float, ...] = (24.0, 40.0, 52.0, 75.0)
    n_packs: tuple[int, ...] = (3, 3, 4, 2)
    demand_shares: tuple[float, ...] = (0.20, 0.25, 0.35, 0.20)
    swaps_per_day: float = 36.0
    gamma_shape: float = 1.0
    soc_beta_a: float = 2.0
    soc_beta_b: float = 2.0
    soc_arrive_min: float = 0.2
    soc_arrive_max: float = 0.8
    full_at_start: float = 0.75
    pack_eta: float = 0.95
    pack_wear_eur_per_kwh: float = 0.025
    fast_extra_eur_per_kwh: float = 0.02
    n_storage: int = 4
    storage_kwh: float = 75.0
    storage_kw: float = 37.5
    storage_soh_min: float = 0.6
    storage_soh_max: float = 0.8
    storage_price_eur_per_kwh: float = 80.0
    storage_cycle_life: float = 3000.0
    tariff_f1: float = 0.30
    tariff_f2: float = 0.27
    tariff_f3: float = 0.22
    grid_discount: float = 0.10
    import_limit_kw: float = 600.0
    voll_eur_per_kwh: float = 3.0
    swap_fee_eur: float = 3.0
    swap_price_eur_per_kwh: float = 0.45
    lost_swap_penalty_eur: float = 10.0
    terminal_value: bool = True
    layout_seed: int | None = 0

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> MicrogridConfig:
        """The config of env keywords, naming any unknown one."""
        return from_known_kwargs(cls, "microgrid", kwargs)

    def __post_init__(self) -> None:
        for name in ("n_days", "year"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.layout_seed is not None and (not isinstance(self.layout_seed, int) or isinstance(self.layout_seed, bool)
                                             or self.layout_seed < 0):
            raise ValueError(f"layout_seed must be a non-negative integer or None, got {self.layout_seed!r}")
        if not isinstance(self.n_storage, int) or isinstance(self.n_storage, bool) or self.n_storage < 0:
            raise ValueError(f"n_storage must be a non-negative integer, got {self.n_storage!r}")
        check_field_types(self)  # bools, integers, numbers and strings where the annotations say
        for name in ("categories", "pack_kwh", "n_packs", "demand_shares"):
            v = getattr(self, name)
            if isinstance(v, (str, int, float)) or len(v) != len(self.categories):
                raise ValueError(f"{name} must list one value per category ({len(self.categories)}), got {v!r}")
            object.__setattr__(self, name, tuple(v))
        if not all(isinstance(c, str) and c for c in self.categories) or len(set(self.categories)) != len(
                self.categories):
            raise ValueError(f"categories must be unique non-empty strings, got {self.categories!r}")
        for q in self.pack_kwh:
            check_positive("pack_kwh", q)
            if q <= 10 * FULL_GAP_KWH:
                raise ValueError(f"pack_kwh must exceed {10 * FULL_GAP_KWH} kWh, got {q!r}")
        for n in self.n_packs:
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"n_packs must be non-negative integers, got {self.n_packs!r}")
        if sum(self.n_packs) == 0:
            raise ValueError(f"n_packs must hold at least one pack, got {self.n_packs!r}")
        for x in self.demand_shares:
            check_nonnegative("demand_shares", x)
        if not math.isclose(sum(self.demand_shares), 1.0, abs_tol=1e-9):
            raise ValueError(f"demand_shares must sum to 1, got {self.demand_shares!r}")
        for name in ("pv_weibull_shape", "pv_weibull_scale", "wind_weibull_shape", "wind_weibull_scale",
                     "wind_cut_in", "gamma_shape", "soc_beta_a", "soc_beta_b", "storage_kwh", "storage_cycle_life",
                     "import_limit_kw"):
            check_positive(name, getattr(self, name))
        for name in ("pv_kwp", "wind_rated_kw", "load_peak_kw"):  # 0: no PV, no wind, no residents (standalone)
            check_nonnegative(name, getattr(self, name))
        if not self.wind_cut_in < self.wind_rated_speed < self.wind_cut_out:
            raise ValueError(f"wind speeds must satisfy cut_in < rated < cut_out, got {self.wind_cut_in!r}, "
                             f"{self.wind_rated_speed!r}, {self.wind_cut_out!r}")
        for name in ("load_noise", "swaps_per_day", "pack_wear_eur_per_kwh", "fast_extra_eur_per_kwh", "storage_kw",
                     "storage_price_eur_per_kwh", "tariff_f1", "tariff_f2", "tariff_f3", "voll_eur_per_kwh",
                     "swap_fee_eur", "swap_price_eur_per_kwh", "lost_swap_penalty_eur"):
            check_nonnegative(name, getattr(self, name))
        for name in ("soc_arrive_min", "soc_arrive_max", "full_at_start", "pack_eta", "storage_soh_min",
                     "storage_soh_max", "grid_discount"):
            check_fraction(name, getattr(self, name))
        if not self.soc_arrive_min <= self.soc_arrive_max < 1.0:
            raise ValueError(f"arriving SoC range must satisfy soc_arrive_min <= soc_arrive_max < 1, got "
                             f"[{self.soc_arrive_min!r}, {self.soc_arrive_max!r}]")
        if self.pack_eta <= 0:
            raise ValueError(f"pack_eta must be in (0, 1], got {self.pack_eta!r}")
        if not 0.0 < self.storage_soh_min <= self.storage_soh_max:
            raise ValueError(f"storage SoH range must satisfy 0 < storage_soh_min <= storage_soh_max, got "
                             f"[{self.storage_soh_min!r}, {self.storage_soh_max!r}]")
        if not self.off_grid and self.import_limit_kw < self.load_cap_kw:
            raise ValueError(f"import_limit_kw = {self.import_limit_kw!r} is below the largest load the generator "
                             f"draws ({self.load_cap_kw!r} kW); raise it or set off_grid=True")

    @property
    def n_steps(self) -> int:
        return 24 * self.n_days

    @functools.cached_property
    def plan(self) -> _Plan:
        """What every episode of this config shares (computed once per config)."""
        return _plan(self)

    @property
    def load_cap_kw(self) -> float:
        """The largest load drawn: the peak with noise at 3 sigma."""
        return self.load_peak_kw * max(LOAD_SHAPE) * (1.0 + 3.0 * self.load_noise)

    @property
    def rate_per_hour(self) -> np.ndarray:
        """Expected swap requests per hour of day (all categories)."""
        prof = np.array(SWAP_PROFILE)
        return self.swaps_per_day * prof / prof.sum()

    @property
    def max_expected_swaps(self) -> float:
        """Upper bound of ``expected_swaps`` (for the observation's bounds)."""
        return float(self.rate_per_hour.max() * max(self.demand_shares))

    @property
    def max_price(self) -> float:
        return max(self.tariff_f1, self.tariff_f2, self.tariff_f3) * (1.0 - self.grid_discount)


@functools.lru_cache(maxsize=8)
def _bands(first_weekday: int, n_days: int) -> np.ndarray:
    """ARERA band (1, 2, 3) of each hour of ``n_days`` days from a weekday (0 = Monday); holidays ignored."""
    out = np.empty(24 * n_days, dtype=np.int64)
    for d in range(n_days):
        wd = (first_weekday + d) % 7
        for h in range(24):
            if wd < 5:
                band = 1 if 8 <= h < 19 else (2 if h == 7 or 19 <= h < 23 else 3)
            elif wd == 5:
                band = 2 if 7 <= h < 23 else 3
            else:
                band = 3
            out[24 * d + h] = band
    out.setflags(write=False)
    return out


def wind_power(speed: np.ndarray, cfg: MicrogridConfig) -> np.ndarray:
    """The turbine's power curve (kW) at ``speed`` (m/s): 0, linear from cut-in to rated, rated, 0 above cut-out."""
    v = np.asarray(speed, dtype=np.float64)
    ramp = cfg.wind_rated_kw * (v - cfg.wind_cut_in) / (cfg.wind_rated_speed - cfg.wind_cut_in)
    p = np.where(v < cfg.wind_rated_speed, ramp, cfg.wind_rated_kw)
    return np.where((v < cfg.wind_cut_in) | (v > cfg.wind_cut_out), 0.0, p)


def pv_shape(n_steps: int) -> np.ndarray:
    """Clear-sky share of the peak per hour: ``sin(pi (h + 0.5 - 5) / 15)`` from 05:00 to 20:00, 0 otherwise."""
    h = np.arange(n_steps) % 24
    return np.where((h >= 5) & (h < 20), np.sin(np.pi * (h + 0.5 - 5.0) / 15.0), 0.0)


@functools.lru_cache(maxsize=16)
def _rate_table(rate_per_hour: tuple[float, ...], n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """The hourly request rate of ``n_days`` days and the expected count by hour boundary."""
    rate = np.tile(np.array(rate_per_hour), n_days)
    cum = np.concatenate([[0.0], np.cumsum(rate)])
    for a in (rate, cum):
        a.setflags(write=False)
    return rate, cum


def _operational_times(rng: np.random.Generator, shape: float, total: float, batch: int | None = None) -> np.ndarray:
    """Arrival times in operational time: partial sums of Gamma(k, 1/k) unit-mean gaps below ``total``.

    Drawn as one request after another would draw them (the gap that passes ``total`` is drawn too and
    dropped), in batches: a batch that overshoots is drawn again at the exact length from the saved
    generator state, so the generator ends where one-by-one draws leave it. ``batch``: gaps drawn at a time
    (default: enough to pass ``total`` almost always)."""
    if total <= 0:
        return np.zeros(0)
    bits = rng.bit_generator
    saved = bits.state
    size = batch or int(total + 6.0 * math.sqrt(total / shape)) + 8
    scale = 1.0 / shape
    g = rng.gamma(shape, scale, size)
    u = g.cumsum()
    stop = int(u.searchsorted(total))
    if stop == size:  # not past the total yet: draw on, from the last partial sum
        parts = [u]
        while stop == size:
            g = rng.gamma(shape, scale, size)
            g[0] += u[-1]  # x + g0, then running sums: the same additions as one by one
            u = g.cumsum()
            stop = int(u.searchsorted(total))
            parts.append(u[:stop])
        out = np.concatenate(parts)
    else:
        out = u[:stop]
    bits.state = saved
    rng.gamma(shape, scale, out.shape[0] + 1)
    return out


def _arrivals(rng: np.random.Generator, cfg: MicrogridConfig, n_steps: int) -> np.ndarray:
    """Arrival times (hours from the start) with Gamma(k, rate-scaled) gaps, time-rescaled through the
    hourly rate profile (k = 1: a non-homogeneous Poisson process)."""
    rate, cum = _rate_table(tuple(cfg.rate_per_hour.tolist()), n_steps // 24)
    return _to_hours(_operational_times(rng, cfg.gamma_shape, float(cum[-1])), rate, cum, n_steps)


def _to_hours(u: np.ndarray, rate: np.ndarray, cum: np.ndarray, n_steps: int,
              safe_rate: np.ndarray | None = None) -> np.ndarray:
    """Operational times to hours from the start (each hour's span stretched by its rate; ``safe_rate``: the
    rate with 1 for 0, precomputed)."""
    hour = np.minimum(cum.searchsorted(u, side="right") - 1, n_steps - 1)
    if safe_rate is None:
        safe_rate = np.where(rate > 0, rate, 1.0)
    return hour + (u - cum[hour]) / safe_rate[hour]


def storage_layout(rng: np.random.Generator, cfg: MicrogridConfig) -> tuple[BatteryParams, ...]:
    """The second-life storage packs: SoH uniform in ``[storage_soh_min, storage_soh_max]`` [src]."""
    sohs = rng.uniform(cfg.storage_soh_min, cfg.storage_soh_max, cfg.n_storage)
    return tuple(
        BatteryParams.second_life(
            capacity_kwh=cfg.storage_kwh, power_kw=cfg.storage_kw, price_eur_per_kwh=cfg.storage_price_eur_per_kwh,
            cycle_life=cfg.storage_cycle_life, soh0=float(h), soh_end_of_life=min(0.6, float(h) * 0.99),
            soc_min=0.1, soc_max=0.9, soc0=0.5, max_cycles_per_day=None,
        ) for h in sohs)


def fixed_storage(cfg: MicrogridConfig) -> tuple[BatteryParams, ...] | None:
    """The storage of ``cfg.layout_seed`` (None when every episode draws its own)."""
    if cfg.layout_seed is None:
        return None
    return storage_layout(np.random.default_rng(cfg.layout_seed), cfg)


@functools.lru_cache(maxsize=8)
def _tariff_by_weekday(bands_eur: tuple[float, float, float], discount: float, n_days: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Residents' tariff and grid price ``(7, 24 n_days)`` for an episode starting on each weekday."""
    tariff = np.array(bands_eur)[np.stack([_bands(wd, n_days) for wd in range(7)]) - 1]
    grid = np.round(tariff * (1.0 - discount), 6)
    for a in (tariff, grid):
        a.setflags(write=False)
    return tariff, grid


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=8)
def _june1(year: int) -> int:
    """June 1st of ``year``, in days since 1970-01-01."""
    return int(np.datetime64(f"{year}-06-01", "D").astype(np.int64))


@functools.lru_cache(maxsize=1024)
def _midnight(day: int) -> str:
    """The ISO timestamp of midnight of ``day`` (days since 1970-01-01)."""
    return f"{np.datetime64(day, 'D')}T00:00"


class _Plan(NamedTuple):
    """What every episode of one config shares, computed once per config."""

    slot_q: np.ndarray
    pv_peak: np.ndarray  # kWp times the clear-sky shape
    load_peak: np.ndarray  # peak times the daily shape
    rate: np.ndarray
    cum: np.ndarray
    safe_rate: np.ndarray  # the rate with 1 for 0 (the divisor of an hour's share)
    cdf: np.ndarray
    soc_cap: np.ndarray  # per category: the arriving SoC that leaves the pack 2 eps below full
    tariff: np.ndarray  # (7, T) by starting weekday
    grid_price: np.ndarray
    shared: dict[str, Any]


def _plan(cfg: MicrogridConfig) -> _Plan:
    rate, cum = _rate_table(tuple(cfg.rate_per_hour.tolist()), cfg.n_days)
    cdf = np.array(cfg.demand_shares).cumsum()
    cdf /= cdf[-1]
    tariff, grid = _tariff_by_weekday((cfg.tariff_f1, cfg.tariff_f2, cfg.tariff_f3), cfg.grid_discount, cfg.n_days)
    q = np.array(cfg.pack_kwh)
    return _Plan(np.repeat(q, cfg.n_packs), cfg.pv_kwp * pv_shape(cfg.n_steps),
                 cfg.load_peak_kw * np.tile(np.array(LOAD_SHAPE), cfg.n_days), rate, cum,
                 np.where(rate > 0, rate, 1.0), cdf, 1.0 - 2 * FULL_GAP_KWH / q, tariff, grid, _shared(cfg))


def generate_episodes(rngs: Sequence[np.random.Generator], cfg: MicrogridConfig,
                      storage: tuple[BatteryParams, ...] | None = None) -> MicrogridEpisodes:
    """Draw one episode from each generator, as :func:`generate_microgrid` would from it: each generator
    draws its numbers in the same order, then the arrays of every episode are built at once."""
    plan = cfg.plan
    m, n = len(rngs), cfg.n_steps
    slot_q = plan.slot_q
    n_s = slot_q.shape[0]
    random_start = cfg.random_start and cfg.n_days < 92
    total = float(plan.cum[-1])
    offset = np.zeros(m, dtype=np.int64)
    u01 = np.empty((m, 2 * n_s))
    k_w, speed_w, noise = np.empty((m, n)), np.empty((m, n)), np.empty((m, n))
    times, cat_u, beta = [], [], []
    stores = [storage] * m if storage is not None else []
    hi = 92 - cfg.n_days + 1
    pv_k, wind_k, shape_k, a_k, b_k = (cfg.pv_weibull_shape, cfg.wind_weibull_shape, cfg.gamma_shape, cfg.soc_beta_a,
                                       cfg.soc_beta_b)
    for i, rng in enumerate(rngs):
        if random_start:
            offset[i] = rng.integers(0, hi)
        rng.random(out=u01[i])  # full or not, then the SoC if not: uniform(0.2, 0.8) = 0.2 + 0.6 * random()
        if storage is None:
            stores.append(storage_layout(rng, cfg))
        k_w[i] = rng.weibull(pv_k, n)
        speed_w[i] = rng.weibull(wind_k, n)
        rng.standard_normal(out=noise[i])  # normal(0, sd) = 0 + sd * standard normal
        u = _operational_times(rng, shape_k, total)
        times.append(u)
        cat_u.append(rng.random(u.shape[0]))  # the category by inverse CDF of the shares (as Generator.choice)
        beta.append(rng.beta(a_k, b_k, u.shape[0]))
    # station
    frac = 0.2 + (0.8 - 0.2) * u01[:, n_s:]
    e0 = np.where(u01[:, :n_s] < cfg.full_at_start, slot_q, (frac * slot_q).round(3))
    # renewables
    pv = (plan.pv_peak * np.minimum(1.0, k_w * cfg.pv_weibull_scale)).round(3)
    wind = wind_power(speed_w * cfg.wind_weibull_scale, cfg).round(3)
    # load
    noise = np.minimum(np.maximum(0.0 + cfg.load_noise * noise, -3 * cfg.load_noise), 3 * cfg.load_noise)  # clip
    load = np.minimum((plan.load_peak * (1.0 + noise)).round(3), cfg.load_cap_kw)
    # tariff: by the weekday of each start
    day = _june1(cfg.year) + (int(offset[0]) if m == 1 else offset)  # days since 1970-01-01
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    pick = slice(weekday, weekday + 1) if m == 1 else weekday
    tariff, grid_price = plan.tariff[pick], plan.grid_price[pick]
    # swaps
    one = m == 1
    hours = _to_hours(times[0] if one else np.concatenate(times), plan.rate, plan.cum, n, plan.safe_rate)
    u_cat = cat_u[0] if one else np.concatenate(cat_u)
    # the inverse CDF: how many cumulative shares are <= u (for many values, counted by comparisons: faster)
    if u_cat.shape[0] < 1024:
        cat = plan.cdf.searchsorted(u_cat, side="right")
    else:
        cat = np.zeros(u_cat.shape[0], dtype=np.int64)
        for edge in plan.cdf.tolist():
            cat += u_cat >= edge
    soc = cfg.soc_arrive_min + (cfg.soc_arrive_max - cfg.soc_arrive_min) * (beta[0] if one else np.concatenate(beta))
    soc = np.minimum(soc.round(4), plan.soc_cap[cat])
    offsets = np.array([0] + [u.shape[0] for u in times], dtype=np.int64).cumsum()
    return MicrogridEpisodes(
        plan.shared, *(_frozen(a) for a in (e0, pv, wind, load, tariff, grid_price, offsets,
                                            np.floor(hours).astype(np.int64), cat.astype(np.int64, copy=False), soc)),
        tuple(stores), _frozen(grid_price.min(axis=1) if cfg.terminal_value else np.zeros(m)),
        (_midnight(day),) if m == 1 else tuple(_midnight(d) for d in day.tolist()))


@functools.lru_cache(maxsize=8)
def _shared(cfg: MicrogridConfig) -> dict[str, Any]:
    """The scenario fields every episode of ``cfg`` shares."""
    expected = np.tile(cfg.rate_per_hour, cfg.n_days)[:, None] * np.array(cfg.demand_shares)[None, :]
    expected.setflags(write=False)
    out = {f.name: f.default for f in dataclasses.fields(MicrogridScenario)
           if f.name not in PER_EPISODE}  # the scenario's defaults where the config sets nothing
    return out | dict(
        categories=tuple(cfg.categories), pack_kwh=tuple(float(x) for x in cfg.pack_kwh),
        n_packs=tuple(int(x) for x in cfg.n_packs), expected_swaps=expected,
        import_limit_kw=cfg.import_limit_kw, off_grid=bool(cfg.off_grid), swap_fee_eur=cfg.swap_fee_eur,
        swap_price_eur_per_kwh=cfg.swap_price_eur_per_kwh, lost_swap_penalty_eur=cfg.lost_swap_penalty_eur,
        voll_eur_per_kwh=cfg.voll_eur_per_kwh, pack_eta=cfg.pack_eta,
        pack_wear_eur_per_kwh=cfg.pack_wear_eur_per_kwh, fast_extra_eur_per_kwh=cfg.fast_extra_eur_per_kwh,
        pv_kwp=cfg.pv_kwp, wind_rated_kw=cfg.wind_rated_kw)


def generate_microgrid(rng: np.random.Generator, cfg: MicrogridConfig,
                       storage: tuple[BatteryParams, ...] | None = None) -> MicrogridScenario:
    """Draw one microgrid episode from ``rng`` (the storage packs too, unless ``storage`` is given:
    an env's fixed layout, :func:`fixed_storage`)."""
    return generate_episodes([rng], cfg, storage).scenario(0)
