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

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.microgrid import FULL_GAP_KWH, MicrogridScenario
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
        for q in self.pack_kwh:
            check_positive("pack_kwh", q)
        for n in self.n_packs:
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"n_packs must be non-negative integers, got {self.n_packs!r}")
        for x in self.demand_shares:
            check_nonnegative("demand_shares", x)
        if not math.isclose(sum(self.demand_shares), 1.0, abs_tol=1e-9):
            raise ValueError(f"demand_shares must sum to 1, got {self.demand_shares!r}")
        for name in ("pv_kwp", "pv_weibull_shape", "pv_weibull_scale", "wind_rated_kw", "wind_weibull_shape",
                     "wind_weibull_scale", "wind_cut_in", "load_peak_kw", "gamma_shape", "soc_beta_a",
                     "soc_beta_b", "storage_kwh", "storage_cycle_life", "import_limit_kw"):
            check_positive(name, getattr(self, name))
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


def _arrivals(rng: np.random.Generator, cfg: MicrogridConfig, n_steps: int) -> np.ndarray:
    """Arrival times (hours from the start) with Gamma(k, rate-scaled) gaps, time-rescaled through the
    hourly rate profile (k = 1: a non-homogeneous Poisson process)."""
    rate = np.tile(cfg.rate_per_hour, n_steps // 24)
    cum = np.concatenate([[0.0], np.cumsum(rate)])  # expected count by hour boundary
    total = cum[-1]
    times = []
    if total <= 0:
        return np.zeros(0)
    x = 0.0
    while True:
        x += rng.gamma(cfg.gamma_shape, 1.0 / cfg.gamma_shape)  # unit-mean gap in operational time
        if x >= total:
            break
        times.append(x)
    u = np.array(times)
    hour = np.searchsorted(cum, u, side="right") - 1
    hour = np.minimum(hour, n_steps - 1)
    frac = (u - cum[hour]) / np.where(rate[hour] > 0, rate[hour], 1.0)
    return hour + frac


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


def generate_microgrid(rng: np.random.Generator, cfg: MicrogridConfig,
                       storage: tuple[BatteryParams, ...] | None = None) -> MicrogridScenario:
    """Draw one microgrid episode from ``rng`` (the storage packs too, unless ``storage`` is given:
    an env's fixed layout, :func:`fixed_storage`)."""
    n = cfg.n_steps
    jan1 = np.datetime64(f"{cfg.year}-06-01", "D")
    offset = int(rng.integers(0, 92 - cfg.n_days + 1)) if cfg.random_start and cfg.n_days < 92 else 0
    start = jan1 + np.timedelta64(offset, "D")
    weekday = int((start.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
    # station
    q = np.array(cfg.pack_kwh)
    slot_q = np.repeat(q, cfg.n_packs)
    full = rng.random(slot_q.shape[0]) < cfg.full_at_start
    e0 = np.where(full, slot_q, np.round(rng.uniform(0.2, 0.8, slot_q.shape[0]) * slot_q, 3))
    if storage is None:
        storage = storage_layout(rng, cfg)
    # renewables
    k_irr = np.minimum(1.0, rng.weibull(cfg.pv_weibull_shape, n) * cfg.pv_weibull_scale)
    pv = np.round(cfg.pv_kwp * pv_shape(n) * k_irr, 3)
    speed = rng.weibull(cfg.wind_weibull_shape, n) * cfg.wind_weibull_scale
    wind = np.round(wind_power(speed, cfg), 3)
    # load
    shape = np.tile(np.array(LOAD_SHAPE), cfg.n_days)
    noise = np.clip(rng.normal(0.0, cfg.load_noise, n), -3 * cfg.load_noise, 3 * cfg.load_noise)
    load = np.round(cfg.load_peak_kw * shape * (1.0 + noise), 3)
    load = np.minimum(load, cfg.load_cap_kw)
    # tariff
    bands = _bands(weekday, cfg.n_days)
    tariff = np.array([cfg.tariff_f1, cfg.tariff_f2, cfg.tariff_f3])[bands - 1]
    grid_price = np.round(tariff * (1.0 - cfg.grid_discount), 6)
    # swaps
    times = _arrivals(rng, cfg, n)
    cat = rng.choice(len(cfg.categories), size=times.shape[0], p=np.array(cfg.demand_shares))
    soc = cfg.soc_arrive_min + (cfg.soc_arrive_max - cfg.soc_arrive_min) * rng.beta(
        cfg.soc_beta_a, cfg.soc_beta_b, times.shape[0])
    soc = np.minimum(np.round(soc, 4), 1.0 - 2 * FULL_GAP_KWH / q[cat])
    expected = np.tile(cfg.rate_per_hour, cfg.n_days)[:, None] * np.array(cfg.demand_shares)[None, :]
    return MicrogridScenario(
        categories=cfg.categories, pack_kwh=cfg.pack_kwh, n_packs=cfg.n_packs, slot_e0_kwh=e0, storage=storage,
        pv_kw=pv, wind_kw=wind, load_kw=load, tariff_eur_per_kwh=tariff, grid_price_eur_per_kwh=grid_price,
        expected_swaps=expected, swap_hour=np.floor(times).astype(np.int64), swap_category=cat, swap_soc=soc,
        import_limit_kw=cfg.import_limit_kw, off_grid=cfg.off_grid, swap_fee_eur=cfg.swap_fee_eur,
        swap_price_eur_per_kwh=cfg.swap_price_eur_per_kwh, lost_swap_penalty_eur=cfg.lost_swap_penalty_eur,
        voll_eur_per_kwh=cfg.voll_eur_per_kwh, pack_eta=cfg.pack_eta,
        pack_wear_eur_per_kwh=cfg.pack_wear_eur_per_kwh, fast_extra_eur_per_kwh=cfg.fast_extra_eur_per_kwh,
        terminal_value_eur_per_kwh=float(grid_price.min()) if cfg.terminal_value else 0.0,
        pv_kwp=cfg.pv_kwp, wind_rated_kw=cfg.wind_rated_kw, start=f"{start}T00:00",
    )
