"""Seeded V2G episodes: the EVs' days and Italian-like prices (``SOURCES.md`` section 4).

Drivers [src]: each day every EV arrives at a whole hour in ``arrival_hours`` (06-09) and leaves at one in
``departure_hours`` (16-19), drawn anew per day and vehicle. Its arriving SoC is uniform in
``arrival_soc`` (the source draws it at random, distribution unstated: ours) and it needs a SoC uniform in
``required_soc`` at departure (the source requires 0.99 for everyone: set both ends to 0.99 for that).

Prices, hourly, EUR/MWh, shaped after the source's data (1 Aug - 31 Oct 2019) and matching its statistics:

- energy (GME PUN [src]: mean 51.18, min 20.0, max 99.61; hourly mean lowest ~40.7 at hour 5, peaks ~67.4
  at 20 and ~66.5 at 21): the hourly-mean shape times a day level (lognormal, a weekend discount) and AR(1)
  hourly noise, clipped to [20.0, 99.61];
- regulation down (Terna NORD [src]: mean 27.05, range 0-38.15, nonzero in 99.8 % of hours, ~24.4 at night to
  ~28.5 in the evening): the shape plus normal noise, clipped, zero in 0.2 % of hours;
- regulation up (mean 64.81, zero in 27.9 % of hours [src], nonzero mean 89.84, max 220.6, hourly mean ~41 at
  01-02 to 77-79 at 20-21): zero in 27.9 % of hours, else lognormal around the shape / 0.721, capped.

``tests/test_v2g_generator.py`` checks the generated quarter against these numbers.

Real prices instead: :func:`load_v2g_prices` reads an hourly CSV in the layout of the source's data
(columns ``timestamp``, ``energy_eur_per_mwh`` (PUN, may be negative), ``reg_up_eur_per_mwh`` and
``reg_down_eur_per_mwh`` (>= 0); whole days from 00:00), and :func:`v2g_scenario_from_prices` adds the
EVs' days drawn as above (seeded) for those days.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.v2g import (
    DRIVER_FEE_EUR_PER_KWH,
    EXPECTED_DOWN,
    EXPECTED_UP,
    V2GScenario,
    ev_battery,
)
from batterygym.core.validation import (
    check_field_types,
    check_fraction,
    check_nonnegative,
    check_positive,
    from_known_kwargs,
)

# hourly means of the source's data (hour 0 = 00:00-01:00), rescaled below to the source's overall means
_ENERGY_SHAPE = np.array([46.5, 43.5, 42.0, 41.2, 40.9, 40.7, 42.5, 47.0, 51.5, 53.0, 52.0, 50.5, 48.5, 46.5,
                          46.0, 47.0, 49.5, 53.0, 57.5, 62.5, 67.4, 66.5, 59.0, 51.0])
_DOWN_SHAPE = np.array([24.4, 24.4, 24.5, 24.6, 24.8, 25.2, 26.0, 26.8, 27.3, 27.5, 27.5, 27.4, 27.3, 27.2, 27.2,
                        27.3, 27.6, 28.0, 28.3, 28.5, 28.5, 28.4, 27.8, 26.5])
_UP_SHAPE = np.array([46, 41, 41, 43, 46, 50, 56, 62, 67, 69, 70, 70, 69, 68, 68, 69, 71, 73, 75, 77, 79, 78, 72,
                      58], dtype=np.float64)
SOURCE_STATS = {  # [src] SOURCES.md section 4, EUR/MWh
    "energy_mean": 51.18, "energy_min": 20.0, "energy_max": 99.61,
    "down_mean": 27.05, "down_max": 38.15, "down_zero_share": 0.002,
    "up_mean": 64.81, "up_zero_share": 0.279, "up_nonzero_mean": 89.84, "up_max": 220.6,
}
# the generator's floors and caps per market (EUR/MWh): the observation's true bounds
PRICE_BOUNDS = {"energy_price": (SOURCE_STATS["energy_min"], SOURCE_STATS["energy_max"]),
                "reg_up_price": (0.0, SOURCE_STATS["up_max"]), "reg_down_price": (0.0, SOURCE_STATS["down_max"])}
QUARTER_START = np.datetime64("2019-08-01")
QUARTER_DAYS = 92  # 1 Aug - 31 Oct 2019
HOURS_PER_DAY = 24
_QUARTER_START_DAY = int(QUARTER_START.astype(np.int64))  # days since 1970-01-01


# An episode's arrays (the scenario's per-hour-and-EV ones, the env's observation rows and state) take about
# 80-100 bytes per EV and hour (measured with tracemalloc), plus per hour its prices and the look-ahead windows
# (about 0.6 KB at lookahead 24). A config whose estimate exceeds MAX_EPISODE_BYTES is refused at construction,
# before anything is allocated: ``n_days=100000`` would otherwise fill the memory for minutes and fail.
BYTES_PER_EV_HOUR = 96
BYTES_PER_HOUR = 1024
MAX_EPISODE_BYTES = 4 * 2**30  # 4 GiB: 100 EVs for about 12,900 days


def episode_bytes(n_days: int, n_evs: int) -> int:
    """Estimated memory (bytes) of a V2G episode of ``n_days`` days with ``n_evs`` EVs in the env."""
    return 24 * n_days * (n_evs * BYTES_PER_EV_HOUR + BYTES_PER_HOUR)


def check_episode_memory(n_days: int, n_evs: int) -> None:
    """Refuse an episode whose estimated memory exceeds :data:`MAX_EPISODE_BYTES` (naming the estimate)."""
    need = episode_bytes(n_days, n_evs)
    if need > MAX_EPISODE_BYTES:
        raise ValueError(
            f"n_days={n_days} with n_evs={n_evs} needs about {need / 2**30:.1f} GiB "
            f"({n_days} days x 24 h x {n_evs} EVs x ~{BYTES_PER_EV_HOUR} B), above the limit of "
            f"{MAX_EPISODE_BYTES / 2**30:.0f} GiB (batterygym.core.v2g_generator.MAX_EPISODE_BYTES): "
            "use fewer days or EVs"
        )


@functools.lru_cache(maxsize=16)
def _ev_battery(*args: float) -> BatteryParams:
    return ev_battery(*args)


def _pair(name: str, value: Any, lo: float, hi: float, integer: bool = False) -> tuple:
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
    a, b = value
    for v in (a, b):
        if integer and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)):
            raise ValueError(f"{name} must hold whole hours, got {value!r}")
        if not integer and not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
            raise ValueError(f"{name} must hold numbers, got {value!r}")
        if not lo <= v <= hi:
            raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value!r}")
    if a > b:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {value!r}")
    return (int(a), int(b)) if integer else (float(a), float(b))


@dataclass(frozen=True)
class V2GConfig:
    """What a V2G episode looks like; every field is a keyword of ``V2G-v0`` (plain values, JSON-clean).

    EVs [src]: ``capacity_kwh`` 24, ``charger_kw`` 7.2, ``efficiency`` 0.9 each way, wear from
    ``replacement_eur_per_kwh`` 200 over ``cycle_life`` full cycles (3000: ours). Markets [src]:
    ``expected_up``/``expected_down`` deployment shares, ``driver_fee_eur_per_kwh``. ``random_start`` draws
    the first day within the source's quarter (weekends lower the energy price); else it is 1 Aug 2019.
    An episode whose estimated memory (``episode_bytes(n_days, n_evs)``, about 100 bytes per EV and hour) exceeds
    ``MAX_EPISODE_BYTES`` (4 GiB) is refused.
    """

    n_evs: int = 100
    n_days: int = 1
    capacity_kwh: float = 24.0
    charger_kw: float = 7.2
    efficiency: float = 0.9
    replacement_eur_per_kwh: float = 200.0
    cycle_life: float = 3000.0
    arrival_hours: tuple[int, int] = (6, 9)
    departure_hours: tuple[int, int] = (16, 19)
    arrival_soc: tuple[float, float] = (0.2, 0.8)
    required_soc: tuple[float, float] = (0.8, 0.99)
    expected_up: float = EXPECTED_UP
    expected_down: float = EXPECTED_DOWN
    driver_fee_eur_per_kwh: float = DRIVER_FEE_EUR_PER_KWH
    random_start: bool = True
    energy_day_sigma: float = 0.15
    energy_noise: float = 0.07
    weekend_discount: float = 0.1
    down_noise_eur_per_mwh: float = 4.0
    up_sigma: float = 0.4

    def __post_init__(self) -> None:
        for name in ("n_evs", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        check_field_types(self)  # bools, integers and numbers where the annotations say
        check_episode_memory(self.n_days, self.n_evs)
        for name in ("capacity_kwh", "charger_kw"):
            check_positive(name, getattr(self, name))
        set_ = object.__setattr__
        set_(self, "arrival_hours", _pair("arrival_hours", self.arrival_hours, 0, 23, integer=True))
        set_(self, "departure_hours", _pair("departure_hours", self.departure_hours, 1, 24, integer=True))
        if self.departure_hours[0] <= self.arrival_hours[1]:
            raise ValueError(f"departure_hours {self.departure_hours} must start after the last arrival hour "
                             f"{self.arrival_hours[1]}")
        set_(self, "arrival_soc", _pair("arrival_soc", self.arrival_soc, 0.0, 1.0))
        set_(self, "required_soc", _pair("required_soc", self.required_soc, 0.0, 1.0))
        for name in ("energy_day_sigma", "energy_noise", "down_noise_eur_per_mwh", "up_sigma"):
            check_nonnegative(name, getattr(self, name))
        check_fraction("weekend_discount", self.weekend_discount)
        b = self.battery()  # the battery fields are checked by BatteryParams itself
        dwell = self.departure_hours[0] - self.arrival_hours[1]
        worst = (self.required_soc[1] - self.arrival_soc[0]) * self.capacity_kwh
        if worst > b.eta_charge * b.p_charge_kw * dwell:
            raise ValueError(
                f"an EV arriving at hour {self.arrival_hours[1]} with SoC {self.arrival_soc[0]} could not reach "
                f"SoC {self.required_soc[1]} by hour {self.departure_hours[0]} at {self.charger_kw} kW: "
                "narrow arrival_soc/required_soc or the hours"
            )

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> V2GConfig:
        """Build from keywords, naming any unknown one (env kwargs go through here)."""
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        return from_known_kwargs(cls, "V2G", kwargs)

    @property
    def n_steps(self) -> int:
        return 24 * self.n_days

    def battery(self) -> BatteryParams:
        return _ev_battery(self.capacity_kwh, self.charger_kw, self.efficiency, self.replacement_eur_per_kwh,
                          self.cycle_life)


_ENERGY_MEANS = _ENERGY_SHAPE * SOURCE_STATS["energy_mean"] / _ENERGY_SHAPE.mean()
_DOWN_MEANS = _DOWN_SHAPE * SOURCE_STATS["down_mean"] / _DOWN_SHAPE.mean()
_UP_NONZERO_MEANS = _UP_SHAPE * SOURCE_STATS["up_mean"] / _UP_SHAPE.mean() / (1.0 - SOURCE_STATS["up_zero_share"])
AR1_PHI = 0.7  # hour-to-hour persistence of the energy price's noise
_ZERO_SHARES = np.array([[SOURCE_STATS["down_zero_share"]], [SOURCE_STATS["up_zero_share"]]])
# the prices' floors and caps, energy, reg-up (a lognormal: positive already), reg-down
_PRICE_FLOORS = np.array([[SOURCE_STATS["energy_min"]], [0.0], [0.0]])
_PRICE_CAPS = np.array([[SOURCE_STATS["energy_max"]], [SOURCE_STATS["up_max"]], [SOURCE_STATS["down_max"]]])


@functools.lru_cache(maxsize=8)
def _ar1_matrix(n: int) -> np.ndarray:
    """``L`` with ``L @ eps`` the AR(1) path ``x_t = phi x_(t-1) + sqrt(1 - phi^2) eps_t``, ``x_0 = eps_0``."""
    k = np.arange(n)
    lag = k[:, None] - k[None, :]
    m = np.where(lag >= 0, AR1_PHI ** np.maximum(lag, 0), 0.0) * np.sqrt(1.0 - AR1_PHI ** 2)
    m[:, 0] = AR1_PHI ** k
    m.setflags(write=False)
    return m


def _ar1(eps: np.ndarray) -> np.ndarray:
    """AR(1) paths of the rows of ``eps`` ``(M, n)``; each row's is what ``L @ row`` gives, bit for bit."""
    n = eps.shape[1]
    if n <= 168:  # a matrix product beats the loop for episodes up to a week
        return np.matmul(_ar1_matrix(n), eps[:, :, None])[:, :, 0]
    x = np.empty_like(eps)
    x[:, 0] = eps[:, 0]
    c = np.sqrt(1.0 - AR1_PHI ** 2)
    for t in range(1, n):
        x[:, t] = AR1_PHI * x[:, t - 1] + c * eps[:, t]
    return x


