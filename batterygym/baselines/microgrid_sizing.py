"""Second-life storage sizing for the microgrid: pack counts per category from the station's mean day.

An integer programme after Marchesano et al. (2023), Eqs. 11-19 (their equations are not public; the
assumptions are listed in ``docs/microgrid.md``, "Storage sizing"). On the default scenario's mean day
(:func:`mean_day`) the residents' and the station's demand not met by PV and wind is the *deficit*, the
renewable output above the demand the *surplus*. With ``n_i`` second-life packs of category ``i``
(nominal capacity ``Cap_i``, state of health ``SoH_i``, power ``c_rate * Cap_i``), per day:

    minimise   value * (D - sum_t c_t)  +  sum_i k * price * Cap_i * SoH_i * n_i
    subject to 0 <= c_t <= d_t,  c_t <= sum_i c_rate * Cap_i * n_i          (discharge, each hour)
               0 <= g_t <= s_t,  g_t <= sum_i c_rate * Cap_i * n_i          (charge from the surplus)
               sum_t c_t / eta_d <= eta_c * sum_t g_t                        (what it stores it gave)
               sum_t c_t / eta_d <= sum_i window * SoH_i * Cap_i * n_i       (usable energy)
               n_a >= n_b + 1 for each ordering (a, b);  0 <= n_i <= max_count, integer
               |n_i - share_i * sum_j n_j| <= share_slack                    (the mix follows the fleet)

``D = sum_t d_t`` is the gap, ``value`` what an uncovered kWh costs (the grid price), ``k`` the capital
recovery factor plus O&M share, per day: the pack's price weighted by its SoH is paid over the horizon.
For given counts the covered energy has a closed form (:meth:`SizingProblem.covered_kwh`), so small
instances can be checked against brute force. :meth:`SizingResult.env_kwargs` turns the chosen packs
into ``MicrogridBSS-v0``'s storage keywords.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from batterygym.core.finance import Finance, capital_recovery_factor
from batterygym.core.microgrid_generator import LOAD_SHAPE, MicrogridConfig, pv_shape, storage_layout, wind_power
from batterygym.core.validation import check_fraction, check_nonnegative, check_positive

if TYPE_CHECKING:
    import pyomo.environ as pyo

DAYS_PER_YEAR = 365.25
QUANTILES = 4096  # midpoint quantiles per Weibull expectation (deterministic, error well below 0.1 %)
DEFAULT_MAX_COUNT = 30


def _weibull_quantiles(shape: float) -> np.ndarray:
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return (-np.log1p(-u)) ** (1.0 / shape)


@dataclass(frozen=True)
class DayProfile:
    """The mean day (24 hourly values, kW = kWh per hour) the storage is sized on."""

    load_kw: np.ndarray  # residents
    station_kw: np.ndarray  # the station recharging the packs it takes in, in the hour of the swap
    pv_kw: np.ndarray
    wind_kw: np.ndarray
    grid_price: np.ndarray  # EUR/kWh, mean over the starting weekdays
    margin: float  # demand variation allowance, a share of the demand

    @property
    def demand_kw(self) -> np.ndarray:
        return (self.load_kw + self.station_kw) * (1.0 + self.margin)

    @property
    def deficit_kw(self) -> np.ndarray:
        return np.maximum(0.0, self.demand_kw - self.pv_kw - self.wind_kw)

    @property
    def surplus_kw(self) -> np.ndarray:
        return np.maximum(0.0, self.pv_kw + self.wind_kw - self.demand_kw)

    @property
    def gap_value(self) -> float:
        """The grid price of the deficit's hours, weighted by the deficit (EUR/kWh)."""
        d = self.deficit_kw
        return float((d * self.grid_price).sum() / d.sum()) if d.sum() > 0 else float(self.grid_price.mean())


