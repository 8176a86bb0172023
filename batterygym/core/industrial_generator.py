"""Seeded generators of realistic episodes: every draw comes from the ``rng`` passed in."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.industrial import IndustrialScenario
from batterygym.core.tariff import BILLING_MODES, TOUTariff
from batterygym.core.validation import (
    check_field_types,
    check_fraction,
    check_known,
    check_nonnegative,
    check_positive,
    check_types,
    from_known_kwargs,
)


@dataclass(frozen=True)
class IndustrialSiteConfig:
    """What an industrial episode looks like; every field is a keyword of ``Industrial-v0``.

    Load: a base load, two weekday shifts (06-22) with a lunch dip, a Saturday morning shift with
    probability ``saturday_shift_prob``, multiplicative AR(1) noise and a few machine start-up spikes.
    PV: a clear-sky day shape for the start date's season times a daily cloudiness factor.
    Battery: a second-life pack (SoH 0.8, end of life 0.6) priced per kWh of remaining capacity; its
    efficiencies, SoC window, end of life and calendar fade default to :class:`BatteryParams`' own.
    Demand charge: ``tariff``'s monthly rate billed as ``billing`` says (:meth:`TOUTariff.billing`:
    ``"auto"`` bills an episode longer than a month per calendar month, a shorter one pro-rated).
    """

    n_days: int = 7
    dt_h: float = 1.0
    year: int = 2025
    random_start: bool = True
    base_load_kw: float = 150.0
    shift_load_kw: float = 450.0
    saturday_shift_prob: float = 0.5
    noise: float = 0.05
    spikes_per_week: float = 3.0
    spike_kw: float = 150.0
    pv_kwp: float = 200.0
    allow_export: bool = True
    export_price: float = 0.05
    connection_kw: float = 1000.0
    tariff: TOUTariff = field(default_factory=TOUTariff)
    capacity_kwh: float = 500.0
    power_kw: float = 200.0
    pack_price_eur_per_kwh: float = 80.0
    cycle_life: float = 3000.0
    max_cycles_per_day: float | None = 1.0
    soc0: float = 0.5
    soh0: float = 0.8
    billing: str = "auto"
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    soh_end_of_life: float = 0.6
    calendar_fade_per_day: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.n_days, int) or isinstance(self.n_days, bool) or self.n_days < 1:
            raise ValueError(f"n_days must be a positive integer, got {self.n_days!r}")
        if isinstance(self.tariff, dict):
            check_known(TOUTariff, "tariff", self.tariff)
            check_types(TOUTariff, self.tariff, prefix="tariff.")
            object.__setattr__(self, "tariff", TOUTariff(**self.tariff))
        elif not isinstance(self.tariff, TOUTariff):
            raise ValueError(f"tariff must be a TOUTariff or a dict of its fields, got {self.tariff!r}")
        if self.billing not in BILLING_MODES:
            raise ValueError(f"billing must be one of {BILLING_MODES}, got {self.billing!r}")
        check_field_types(self)  # bools, integers, numbers and strings where the annotations say
        check_positive("dt_h", self.dt_h)
        if 24.0 / self.dt_h != int(24.0 / self.dt_h):
            raise ValueError(f"dt_h must divide 24 hours, got {self.dt_h!r}")
        for name in ("base_load_kw", "shift_load_kw", "noise", "spikes_per_week", "spike_kw", "pv_kwp",
                     "export_price", "pack_price_eur_per_kwh"):
            check_nonnegative(name, getattr(self, name))
        # power_kw > 0: the env's action is a share of the rating, and a zero rating leaves it nothing to share
        for name in ("connection_kw", "capacity_kwh", "cycle_life", "power_kw"):
            check_positive(name, getattr(self, name))
        check_fraction("saturday_shift_prob", self.saturday_shift_prob)
        self.battery()  # the battery fields (soh0 above soh_end_of_life, ...) now, not at the first reset

    @classmethod
    def from_kwargs(cls, **kwargs: object) -> IndustrialSiteConfig:
        """Build from keywords, naming any unknown one (env kwargs go through here)."""
        return from_known_kwargs(cls, "industrial site", kwargs)

    @property
    def n_steps(self) -> int:
        return int(round(self.n_days * 24 / self.dt_h))

    def battery(self) -> BatteryParams:
        """The site's second-life pack (its checks name the offending field)."""
        return BatteryParams.second_life(
            capacity_kwh=self.capacity_kwh, power_kw=self.power_kw,
            price_eur_per_kwh=self.pack_price_eur_per_kwh, cycle_life=self.cycle_life,
            max_cycles_per_day=self.max_cycles_per_day, soc0=self.soc0, soh0=self.soh0,
            soh_end_of_life=self.soh_end_of_life, eta_charge=self.eta_charge, eta_discharge=self.eta_discharge,
            soc_min=self.soc_min, soc_max=self.soc_max, calendar_fade_per_day=self.calendar_fade_per_day,
        )

    def worst_case_load_kw(self) -> float:
        """An upper bound of any generated load (observation bounds use it)."""
        return (self.base_load_kw + self.shift_load_kw) * (1 + 4 * self.noise) + self.spike_kw