class V2GDraws(NamedTuple):
    """The random numbers of ``M`` episodes, one generator each, stacked. One generator draws, in this order:
    the start day (if ``random_start``), the arrival and the departure hours, uniforms for the arriving then the
    required SoC, standard normals for the day levels, the energy noise, the reg-down and the reg-up noise, and
    uniforms for the hours without reg-down, then reg-up. (``rng.uniform(lo, hi)`` and ``rng.normal(mu, s)``
    are ``lo + (hi - lo) u`` and ``mu + s z`` of the same stream, bit for bit, so one call draws each block.)"""

    offset: np.ndarray  # (M,) start day within the quarter
    arrival_hour: np.ndarray  # (M, D, N)
    departure_hour: np.ndarray  # (M, D, N)
    soc: np.ndarray  # (M, 2, D, N) uniforms in [0, 1)
    normal: np.ndarray  # (M, D + 3 T)
    zero: np.ndarray  # (M, 2, T) uniforms in [0, 1)


def _draw_days(rng: np.random.Generator, cfg: V2GConfig, arrival: np.ndarray, departure: np.ndarray,
               soc: np.ndarray) -> None:
    """One episode's EV days, drawn into the given arrays ``(D, N)``, ``(D, N)`` and ``(2, D, N)``."""
    shape = (cfg.n_days, cfg.n_evs)
    arrival[...] = rng.integers(cfg.arrival_hours[0], cfg.arrival_hours[1] + 1, size=shape)
    departure[...] = rng.integers(cfg.departure_hours[0], cfg.departure_hours[1] + 1, size=shape)
    rng.random(out=soc)