def mean_day(cfg: MicrogridConfig, margin: float | None = None) -> DayProfile:
    """The expected hourly profile of a day of ``cfg``'s episodes, from the generator's distributions.

    PV: ``kWp * shape * E[min(1, scale * Weibull)]``; wind: ``E[power(scale * Weibull)]``; residents:
    the peak times the daily shape (the noise has mean zero); station: the expected swaps of each hour
    times the mean energy a swapped pack takes (``Cap * (1 - mean arriving SoC) / eta``). ``margin``
    (default ``cfg.load_noise``) raises the demand to allow for its variation.
    """
    margin = cfg.load_noise if margin is None else margin
    check_nonnegative("margin", margin)
    k_pv = float(np.minimum(1.0, cfg.pv_weibull_scale * _weibull_quantiles(cfg.pv_weibull_shape)).mean())
    wind = float(wind_power(cfg.wind_weibull_scale * _weibull_quantiles(cfg.wind_weibull_shape), cfg).mean())
    mean_soc = cfg.soc_arrive_min + (cfg.soc_arrive_max - cfg.soc_arrive_min) * cfg.soc_beta_a / (
        cfg.soc_beta_a + cfg.soc_beta_b)
    per_swap = float(np.dot(cfg.demand_shares, cfg.pack_kwh)) * (1.0 - mean_soc) / cfg.pack_eta
    price = np.asarray(cfg.plan.grid_price)[:, :24].mean(axis=0)
    return DayProfile(cfg.load_peak_kw * np.array(LOAD_SHAPE), cfg.rate_per_hour * per_swap,
                      cfg.pv_kwp * k_pv * pv_shape(24), np.full(24, wind), price, float(margin))


def daily_cost_factor(finance: Finance) -> float:
    """The share of a pack's price paid per day: capital recovery over the horizon plus O&M, over a year."""
    return (capital_recovery_factor(finance.discount_rate, finance.horizon_years)
            + finance.om_share_per_year) / DAYS_PER_YEAR


def default_orderings(categories: tuple[str, ...], shares: tuple[float, ...]) -> tuple[tuple[str, str], ...]:
    """``(a, b)`` wherever category ``a``'s swap share exceeds ``b``'s: the storage's mix follows the fleet's."""
    return tuple((a, b) for (a, x), (b, y) in itertools.permutations(zip(categories, shares, strict=True), 2) if x > y)