def _weekday(day: np.datetime64) -> int:
    """0 = Monday; 1970-01-01 was a Thursday."""
    return int((day.astype("datetime64[D]").view("int64") + 3) % 7)


def _ar1(rng: np.random.Generator, n: int, sigma: float, rho: float = 0.8) -> np.ndarray:
    eps = rng.normal(0.0, sigma * np.sqrt(1 - rho * rho), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        x[i] = rho * x[i - 1] + eps[i]
    return np.clip(x, -4 * sigma, 4 * sigma)


def industrial_load(rng: np.random.Generator, cfg: IndustrialSiteConfig, hours: np.ndarray,
                    weekday: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Shift-pattern industrial load (kW) with noise and start-up spikes."""
    n = hours.shape[0]
    saturday_on = rng.random(cfg.n_days + 1) < cfg.saturday_shift_prob
    on_weekday = (weekday < 5) & (hours >= 6) & (hours < 22)
    on_saturday = (weekday == 5) & (hours >= 6) & (hours < 14) & saturday_on[day]
    level = np.where(on_weekday, 1.0, np.where(on_saturday, 0.7, 0.0))
    level = level - np.where(on_weekday & (hours >= 12) & (hours < 13), 0.3, 0.0)  # lunch dip
    load = (cfg.base_load_kw + cfg.shift_load_kw * level) * (1.0 + _ar1(rng, n, cfg.noise))
    n_spikes = rng.poisson(cfg.spikes_per_week * cfg.n_days / 7.0)
    working = np.flatnonzero(level > 0)
    if n_spikes and working.size:
        at = rng.choice(working, size=min(n_spikes, working.size), replace=False)
        load[at] += cfg.spike_kw * rng.uniform(0.5, 1.0, at.size)
    return np.clip(load, 0.0, None)


def pv_profile(rng: np.random.Generator, cfg: IndustrialSiteConfig, hours: np.ndarray,
               day_of_year: np.ndarray, day: np.ndarray) -> np.ndarray:
    """PV output (kW): a seasonal clear-sky bell between sunrise and sunset times daily clouds."""
    if cfg.pv_kwp == 0:
        return np.zeros_like(hours)
    season = np.cos(2 * np.pi * (day_of_year - 172) / 365.25)  # 1 at midsummer
    half_day = 6.0 + 2.5 * season  # hours from solar noon to sunset (mid-latitude)
    x = (hours + 0.5 * cfg.dt_h - 13.0) / half_day
    shape = np.where(np.abs(x) < 1.0, np.cos(0.5 * np.pi * np.minimum(np.abs(x), 1.0)) ** 1.5, 0.0)
    clear = 0.55 + 0.25 * season  # peak output share of kWp
    clouds = rng.beta(4.0, 1.6, cfg.n_days + 1)[day]
    return cfg.pv_kwp * clear * shape * clouds


def generate_industrial(rng: np.random.Generator, cfg: IndustrialSiteConfig) -> IndustrialScenario:
    """Draw one industrial episode (load, PV, TOU prices, start date) from ``rng``.

    It starts on the year's first Monday or, with ``random_start``, a day drawn from the
    ``365 - n_days`` days after it; an episode of a year or more starts on the first Monday without
    a draw (the drawing range would be empty), so its start stays in ``cfg.year``.
    """
    n = cfg.n_steps
    jan1 = np.datetime64(f"{cfg.year}-01-01", "D")
    first_monday = jan1 + np.timedelta64(int(-_weekday(jan1) % 7), "D")
    draw = cfg.random_start and cfg.n_days < 365
    start_day = int(rng.integers(0, 365 - cfg.n_days)) if draw else 0
    start = first_monday + np.timedelta64(start_day, "D")
    step = np.arange(n) * cfg.dt_h
    hours = step % 24.0
    day = (step // 24).astype(int)
    weekday = (_weekday(start) + day) % 7
    doy = (start - jan1).astype(int) + day
    load = industrial_load(rng, cfg, hours, weekday, day)
    pv = pv_profile(rng, cfg, hours, doy, day)
    load = np.minimum(load, cfg.connection_kw + pv)
    price = cfg.tariff.prices(hours, weekday)
    start_iso = f"{start}T00:00"
    return IndustrialScenario(
        load_kw=load, price_import=price, pv_kw=pv,
        price_export=np.full(n, cfg.export_price) if cfg.allow_export else None,
        battery=cfg.battery(), connection_kw=cfg.connection_kw,
        allow_export=cfg.allow_export, start=start_iso, dt_h=cfg.dt_h,
        **cfg.tariff.billing(start_iso, n, cfg.dt_h, cfg.billing),
    )