def draw_episodes(rngs: list[np.random.Generator], cfg: V2GConfig) -> V2GDraws:
    """One episode's random numbers from each generator, in the order :func:`generate_v2g` draws them."""
    m, d, n, t = len(rngs), cfg.n_days, cfg.n_evs, cfg.n_steps
    offset = np.zeros(m, dtype=np.int64)
    arrival, departure = np.empty((m, d, n), dtype=np.int64), np.empty((m, d, n), dtype=np.int64)
    soc, normal, zero = np.empty((m, 2, d, n)), np.empty((m, d + 3 * t)), np.empty((m, 2, t))
    span = max(QUARTER_DAYS - d, 0) + 1
    for j, rng in enumerate(rngs):
        if cfg.random_start:
            offset[j] = rng.integers(0, span)
        _draw_days(rng, cfg, arrival[j], departure[j], soc[j])
        rng.standard_normal(out=normal[j])
        rng.random(out=zero[j])
    return V2GDraws(offset, arrival, departure, soc, normal, zero)


@functools.lru_cache(maxsize=16)
def _affine(lows: tuple[float, ...], scales: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(low, scale)`` as ``(k, 1, 1)`` arrays, to map ``k`` stacked blocks of draws at once."""
    return np.array(lows).reshape(-1, 1, 1), np.array(scales).reshape(-1, 1, 1)


def _socs(cfg: V2GConfig, soc: np.ndarray) -> np.ndarray:
    """Arriving and required SoC ``(..., 2, D, N)`` from the uniforms ``(..., 2, D, N)`` (``lo + (hi - lo) u``)."""
    (a0, a1), (r0, r1) = cfg.arrival_soc, cfg.required_soc
    low, scale = _affine((a0, r0), (a1 - a0, r1 - r0))
    return low + scale * soc


@functools.lru_cache(maxsize=16)
def _day_factors(n_days: int, weekend_discount: float) -> np.ndarray:
    """The energy price's weekend factor of each day ``(offsets, n_days)``, per start offset in the quarter."""
    day_index = _QUARTER_START_DAY + np.arange(max(QUARTER_DAYS - n_days, 0) + 1)[:, None] + np.arange(n_days)
    weekend = ((day_index - 4) % 7) >= 5  # 1970-01-01 was a Thursday
    f = np.where(weekend, 1.0 - weekend_discount, 1.0)
    f.setflags(write=False)
    return f


@functools.lru_cache(maxsize=16)
def _normal_map(n_days: int, day_sigma: float, energy_noise: float, down_noise: float, up_sigma: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, s)`` per standard normal of an episode (``mu + s z`` is ``rng.normal(mu, s)``'s draw): the day
    levels' and the reg-up noise's logs (lognormal, mean 1), the energy price's and the reg-down's noise."""
    n = HOURS_PER_DAY * n_days
    mu = np.concatenate([np.full(n_days, -0.5 * day_sigma ** 2), np.zeros(2 * n), np.full(n, -0.5 * up_sigma ** 2)])
    s = np.concatenate([np.full(n_days, day_sigma), np.full(n, energy_noise), np.full(n, down_noise),
                        np.full(n, up_sigma)])
    return mu, s


def _prices(cfg: V2GConfig, draws: V2GDraws) -> np.ndarray:
    """Hourly energy, reg-up and reg-down prices (EUR/MWh) of every episode ``(M, 3, T)``."""
    m, d, n = draws.normal.shape[0], cfg.n_days, cfg.n_steps
    mu, s = _normal_map(d, cfg.energy_day_sigma, cfg.energy_noise, cfg.down_noise_eur_per_mwh, cfg.up_sigma)
    x = mu + s * draws.normal  # (M, D + 3 T): day levels, energy noise, reg-down noise, reg-up noise
    level = np.exp(x[:, :d]) * _day_factors(d, cfg.weekend_discount)[draws.offset]
    noise = _ar1(x[:, d:d + n])
    out = np.empty((m, 3, n))
    by_day = out.reshape(m, 3, d, HOURS_PER_DAY)
    np.multiply(_ENERGY_MEANS * level[:, :, None], (1.0 + noise).reshape(m, d, HOURS_PER_DAY), out=by_day[:, 0])
    np.add(_DOWN_MEANS, x[:, d + n:d + 2 * n].reshape(m, d, HOURS_PER_DAY), out=by_day[:, 2])
    np.multiply(_UP_NONZERO_MEANS, np.exp(x[:, d + 2 * n:]).reshape(m, d, HOURS_PER_DAY), out=by_day[:, 1])
    np.minimum(np.maximum(out, _PRICE_FLOORS, out=out), _PRICE_CAPS, out=out)
    # no reg-down in some hours, no reg-up in others (the draws' rows in that order; the block's are up, down)
    out[:, :0:-1] *= draws.zero >= _ZERO_SHARES
    return out.round(2, out=out)


def build_episodes(cfg: V2GConfig, draws: V2GDraws) -> dict[str, np.ndarray]:
    """The scenario arrays of every drawn episode, stacked: :class:`V2GScenario`'s fields of the same names
    with a leading ``M`` axis (prices as ``(M, T)`` rows of one ``(M, 3, T)`` block)."""
    socs, prices = _socs(cfg, draws.soc), _prices(cfg, draws)
    for a in (draws.arrival_hour, draws.departure_hour, socs, prices):
        a.setflags(write=False)  # the scenarios' arrays are views of these
    return {"arrival_hour": draws.arrival_hour, "departure_hour": draws.departure_hour, "arrival_soc": socs[:, 0],
            "required_soc": socs[:, 1], "energy_price": prices[:, 0], "reg_up_price": prices[:, 1],
            "reg_down_price": prices[:, 2]}


@functools.lru_cache(maxsize=512)
def start_day(offset: int) -> str:
    """The ISO date of the episode starting ``offset`` days into the source's quarter."""
    return str(QUARTER_START + np.timedelta64(int(offset), "D"))


def episode_of(cfg: V2GConfig, arrays: dict[str, np.ndarray], offset: np.ndarray, i: int) -> V2GScenario:
    """Episode ``i`` of :func:`build_episodes`'s arrays as a scenario (its arrays are views of them)."""
    return V2GScenario.from_valid(ev=cfg.battery(), expected_up=cfg.expected_up, expected_down=cfg.expected_down,
                                  driver_fee_eur_per_kwh=cfg.driver_fee_eur_per_kwh, start=start_day(int(offset[i])),
                                  **{name: a[i] for name, a in arrays.items()})


def _scenario(cfg: V2GConfig, evs: dict[str, np.ndarray], prices: dict[str, np.ndarray], start: str) -> V2GScenario:
    return V2GScenario(ev=cfg.battery(), expected_up=cfg.expected_up, expected_down=cfg.expected_down,
                       driver_fee_eur_per_kwh=cfg.driver_fee_eur_per_kwh, start=start, **evs, **prices)


def generate_v2g(rng: np.random.Generator, cfg: V2GConfig) -> V2GScenario:
    """One episode: a start day, the EVs' days and the prices, all drawn from ``rng``."""
    draws = draw_episodes([rng], cfg)
    return episode_of(cfg, build_episodes(cfg, draws), draws.offset, 0)


def generate_quarter(seed: int = 0, **config: Any) -> V2GScenario:
    """The source's simulation span: 92 days from 1 Aug 2019 (``batterygym solve v2g --days 92``)."""
    cfg = V2GConfig.from_kwargs(**{"n_days": QUARTER_DAYS, "random_start": False, **config})
    return generate_v2g(np.random.default_rng(seed), cfg)


# ---------------------------------------------------------------------------------------------- CSV
PRICE_COLUMNS = {"energy_eur_per_mwh": "energy_price", "reg_up_eur_per_mwh": "reg_up_price",
                 "reg_down_eur_per_mwh": "reg_down_price"}  # CSV column -> V2GScenario field
_NONNEGATIVE = ("reg_up_eur_per_mwh", "reg_down_eur_per_mwh")  # capacity payments; the PUN may be negative


@dataclass(frozen=True)
class V2GPrices:
    """Hourly prices of whole days (EUR/MWh) from ``start`` (the first day, ISO date), as read from a CSV."""

    start: str
    energy_price: np.ndarray
    reg_up_price: np.ndarray
    reg_down_price: np.ndarray

    @property
    def n_days(self) -> int:
        return self.energy_price.shape[0] // 24

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in PRICE_COLUMNS.values()}


def load_v2g_prices(path: str | os.PathLike[str], timezone: str | None = None,
                    notes: list[str] | None = None) -> V2GPrices:
    """Read an hourly V2G price CSV (module docstring): whole days of 24 rows from 00:00.

    Timestamps follow :func:`batterygym.core.timestamps.regular_steps` (``timezone`` reads naive ones as
    local time there; ``notes`` receives what was done). Bad data raises ``ValueError`` naming file,
    column, value and line.
    """
    from batterygym.core.tables import TIMESTAMP, parse_number, read_table
    from batterygym.core.timestamps import regular_steps

    path = Path(path)
    required = (TIMESTAMP, *PRICE_COLUMNS)
    header, rows, lines, col = read_table(path, "V2G price CSV", required)
    cells = [row[col[TIMESTAMP]] for row in rows]
    start, dt_h = regular_steps(path, TIMESTAMP, cells, lines, timezone, notes)
    where = f"{path}: column {TIMESTAMP!r}"
    if dt_h != 1.0:
        raise ValueError(f"{where}, line {lines[1]}: steps of {dt_h:g} h ({cells[0].strip()!r} to "
                         f"{cells[1].strip()!r}); V2G prices are hourly")
    if not start.endswith("T00:00"):
        raise ValueError(f"{where}, line {lines[0]}: the first row {cells[0].strip()!r} is not at 00:00; "
                         "the prices must cover whole days from midnight")
    if len(rows) % 24:
        raise ValueError(f"{where}, line {lines[-1]}: the last day is partial: {len(rows)} hourly rows are "
                         f"{len(rows) // 24} whole day(s) and {len(rows) % 24} hour(s) (last row "
                         f"{cells[-1].strip()!r}); give whole days of 24 hours")
    prices = {field: np.array([parse_number(path, name, row[col[name]], line, name in _NONNEGATIVE)
                               for row, line in zip(rows, lines, strict=True)])
              for name, field in PRICE_COLUMNS.items()}
    return V2GPrices(start=start[:10], **prices)


def v2g_scenario_from_prices(prices: V2GPrices, rng: np.random.Generator, cfg: V2GConfig | None = None
                             ) -> V2GScenario:
    """A scenario with these prices and the EVs' days drawn from ``rng`` as ``cfg`` says (its ``n_days``
    becomes the prices' days; ``random_start`` is moot: the prices fix the start)."""
    cfg = dataclasses.replace(cfg or V2GConfig(), n_days=prices.n_days)
    shape = (cfg.n_days, cfg.n_evs)
    arrival, departure, soc = np.empty(shape, dtype=np.int64), np.empty(shape, dtype=np.int64), np.empty((2, *shape))
    _draw_days(rng, cfg, arrival, departure, soc)
    socs = _socs(cfg, soc)
    evs = {"arrival_hour": arrival, "departure_hour": departure, "arrival_soc": socs[0], "required_soc": socs[1]}
    return _scenario(cfg, evs, prices.as_dict(), prices.start)