@dataclass(frozen=True)
class SizingProblem:
    """One sizing instance: the day's deficit and surplus, the pack categories and the prices."""

    categories: tuple[str, ...]
    pack_kwh: tuple[float, ...]
    soh: tuple[float, ...]
    deficit_kw: tuple[float, ...]
    surplus_kw: tuple[float, ...]
    price_eur_per_kwh: float = 80.0  # pack price per kWh of remaining capacity
    gap_value_eur_per_kwh: float = 0.22  # what an uncovered kWh costs
    daily_cost_factor: float = dataclasses.field(default_factory=lambda: daily_cost_factor(Finance()))
    c_rate: float = 0.5
    window: float = 0.8  # usable share of the remaining capacity (the SoC window)
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    max_count: int = DEFAULT_MAX_COUNT
    orderings: tuple[tuple[str, str], ...] = ()  # (a, b): n_a >= n_b + 1
    shares: tuple[float, ...] = ()  # each category's share of the packs (empty: free mix)
    share_slack: float = 1.0  # |n_i - share_i * sum_j n_j| <= share_slack

    def __post_init__(self) -> None:
        for name in ("categories", "pack_kwh", "soh", "deficit_kw", "surplus_kw", "orderings", "shares"):
            object.__setattr__(self, name, tuple(tuple(x) if name == "orderings" else x for x in getattr(self, name)))
        n = len(self.categories)
        if n == 0 or len(set(self.categories)) != n:
            raise ValueError(f"categories must be unique and at least one, got {self.categories!r}")
        for name in ("pack_kwh", "soh") + (("shares",) if self.shares else ()):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must list one value per category ({n}), got {getattr(self, name)!r}")
        for q in self.pack_kwh:
            check_positive("pack_kwh", q)
        for h in self.soh:
            check_positive("soh", h)
            check_fraction("soh", h)
        if len(self.deficit_kw) != len(self.surplus_kw):
            raise ValueError(f"deficit_kw and surplus_kw must be equally long, got {len(self.deficit_kw)} and "
                             f"{len(self.surplus_kw)}")
        for name in ("deficit_kw", "surplus_kw"):
            for x in getattr(self, name):
                check_nonnegative(name, x)
        for name in ("price_eur_per_kwh", "gap_value_eur_per_kwh", "daily_cost_factor"):
            check_nonnegative(name, getattr(self, name))
        check_positive("c_rate", self.c_rate)
        for x in self.shares:
            check_fraction("shares", x)
        if self.shares and not math.isclose(sum(self.shares), 1.0, abs_tol=1e-9):
            raise ValueError(f"shares must sum to 1, got {self.shares!r}")
        check_nonnegative("share_slack", self.share_slack)
        for name in ("window", "eta_charge", "eta_discharge"):
            check_positive(name, getattr(self, name))
            check_fraction(name, getattr(self, name))
        if not isinstance(self.max_count, int) or isinstance(self.max_count, bool) or self.max_count < 0:
            raise ValueError(f"max_count must be a non-negative integer, got {self.max_count!r}")
        for pair in self.orderings:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ValueError(f"orderings must be pairs of two categories, got {pair!r}")
            for c in pair:
                if c not in self.categories:
                    raise ValueError(f"orderings: unknown category {c!r} (categories {self.categories!r})")
        if self.min_counts() is None:
            raise ValueError(f"max_count = {self.max_count!r} leaves no counts that satisfy the orderings "
                             f"{self.orderings!r}")

    def min_counts(self) -> dict[str, int] | None:
        """The smallest counts the orderings allow (longest chain below each category), None if none fit."""
        low = dict.fromkeys(self.categories, 0)
        for _ in range(len(self.categories) + 1):
            changed = False
            for a, b in self.orderings:
                if low[a] < low[b] + 1:
                    low[a], changed = low[b] + 1, True
            if not changed:
                break
        else:
            return None  # a cycle
        return low if max(low.values()) <= self.max_count else None

    def allowed(self, counts: dict[str, int]) -> bool:
        """Whether ``counts`` meet the bound, the orderings and the shares."""
        if any(not 0 <= counts[c] <= self.max_count for c in self.categories):
            return False
        if any(counts[a] < counts[b] + 1 for a, b in self.orderings):
            return False
        if not self.shares:
            return True
        total = sum(counts[c] for c in self.categories)
        return all(abs(counts[c] - x * total) <= self.share_slack + 1e-9
                   for c, x in zip(self.categories, self.shares, strict=True))

    def pack_cost(self) -> np.ndarray:
        """Each category's pack, per day: its price weighted by SoH, annualised (EUR/day)."""
        return self.daily_cost_factor * self.price_eur_per_kwh * np.array(self.pack_kwh) * np.array(self.soh)

    def covered_kwh(self, counts: dict[str, int]) -> float:
        """The deficit the storage can cover with ``counts`` in a day (the closed form of the LP in n)."""
        n = np.array([counts[c] for c in self.categories], dtype=np.float64)
        q = np.array(self.pack_kwh)
        power = self.c_rate * float(q @ n)
        usable = self.window * float((q * np.array(self.soh)) @ n)
        d, s = np.array(self.deficit_kw), np.array(self.surplus_kw)
        return float(min(np.minimum(d, power).sum(), self.eta_discharge * usable,
                         self.eta_charge * self.eta_discharge * np.minimum(s, power).sum()))

    def objective(self, counts: dict[str, int]) -> float:
        """The daily cost of ``counts``: the uncovered gap at its value plus the packs (EUR/day)."""
        n = np.array([counts[c] for c in self.categories], dtype=np.float64)
        gap = sum(self.deficit_kw) - self.covered_kwh(counts)
        return float(self.gap_value_eur_per_kwh * gap + self.pack_cost() @ n)

    @classmethod
    def from_config(cls, cfg: MicrogridConfig | None = None, finance: Finance | None = None,
                    soh: float | None = None, margin: float | None = None, gap_value: float | None = None,
                    max_count: int = DEFAULT_MAX_COUNT) -> SizingProblem:
        """The instance of ``cfg``'s mean day (default: the env's default config), packs of the station's
        categories at ``soh`` (default: the middle of the storage's SoH range), the storage's price,
        C-rate, SoC window and efficiencies, annualised with ``finance``."""
        cfg = cfg or MicrogridConfig()
        finance = finance or Finance()
        soh = 0.5 * (cfg.storage_soh_min + cfg.storage_soh_max) if soh is None else soh
        day = mean_day(cfg, margin)
        pack = storage_layout(np.random.default_rng(0), dataclasses.replace(cfg, n_storage=1))[0]
        return cls(
            categories=cfg.categories, pack_kwh=cfg.pack_kwh, soh=(soh,) * len(cfg.categories),
            deficit_kw=tuple(day.deficit_kw.tolist()), surplus_kw=tuple(day.surplus_kw.tolist()),
            price_eur_per_kwh=cfg.storage_price_eur_per_kwh,
            gap_value_eur_per_kwh=day.gap_value if gap_value is None else gap_value,
            daily_cost_factor=daily_cost_factor(finance),
            c_rate=cfg.storage_kw / cfg.storage_kwh, window=pack.soc_max - pack.soc_min,
            eta_charge=pack.eta_charge, eta_discharge=pack.eta_discharge, max_count=max_count,
            orderings=default_orderings(cfg.categories, cfg.demand_shares), shares=cfg.demand_shares)


