"""Seeded generators of realistic episodes: every draw comes from the ``rng`` passed in."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryParams
from batterygym.core.industrial import IndustrialScenario, billing_steps, default_terminal_value
from batterygym.core.tariff import BILLING_MODES, TOUTariff, resolve_billing
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


AR1_RHO = 0.8
NS_PER_MINUTE, NS_PER_HOUR, NS_PER_DAY = 60 * 10**9, 3600 * 10**9, 86400 * 10**9


def ar1(x0: np.ndarray, eps: np.ndarray, rho: float = AR1_RHO) -> np.ndarray:
    """``x[0] = x0``, ``x[i] = rho * x[i - 1] + eps[i]``: N series at once, time first (``eps`` is ``(n, N)``).

    One series runs on Python floats (numpy calls on one-element arrays cost more than the arithmetic);
    several run one numpy step per time step. Both do the same float operations in the same order.
    """
    n, width = eps.shape
    if width == 1:
        x = float(x0[0])
        out = [x]
        append = out.append
        for e in eps[1:, 0].tolist():
            x = rho * x + e
            append(x)
        return np.array(out)[:, None]
    x = np.empty(eps.shape)
    x[0] = x0
    for i in range(1, n):
        np.multiply(x[i - 1], rho, out=x[i])
        x[i] += eps[i]
    return x


class _SiteCalendar:
    """What every episode of one site config shares, computed once: the step clock, per start weekday the
    shift pattern, prices and weekdays, per start day the clear-sky PV and the demand-charge billing."""

    def __init__(self, cfg: IndustrialSiteConfig) -> None:
        self.cfg = cfg
        n = self.n = cfg.n_steps
        step = np.arange(n) * cfg.dt_h
        self.hours = step % 24.0
        self.day = (step // 24).astype(int)
        self.jan1 = np.datetime64(f"{cfg.year}-01-01", "D")
        self.first_monday = self.jan1 + np.timedelta64(int(-_weekday(self.jan1) % 7), "D")
        self.draw = cfg.random_start and cfg.n_days < 365
        self.noise_scale = cfg.noise * np.sqrt(1 - AR1_RHO * AR1_RHO)  # of the AR(1) innovations
        self.spikes_mean = cfg.spikes_per_week * cfg.n_days / 7.0
        # the scenario's clock (its timestamps' hour and weekday) as pandas counts it, from midnight starts
        ns = np.arange(n, dtype=np.int64) * pd.Timedelta(hours=cfg.dt_h).value
        self.hour_of_day = _read_only((ns // NS_PER_HOUR) % 24 + ((ns // NS_PER_MINUTE) % 60) / 60.0)
        self.clock_day = ns // NS_PER_DAY
        t = cfg.tariff
        if cfg.allow_export:
            self.price_export = _read_only(np.full(n, cfg.export_price))
        else:
            self.price_export = _read_only(np.zeros(n))
        self.battery = cfg.battery()
        weekdays = (np.arange(7)[:, None] + self.day[None, :]) % 7  # per start weekday
        h = self.hours[None, :]
        on_weekday = (weekdays < 5) & (h >= 6) & (h < 22)
        lunch = on_weekday & (h >= 12) & (h < 13)
        level = np.where(on_weekday, 1.0, 0.0) - np.where(lunch, 0.3, 0.0)  # Saturday shifts added per episode
        # time first, one column per start weekday (episodes are columns too)
        self.saturday_slot = np.ascontiguousarray(((weekdays == 5) & (h >= 6) & (h < 14)).T)
        self.working = np.ascontiguousarray((level > 0).T)
        self.load_level = np.ascontiguousarray((cfg.base_load_kw + cfg.shift_load_kw * level).T)  # before noise
        self.saturday_load = cfg.base_load_kw + cfg.shift_load_kw * 0.7
        self.weekday0 = _weekday(self.first_monday)
        self.prices = _read_only(t.prices(h, weekdays))  # (7, n_steps)
        self.price_rows = list(self.prices)  # the same array object per start weekday, for every scenario
        # start weekdays whose prices a scenario may refuse (its own check then says why)
        lowest = self.prices.min(axis=1)
        self.price_suspect = _read_only((self.price_export[None, :] > self.prices).any(axis=1)
                                        | (not cfg.allow_export) & (lowest < 0))
        self.any_price_suspect = bool(self.price_suspect.any())
        # the scenario's defaults, as its own checks derive them
        self.terminal_value = default_terminal_value(lowest, self.battery.eta_discharge)
        self.budget_kwh = self.battery.charge_budget_kwh(n * cfg.dt_h / 24.0)
        self.day_of_week = [_read_only(((w + self.clock_day) % 7).astype(np.float64)) for w in range(7)]
        self._clear_sky: dict[int, np.ndarray] = {}
        self._sky: np.ndarray | None = None
        self._billing: dict[int, dict[str, object]] = {}
        self._start_iso: dict[int, str] = {}
        self._billing_steps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.episode_billing = resolve_billing(cfg.billing, n * cfg.dt_h / 24.0) == "episode"

    def clear_sky(self, start_day: int) -> np.ndarray:
        """PV output (kW) before clouds: a seasonal clear-sky bell between sunrise and sunset."""
        out = self._clear_sky.get(start_day)
        if out is None:
            cfg = self.cfg
            start = self.first_monday + np.timedelta64(start_day, "D")
            day_of_year = (start - self.jan1).astype(int) + self.day
            season = np.cos(2 * np.pi * (day_of_year - 172) / 365.25)  # 1 at midsummer
            half_day = 6.0 + 2.5 * season  # hours from solar noon to sunset (mid-latitude)
            x = (self.hours + 0.5 * cfg.dt_h - 13.0) / half_day
            shape = np.where(np.abs(x) < 1.0, np.cos(0.5 * np.pi * np.minimum(np.abs(x), 1.0)) ** 1.5, 0.0)
            clear = 0.55 + 0.25 * season  # peak output share of kWp
            out = self._clear_sky[start_day] = cfg.pv_kwp * clear * shape
        return out

    def clear_sky_columns(self, start_day: np.ndarray) -> np.ndarray:
        """:meth:`clear_sky` of each start day, one column each ``(n_steps, k)``."""
        if start_day.shape[0] == 1:
            return self.clear_sky(int(start_day[0]))[:, None]
        if self._sky is None:  # every start day's, once: a batch draws most of them
            starts = range(365 - self.cfg.n_days if self.draw else 1)
            self._sky = np.stack([self.clear_sky(d) for d in starts], axis=1)
        return self._sky[:, start_day]

    def billing(self, start_day: int) -> dict[str, object]:
        """The scenario's demand-charge fields for an episode starting on ``start_day`` (read-only arrays)."""
        key = 0 if self.episode_billing else start_day
        out = self._billing.get(key)
        if out is None:
            cfg, n = self.cfg, self.n
            fields = cfg.tariff.billing(self.start_iso(start_day), n, cfg.dt_h, cfg.billing)
            period = np.asarray(fields.get("billing_period", np.zeros(n)), dtype=np.int64)
            share = np.asarray(fields.get("billing_share", np.ones(int(period[-1]) + 1)), dtype=np.float64)
            out = self._billing[key] = {"demand_charge_eur_per_kw": fields["demand_charge_eur_per_kw"],
                                        "billing_period": _read_only(period), "billing_share": _read_only(share)}
        return out

    def billing_steps(self, start_day: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`~batterygym.core.industrial.billing_steps` of an episode starting on ``start_day``."""
        key = 0 if self.episode_billing else start_day
        out = self._billing_steps.get(key)
        if out is None:
            fields = self.billing(start_day)
            out = self._billing_steps[key] = billing_steps(fields["demand_charge_eur_per_kw"],
                                                           fields["billing_share"], fields["billing_period"])
        return out

    def start_iso(self, start_day: int) -> str:
        out = self._start_iso.get(start_day)
        if out is None:
            out = self._start_iso[start_day] = f"{self.first_monday + np.timedelta64(start_day, 'D')}T00:00"
        return out


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _calendar(cfg: IndustrialSiteConfig) -> _SiteCalendar:
    """The config's :class:`_SiteCalendar`, built at its first use and kept on the (frozen) config."""
    cal = cfg.__dict__.get("_calendar")
    if cal is None:
        cal = _SiteCalendar(cfg)
        object.__setattr__(cfg, "_calendar", cal)
    return cal


@dataclass(frozen=True)
class IndustrialEpisodes:
    """Episodes of one site drawn at once by :func:`generate_industrial_batch`: the series time first, one
    column per episode (read-only), and the start of each. :meth:`scenario` builds episode ``j``'s
    :class:`IndustrialScenario` (without repeating the site checks once :meth:`check` has passed); a
    vector env steps the columns without building any."""

    config: IndustrialSiteConfig
    start_day: np.ndarray  # (k,) days after the year's first Monday
    weekday: np.ndarray  # (k,) of the first day, 0 = Monday
    load_kw: np.ndarray  # (n_steps, k)
    pv_kw: np.ndarray  # (n_steps, k)
    net_kw: np.ndarray  # (n_steps, k): load minus PV

    @property
    def count(self) -> int:
        return int(self.start_day.shape[0])

    @property
    def calendar(self) -> _SiteCalendar:
        return _calendar(self.config)

    def price_import(self) -> np.ndarray:
        """``(n_steps, k)``: each episode's import prices (one series per start weekday)."""
        return self.calendar.prices.T[:, self.weekday]

    def scenario(self, j: int) -> IndustrialScenario:
        """Episode ``j`` as a scenario (its series are views of the columns; the site checks run)."""
        cal, cfg = self.calendar, self.config
        d, w = int(self.start_day[j]), int(self.weekday[j])
        billing = cal.billing(d)
        derived = {"hour_of_day": cal.hour_of_day, "day_of_week": cal.day_of_week[w], "net_kw": self.net_kw[:, j]}
        if cal.episode_billing:
            derived["_step_rate"] = [billing["demand_charge_eur_per_kw"]] * cal.n
            derived["_new_period"] = [False] * cal.n
        checked = self.__dict__.get("_checked", False)
        budget, value = (cal.budget_kwh, float(cal.terminal_value[w])) if checked else (None, None)
        return IndustrialScenario.from_arrays(
            derived, check=not checked, load_kw=self.load_kw[:, j], price_import=cal.price_rows[w],
            pv_kw=self.pv_kw[:, j], price_export=cal.price_export, battery=cal.battery,
            connection_kw=cfg.connection_kw, allow_export=cfg.allow_export, initial_peak_kw=0.0,
            charge_budget_kwh=budget, terminal_value_eur_per_kwh=value, start=cal.start_iso(d), dt_h=cfg.dt_h,
            **billing,
        )

    def check(self) -> None:
        """Raise the site checks' ValueError for the first episode that fails them (the checks of
        :class:`IndustrialScenario`, run on the episodes that the batched screen below cannot clear)."""
        cfg, cal = self.config, self.calendar
        conn = cfg.connection_kw
        if (cfg.calendar_fade_per_day == 0.0 and not cal.any_price_suspect and self.net_kw.max() <= conn
                and (not cfg.allow_export or self.net_kw.min() >= -conn)):  # the usual case: nothing to look at
            object.__setattr__(self, "_checked", True)
            return
        suspect = self.net_kw.max(axis=0) > conn
        if cfg.allow_export:
            suspect |= self.net_kw.min(axis=0) < -conn
        suspect |= cal.price_suspect[self.weekday]
        if cfg.calendar_fade_per_day != 0.0:  # calendar fade and forced discharge: every episode checked
            suspect[:] = True
        for j in np.flatnonzero(suspect).tolist():
            self.scenario(j)
        object.__setattr__(self, "_checked", True)  # every episode passed: scenarios skip the checks


def generate_industrial_batch(rngs: Sequence[np.random.Generator], cfg: IndustrialSiteConfig,
                              check: bool = True) -> IndustrialEpisodes:
    """Draw one industrial episode (load, PV, TOU prices, start date) from each of ``rngs``.

    Each generator's numbers are drawn in the order :func:`generate_industrial` draws them, so episode
    ``j`` equals ``generate_industrial(rngs[j], cfg)``; the arrays of all episodes are built at once.
    ``check`` runs :meth:`IndustrialEpisodes.check` (a ValueError for a site the scenario refuses).

    Load: a base load plus two weekday shifts with a lunch dip and a Saturday morning shift on the
    Saturdays drawn, times ``1 + AR(1) noise``, plus start-up spikes at working steps drawn without
    replacement. PV: the start day's clear-sky bell times a daily cloudiness factor.
    """
    cal = _calendar(cfg)
    count, n, days = len(rngs), cal.n, cfg.n_days + 1
    start_day = np.zeros(count, dtype=np.int64)
    saturday_u = np.empty((count, days))
    eps = np.empty((count, n))  # episode by episode while drawing; time first for the recursion
    x0 = np.empty(count)
    n_spikes = np.empty(count, dtype=np.int64)
    scale, spikes_mean, span = cal.noise_scale, cal.spikes_mean, 365 - cfg.n_days
    for i, rng in enumerate(rngs):  # first the draws that do not depend on earlier ones
        if cal.draw:
            start_day[i] = rng.integers(span)  # = rng.integers(0, span)
        rng.random(out=saturday_u[i])
        rng.standard_normal(out=eps[i])  # times scale below: rng.normal(0, scale, n), the same numbers
        x0[i] = cfg.noise * rng.standard_normal()  # = rng.normal(0, noise)
        n_spikes[i] = rng.poisson(spikes_mean)
    weekday = (cal.weekday0 + start_day) % 7
    on_saturday = cal.saturday_slot[:, weekday] & (saturday_u < cfg.saturday_shift_prob).T[cal.day]
    eps = np.multiply(eps.T, scale, order="C")
    noise = np.maximum(np.minimum(ar1(x0, eps), 4 * cfg.noise), -4 * cfg.noise)  # clipped to 4 sigma
    load = np.where(on_saturday, cal.saturday_load, cal.load_level[:, weekday]) * (1.0 + noise)
    episode, step = np.nonzero((on_saturday | cal.working[:, weekday]).T)  # working steps, episode by episode
    n_working = np.bincount(episode, minlength=count).tolist()
    first = [0, *accumulate(n_working)]
    spikes = n_spikes.tolist()
    clouds = np.empty((count, days)) if cfg.pv_kwp != 0 else None
    at, rows, kw = [], [], []
    for i, rng in enumerate(rngs):  # then the draws that depend on the first ones, in the same order
        k, m = spikes[i], n_working[i]
        if k and m:
            k = min(k, m)
            at.append(first[i] + rng.choice(m, size=k, replace=False))  # among the episode's working steps
            rows += [i] * k
            kw.append(rng.uniform(0.5, 1.0, k))
        if clouds is not None:
            clouds[i] = rng.beta(4.0, 1.6, days)
    if at:  # distinct steps within an episode: one addition each
        join = (lambda parts: parts[0]) if len(at) == 1 else np.concatenate
        load[step[join(at)], rows] += cfg.spike_kw * join(kw)
    load = np.maximum(load, 0.0)
    if clouds is None:
        pv = np.zeros((n, count))
    else:
        pv = cal.clear_sky_columns(start_day) * clouds.T[cal.day]
    load = _read_only(np.minimum(load, cfg.connection_kw + pv))
    episodes = IndustrialEpisodes(cfg, _read_only(start_day), _read_only(weekday), load, _read_only(pv),
                                  _read_only(load - pv))
    if check:
        episodes.check()
    return episodes


def generate_industrial(rng: np.random.Generator, cfg: IndustrialSiteConfig) -> IndustrialScenario:
    """Draw one industrial episode (load, PV, TOU prices, start date) from ``rng``
    (:func:`generate_industrial_batch` of one).

    It starts on the year's first Monday or, with ``random_start``, a day drawn from the
    ``365 - n_days`` days after it; an episode of a year or more starts on the first Monday without
    a draw (the drawing range would be empty), so its start stays in ``cfg.year``.
    """
    return generate_industrial_batch([rng], cfg).scenario(0)