@dataclass(frozen=True)
class SizingResult:
    """The chosen packs and what they do on the mean day."""

    problem: SizingProblem
    counts: dict[str, int]
    objective_eur_per_day: float
    covered_kwh: float
    status: str
    solve_seconds: float

    @property
    def nominal_kwh(self) -> float:
        p = self.problem
        return float(sum(self.counts[c] * q for c, q in zip(p.categories, p.pack_kwh, strict=True)))

    @property
    def remaining_kwh(self) -> float:
        p = self.problem
        return float(sum(self.counts[c] * q * h for c, q, h in zip(p.categories, p.pack_kwh, p.soh, strict=True)))

    @property
    def capex_eur(self) -> float:
        """The packs' price, per kWh of remaining capacity."""
        return self.problem.price_eur_per_kwh * self.remaining_kwh

    def env_kwargs(self) -> dict[str, Any]:
        """``MicrogridBSS-v0``'s storage keywords for these packs: the env's storage packs are alike, so the
        mix becomes as many packs of the mean nominal capacity, at the storage's C-rate (total energy
        and power kept)."""
        n = sum(self.counts.values())
        if n == 0:
            return {"n_storage": 0}
        kwh = self.nominal_kwh / n
        return {"n_storage": int(n), "storage_kwh": round(kwh, 6), "storage_kw": round(self.problem.c_rate * kwh, 6)}

    def to_dict(self) -> dict[str, Any]:
        p = self.problem
        return {
            "counts": dict(self.counts), "pack_kwh": dict(zip(p.categories, p.pack_kwh, strict=True)),
            "soh": dict(zip(p.categories, p.soh, strict=True)), "nominal_kwh": self.nominal_kwh,
            "remaining_kwh": self.remaining_kwh, "capex_eur": self.capex_eur,
            "objective_eur_per_day": self.objective_eur_per_day, "deficit_kwh": float(sum(p.deficit_kw)),
            "surplus_kwh": float(sum(p.surplus_kw)), "covered_kwh": self.covered_kwh,
            "gap_value_eur_per_kwh": p.gap_value_eur_per_kwh, "orderings": [list(o) for o in p.orderings],
            "max_count": p.max_count, "status": self.status, "solve_seconds": self.solve_seconds,
            "env_kwargs": self.env_kwargs(),
        }


def build_model(p: SizingProblem) -> pyo.ConcreteModel:
    """The integer programme of the module docstring."""
    import pyomo.environ as pyo  # here, not at import: the CLI reads this module's defaults without Pyomo

    m = pyo.ConcreteModel("microgrid_sizing")
    cats = list(p.categories)
    q = dict(zip(cats, p.pack_kwh, strict=True))
    h = dict(zip(cats, p.soh, strict=True))
    cost = dict(zip(cats, p.pack_cost().tolist(), strict=True))
    hours = range(len(p.deficit_kw))
    m.n = pyo.Var(cats, within=pyo.NonNegativeIntegers, bounds=(0, p.max_count))
    m.c = pyo.Var(hours, bounds=lambda _m, t: (0.0, p.deficit_kw[t]))
    m.g = pyo.Var(hours, bounds=lambda _m, t: (0.0, p.surplus_kw[t]))
    power = sum(p.c_rate * q[i] * m.n[i] for i in cats)
    m.discharge_power = pyo.Constraint([t for t in hours if p.deficit_kw[t] > 0], rule=lambda _m, t: m.c[t] <= power)
    m.charge_power = pyo.Constraint([t for t in hours if p.surplus_kw[t] > 0], rule=lambda _m, t: m.g[t] <= power)
    out = sum(m.c[t] for t in hours) / p.eta_discharge
    m.stored = pyo.Constraint(expr=out <= p.eta_charge * sum(m.g[t] for t in hours))
    m.usable = pyo.Constraint(expr=out <= sum(p.window * h[i] * q[i] * m.n[i] for i in cats))
    m.order = pyo.Constraint(range(len(p.orderings)),
                             rule=lambda _m, k: m.n[p.orderings[k][0]] >= m.n[p.orderings[k][1]] + 1)
    total = sum(m.n[i] for i in cats)
    share = dict(zip(cats, p.shares, strict=True)) if p.shares else {}
    m.share_hi = pyo.Constraint(list(share), rule=lambda _m, i: m.n[i] - share[i] * total <= p.share_slack)
    m.share_lo = pyo.Constraint(list(share), rule=lambda _m, i: m.n[i] - share[i] * total >= -p.share_slack)
    m.obj = pyo.Objective(expr=p.gap_value_eur_per_kwh * (sum(p.deficit_kw) - sum(m.c[t] for t in hours))
                          + sum(cost[i] * m.n[i] for i in cats), sense=pyo.minimize)
    return m


def solve_sizing(p: SizingProblem, time_limit: float = 60.0, mip_gap: float = 1e-9) -> SizingResult:
    """Solve the sizing programme with HiGHS; the counts are the optimum's unless ``status`` says
    ``time_limit``."""
    import pyomo.environ as pyo

    from batterygym.baselines.solver import _highs, solve_once

    check_positive("time_limit", time_limit)
    m = build_model(p)
    t0 = time.perf_counter()
    status, _, _ = solve_once(m, _highs(time_limit, mip_gap), "microgrid storage sizing",
                              lambda: f"no counts within max_count = {p.max_count} meet the orderings "
                                      f"{p.orderings!r} and the shares {p.shares!r}")
    seconds = time.perf_counter() - t0
    counts = {i: int(round(pyo.value(m.n[i]))) for i in p.categories}
    return SizingResult(p, counts, p.objective(counts), p.covered_kwh(counts), status, seconds)


def brute_force(p: SizingProblem) -> tuple[dict[str, int], float]:
    """The best counts by enumeration of every count vector within ``max_count`` (small instances)."""
    best: tuple[dict[str, int], float] | None = None
    for combo in itertools.product(range(p.max_count + 1), repeat=len(p.categories)):
        counts = dict(zip(p.categories, combo, strict=True))
        if not p.allowed(counts):
            continue
        v = p.objective(counts)
        if best is None or v < best[1] - 1e-12:
            best = (counts, v)
    if best is None:
        raise ValueError(f"no counts within max_count = {p.max_count} meet the orderings and shares")
    return best


__all__ = ["DayProfile", "SizingProblem", "SizingResult", "brute_force", "build_model", "daily_cost_factor",
           "default_orderings", "mean_day", "solve_sizing"]
