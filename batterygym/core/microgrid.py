"""A microgrid with a battery swapping station (BSS): its scenario, its hourly step and its money.

The site (Marchesano et al., Energies 2023, 16(18) 6576): PV and a wind turbine, a residential load,
a battery swapping station with packs of categories A-D, a storage of second-life packs, and a grid
connection with a time-of-use import price (or none: ``off_grid``). Hourly steps, ``dt = 1 h``, so a
power in kW held for a step is that many kWh.

**Station (slot model).** Category ``c`` has capacity ``Q_c`` (kWh) and ``n_c`` slots; each slot ``j``
holds one pack with energy ``e_j`` in ``{Q_c} U [0, Q_c - eps]`` (``eps`` = :data:`FULL_GAP_KWH`): a pack
is *full* exactly when ``e_j == Q_c``, and packs of a category are identical when full (their own fade
is ignored at the station). Hour ``t``:

1. *Swaps.* The category's requests of hour ``t`` (in arrival order, each with its arriving energy
   ``a_r = soc_r * Q_c``) are served first come, first served by the full slots in ascending slot
   order while full packs last; the rest are lost. A served slot takes the arriving pack:
   ``e_j <- a_r``. Service is forced: a request is lost only when no full pack is left.
2. *Charging.* Slot ``j`` draws ``p_j`` in ``[0, Q_c * c_max]`` (1C) and stores ``eta * p_j``:
   ``e_j' = e_j + eta * p_j``, with ``e_j'`` in ``{Q_c} U [0, Q_c - eps]``. The part above the standard
   rate, ``f_j = max(0, p_j - c_std * Q_c)`` (0.2C), is fast charging and pays extra wear.

**Storage.** Second-life packs :class:`BatteryParams` (the shared battery equations: SoC window on the
fading capacity, efficiencies, wear per kWh of throughput); signed power per pack, never charging and
discharging at once.

**Balance.** ``X_t = L_t + sum_j p_j + sum_k c_k - sum_k d_k - R_t`` (load, station, storage charge,
storage discharge, renewables ``R_t = PV_t + wind_t``). The deficit ``max(0, X_t)`` is imported
(grid-connected, at most ``import_limit_kw``) or is unserved residential load (``off_grid``, at most
``L_t``, so charging never exceeds renewables plus storage discharge); a surplus ``max(0, -X_t)`` is
curtailed for free. So ``R_t + D_t + grid_t + unserved_t = L_t + P_t + C_t + curtailed_t`` every hour.

**Money** (EUR per hour, the env's reward)::

    swaps     sum_{served r} (swap_fee + swap_price * (Q_c - a_r)) - lost_penalty * lost_t
    residents tariff_t * (L_t - unserved_t)
    grid      - grid_price_t * grid_t                     (grid_price = 0.9 * tariff: the source's cut)
    unserved  - voll * unserved_t
    wear      - pack_wear * sum_j p_j - fast_extra * sum_j f_j - sum_k wear_k * (c_k + d_k)
    terminal  + terminal_value * (sum_j e_j,T - e_j,0 + sum_k E_k,T - E_k,0)      (last hour only)

With ``cover_price_t = grid_price_t`` (grid-connected) or ``tariff_t + voll`` (off-grid) the
residents' and deficit terms are ``tariff_t * L_t - cover_price_t * max(0, X_t)``: the MILP's form.

:class:`~batterygym.core.microgrid_state.MicrogridState` applies a requested set-point after projecting
it onto this feasible set (see its docstring); the env and :func:`simulate` step through it, the vector
env through its batched form :class:`~batterygym.core.microgrid_batch.MicrogridBatchState`, and the MILP
writes the same equations from the same scenario arrays. :func:`idle_rewards` is the money of the idle
policy (every action zero) computed from the arrays alone.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from batterygym.core.battery import BatteryBank, BatteryParams
from batterygym.core.validation import as_series, check_fraction, check_nonnegative, check_positive

DT_H = 1.0  # hourly steps
FULL_GAP_KWH = 1e-3  # eps: a pack is full at Q, or holds at most Q - eps
POWER_TOL_KW = 1e-5  # a charge may exceed 1C by this much to end exactly full (solver and float32 rounding)
LIMIT_TOL_KW = 1e-4  # the deficit may exceed its limit by this much before charging is scaled down


class Request(NamedTuple):
    """One swap request: its hour, category, arriving energy (kWh) and the revenue if served (EUR)."""

    hour: int
    category: int
    energy_kwh: float
    revenue_eur: float


def res_scale(pv_kwp: float, wind_rated_kw: float) -> float:
    """The renewables' rated output (kW), the scale of the observation's renewable share; 1 without
    renewables (a standalone station), whose share is then 0."""
    total = pv_kwp + wind_rated_kw
    return total if total > 0.0 else 1.0


@dataclass(frozen=True)
class MicrogridScenario:
    """One episode of the microgrid: its station, storage, every hourly series and every swap request.

    Station: ``categories`` (names), ``pack_kwh`` (capacity per category), ``n_packs`` (slots per
    category); slots are numbered category by category, and ``slot_e0_kwh`` is each slot's initial
    energy (``Q_c`` = full, or at most ``Q_c - FULL_GAP_KWH``). Requests: ``swap_hour``,
    ``swap_category``, ``swap_soc`` (arriving SoC, share of ``Q_c``), one entry per request, in arrival
    order (hours non-decreasing). ``expected_swaps`` ``(T, C)`` is the forecast the agent sees.
    Series ``(T,)`` in kW or EUR/kWh. ``storage``: the second-life packs (calendar fade 0).
    """

    categories: tuple[str, ...]
    pack_kwh: tuple[float, ...]
    n_packs: tuple[int, ...]
    slot_e0_kwh: np.ndarray
    storage: tuple[BatteryParams, ...]
    pv_kw: np.ndarray
    wind_kw: np.ndarray
    load_kw: np.ndarray
    tariff_eur_per_kwh: np.ndarray
    grid_price_eur_per_kwh: np.ndarray
    expected_swaps: np.ndarray
    swap_hour: np.ndarray
    swap_category: np.ndarray
    swap_soc: np.ndarray
    import_limit_kw: float = 600.0
    off_grid: bool = False
    swap_fee_eur: float = 3.0
    swap_price_eur_per_kwh: float = 0.45
    lost_swap_penalty_eur: float = 10.0
    voll_eur_per_kwh: float = 3.0
    pack_eta: float = 0.95
    max_c_rate: float = 1.0
    standard_c_rate: float = 0.2
    pack_wear_eur_per_kwh: float = 0.025
    fast_extra_eur_per_kwh: float = 0.02
    terminal_value_eur_per_kwh: float = 0.0
    pv_kwp: float = 500.0
    wind_rated_kw: float = 500.0
    start: str = "2025-07-01T00:00"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("categories", "pack_kwh", "n_packs"):
            v = getattr(self, name)
            if isinstance(v, str) or not isinstance(v, Sequence) or not v:
                raise ValueError(f"{name} must be a non-empty sequence, got {v!r}")
        n_c = len(self.categories)
        if len(self.pack_kwh) != n_c or len(self.n_packs) != n_c:
            raise ValueError(f"categories, pack_kwh and n_packs must have the same length, got {len(self.categories)}, "
                             f"{len(self.pack_kwh)}, {len(self.n_packs)}")
        if not all(isinstance(c, str) and c for c in self.categories) or len(set(self.categories)) != n_c:
            raise ValueError(f"categories must be unique non-empty strings, got {self.categories!r}")
        for c, q in enumerate(self.pack_kwh):
            check_positive(f"pack_kwh[{c}]", q)
            if q <= 10 * FULL_GAP_KWH:
                raise ValueError(f"pack_kwh[{c}] must exceed {10 * FULL_GAP_KWH} kWh, got {q!r}")
        for c, n in enumerate(self.n_packs):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
                raise ValueError(f"n_packs[{c}] must be a non-negative integer, got {n!r}")
        set_(self, "categories", tuple(self.categories))
        set_(self, "pack_kwh", tuple(float(q) for q in self.pack_kwh))
        set_(self, "n_packs", tuple(int(n) for n in self.n_packs))
        if sum(self.n_packs) == 0:
            raise ValueError(f"n_packs must hold at least one pack, got {self.n_packs!r}")
        if isinstance(self.storage, BatteryParams) or not isinstance(self.storage, Sequence):
            raise ValueError(f"storage must be a sequence of BatteryParams, got {self.storage!r}")
        for k, b in enumerate(self.storage):
            if not isinstance(b, BatteryParams):
                raise ValueError(f"storage[{k}] must be a BatteryParams, got {type(b).__name__}")
            if b.calendar_fade_per_day != 0.0:
                raise ValueError(f"storage[{k}].calendar_fade_per_day must be 0, got {b.calendar_fade_per_day!r}")
            if b.max_cycles_per_day is not None:
                raise ValueError(f"storage[{k}].max_cycles_per_day must be None (no cycle cap here), "
                                 f"got {b.max_cycles_per_day!r}")
        set_(self, "storage", tuple(self.storage))

        load = as_series("load_kw", self.load_kw, nonnegative=True)
        n = load.shape[0]
        set_(self, "load_kw", load)
        for name in ("pv_kw", "wind_kw", "tariff_eur_per_kwh", "grid_price_eur_per_kwh"):
            set_(self, name, as_series(name, getattr(self, name), n, nonnegative=True))

        e0 = as_series("slot_e0_kwh", self.slot_e0_kwh, self.n_slots, nonnegative=True)
        for j, (e, q) in enumerate(zip(e0, self.slot_pack_kwh, strict=True)):
            if not (e == q or e <= q - FULL_GAP_KWH):
                raise ValueError(f"slot_e0_kwh[{j}] = {float(e)!r} must equal the pack's capacity {q!r} (full) or "
                                 f"be at most {q - FULL_GAP_KWH!r}")
        set_(self, "slot_e0_kwh", e0)

        try:
            exp = np.array(self.expected_swaps, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected_swaps must be an array of numbers: {exc}") from None
        if exp.shape != (n, n_c):
            raise ValueError(f"expected_swaps must have shape ({n}, {n_c}) (hours x categories), got {exp.shape}")
        if not (np.isfinite(exp).all() and (exp >= 0).all()):
            raise ValueError("expected_swaps must be finite and non-negative")
        exp.setflags(write=False)
        set_(self, "expected_swaps", exp)

        try:
            hour = np.array(self.swap_hour, dtype=np.int64).reshape(-1)
            cat = np.array(self.swap_category, dtype=np.int64).reshape(-1)
            soc = np.array(self.swap_soc, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"swap_hour, swap_category and swap_soc must be arrays of numbers: {exc}") from None
        if not hour.shape == cat.shape == soc.shape:
            raise ValueError(f"swap_hour, swap_category and swap_soc must have the same length, got "
                             f"{hour.shape[0]}, {cat.shape[0]}, {soc.shape[0]}")
        if hour.size:
            bad = np.flatnonzero((hour < 0) | (hour >= n))
            if bad.size:
                raise ValueError(f"swap_hour[{int(bad[0])}] = {int(hour[bad[0]])} is outside 0..{n - 1}")
            if (np.diff(hour) < 0).any():
                raise ValueError("swap_hour must be non-decreasing (requests in arrival order)")
            bad = np.flatnonzero((cat < 0) | (cat >= n_c))
            if bad.size:
                raise ValueError(f"swap_category[{int(bad[0])}] = {int(cat[bad[0]])} is outside 0..{n_c - 1}")
            q = np.array(self.pack_kwh)[cat]
            bad = np.flatnonzero(~np.isfinite(soc) | (soc < 0) | (soc * q > q - FULL_GAP_KWH))
            if bad.size:
                r = int(bad[0])
                raise ValueError(f"swap_soc[{r}] = {float(soc[r])!r} must be in [0, 1) with the arriving pack at "
                                 f"least {FULL_GAP_KWH} kWh below full")
        for a in (hour, cat, soc):
            a.setflags(write=False)
        set_(self, "swap_hour", hour)
        set_(self, "swap_category", cat)
        set_(self, "swap_soc", soc)

        for name in ("import_limit_kw", "max_c_rate"):
            check_positive(name, getattr(self, name))
        for name in ("pv_kwp", "wind_rated_kw"):  # 0: no PV or no wind (a standalone station has neither)
            check_nonnegative(name, getattr(self, name))
        for name in ("swap_fee_eur", "swap_price_eur_per_kwh", "lost_swap_penalty_eur", "voll_eur_per_kwh",
                     "pack_wear_eur_per_kwh", "fast_extra_eur_per_kwh", "terminal_value_eur_per_kwh",
                     "standard_c_rate"):
            check_nonnegative(name, getattr(self, name))
        check_fraction("pack_eta", self.pack_eta)
        if self.pack_eta <= 0:
            raise ValueError(f"pack_eta must be in (0, 1], got {self.pack_eta!r}")
        if self.standard_c_rate > self.max_c_rate:
            raise ValueError(f"standard_c_rate ({self.standard_c_rate!r}) must not exceed max_c_rate "
                             f"({self.max_c_rate!r})")
        if not isinstance(self.off_grid, (bool, np.bool_)):
            raise ValueError(f"off_grid must be a bool, got {self.off_grid!r}")
        set_(self, "off_grid", bool(self.off_grid))
        if not self.off_grid and load.max() > self.import_limit_kw:
            t = int(np.argmax(load))
            raise ValueError(f"import_limit_kw = {self.import_limit_kw!r} cannot cover load_kw[{t}] = "
                             f"{float(load[t])!r}: a grid-connected site must import its whole load when "
                             "renewables and storage are short (raise the limit or set off_grid=True)")
        try:
            np.datetime64(self.start)
        except ValueError:
            raise ValueError(f"start must be an ISO timestamp, got {self.start!r}") from None

    @classmethod
    def _from_valid(cls, derived: dict[str, np.ndarray] | None = None, **fields: Any) -> MicrogridScenario:
        """A scenario of fields already in checked form (read-only float64/int64 arrays, tuples of floats and
        ints, a generator's output for a valid config), built without checking them again: resets stay cheap.
        Fields not given take their defaults; ``derived`` holds cached properties computed for a whole batch
        (``res_kw``, ``deficit_limit_kw``: by the same functions)."""
        s = object.__new__(cls)
        unknown, missing = fields.keys() - _DEFAULTS.keys(), _REQUIRED - fields.keys()
        if unknown or missing:
            raise ValueError(f"MicrogridScenario fields: unknown {sorted(unknown)}, missing {sorted(missing)}")
        s.__dict__.update(_DEFAULTS)
        s.__dict__.update(fields)
        if derived:
            if not derived.keys() <= {"res_kw", "deficit_limit_kw"}:
                raise ValueError(f"derived must be res_kw or deficit_limit_kw, got {sorted(derived)}")
            s.__dict__.update(derived)
        return s

    # ---------------------------------------------------------------- derived, shared by env and MILP
    @property
    def n_steps(self) -> int:
        return int(self.load_kw.shape[0])

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    @property
    def n_slots(self) -> int:
        return sum(self.n_packs)

    @property
    def n_storage(self) -> int:
        return len(self.storage)

    @property
    def n_requests(self) -> int:
        return int(self.swap_hour.shape[0])

    @cached_property
    def slot_category(self) -> tuple[int, ...]:
        """Category of each slot (slots numbered category by category)."""
        return tuple(c for c, n in enumerate(self.n_packs) for _ in range(n))

    @cached_property
    def category_slots(self) -> tuple[tuple[int, ...], ...]:
        """The slots of each category, ascending."""
        out, at = [], 0
        for n in self.n_packs:
            out.append(tuple(range(at, at + n)))
            at += n
        return tuple(out)

    @cached_property
    def slot_pack_kwh(self) -> tuple[float, ...]:
        return tuple(self.pack_kwh[c] for c in self.slot_category)

    @cached_property
    def slot_max_kw(self) -> tuple[float, ...]:
        """1C: the most a slot may draw."""
        return tuple(self.max_c_rate * q for q in self.slot_pack_kwh)

    @cached_property
    def slot_standard_kw(self) -> tuple[float, ...]:
        """0.2C: above it a slot charges fast."""
        return tuple(self.standard_c_rate * q for q in self.slot_pack_kwh)

    @property
    def res_scale_kw(self) -> float:
        """What the observation's renewable share divides by: :func:`res_scale` of the plants' ratings."""
        return res_scale(self.pv_kwp, self.wind_rated_kw)

    @cached_property
    def requests(self) -> tuple[Request, ...]:
        """Every request with its arriving energy and revenue, in arrival order."""
        out = []
        for h, c, soc in zip(self.swap_hour.tolist(), self.swap_category.tolist(), self.swap_soc.tolist(),
                             strict=True):
            q = self.pack_kwh[c]
            a = soc * q
            out.append(Request(h, c, a, self.swap_fee_eur + self.swap_price_eur_per_kwh * (q - a)))
        return tuple(out)

    @cached_property
    def requests_by_hour(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """``[t][c]``: indices into :attr:`requests` of hour ``t`` and category ``c``, in arrival order."""
        table = [[[] for _ in self.categories] for _ in range(self.n_steps)]
        for r, req in enumerate(self.requests):
            table[req.hour][req.category].append(r)
        return tuple(tuple(tuple(x) for x in row) for row in table)

    @cached_property
    def res_kw(self) -> np.ndarray:
        """Renewables available per hour, ``PV + wind`` (:func:`renewables_kw`)."""
        return renewables_kw(self.pv_kw, self.wind_kw)

    @cached_property
    def deficit_limit_kw(self) -> np.ndarray:
        """Largest deficit per hour (:func:`deficit_limit_kw`)."""
        return deficit_limit_kw(self.load_kw, self.off_grid, self.import_limit_kw)

    @cached_property
    def cover_price_eur_per_kwh(self) -> np.ndarray:
        """Cost per kWh of deficit: the grid price, or (off-grid) the lost tariff plus the value of lost load."""
        a = (self.tariff_eur_per_kwh + self.voll_eur_per_kwh) if self.off_grid else self.grid_price_eur_per_kwh.copy()
        a.setflags(write=False)
        return a

    @cached_property
    def bank(self) -> BatteryBank | None:
        return BatteryBank.of(self.storage) if self.storage else None

    @cached_property
    def initial_energy_kwh(self) -> float:
        """Station plus storage energy at the start (the terminal value's reference)."""
        return math.fsum(self.slot_e0_kwh.tolist()) + math.fsum(b.e0_kwh for b in self.storage)

    @cached_property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_steps, freq="h")

    @cached_property
    def slot_names(self) -> tuple[str, ...]:
        out = []
        for c, slots in enumerate(self.category_slots):
            out += [f"{self.categories[c]}{i}" for i in range(len(slots))]
        return tuple(out)

    @property
    def action_dim(self) -> int:
        """One value per station slot, then one per storage pack."""
        return self.n_slots + self.n_storage



_DEFAULTS = {f.name: f.default for f in dataclasses.fields(MicrogridScenario)}
_REQUIRED = {name for name, v in _DEFAULTS.items() if v is dataclasses.MISSING}

MONEY = ("swap_revenue_eur", "lost_penalty_eur", "resident_revenue_eur", "grid_cost_eur", "unserved_cost_eur",
         "pack_wear_eur", "fast_charge_eur", "storage_wear_eur", "terminal_eur")


def renewables_kw(pv_kw: np.ndarray, wind_kw: np.ndarray) -> np.ndarray:
    """Renewables available, ``PV + wind`` (read-only; any shape: one episode or a batch)."""
    a = pv_kw + wind_kw
    a.setflags(write=False)
    return a


def deficit_limit_kw(load_kw: np.ndarray, off_grid: bool, import_limit_kw: float) -> np.ndarray:
    """Largest deficit per hour: the import limit, or (off-grid) the load that can be shed (read-only; any
    shape)."""
    a = load_kw.copy() if off_grid else np.full(load_kw.shape, float(import_limit_kw))
    a.setflags(write=False)
    return a


def idle_rewards(s: MicrogridScenario) -> np.ndarray:
    """The reward of every hour when every action is zero (the idle policy), from the scenario's arrays.

    Idle, no pack is charged, so a slot once swapped never holds a full pack again: the ``i``-th request
    of category ``c`` in the episode is served exactly when ``i`` is below the category's full packs at
    the start. The storage stays put, so the deficit is ``max(0, L_t - R_t)`` (within its limit: the
    import limit covers the load, and off-grid the load is the limit) and the terminal term is the
    energy the served swaps took out of the station.
    """
    n_c, t_n = s.n_categories, s.n_steps
    q = np.asarray(s.pack_kwh)
    cat, hour = s.swap_category, s.swap_hour
    full0 = np.bincount(np.asarray(s.slot_category)[s.slot_e0_kwh == np.asarray(s.slot_pack_kwh)], minlength=n_c)
    counts = np.bincount(cat, minlength=n_c)
    order = np.argsort(cat, kind="stable")
    rank = np.empty(cat.shape[0], dtype=np.int64)
    rank[order] = np.arange(cat.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    served = rank < full0[cat]
    qc = q[cat]
    energy = s.swap_soc * qc
    revenue = s.swap_fee_eur + s.swap_price_eur_per_kwh * (qc - energy)
    swaps = np.bincount(hour, weights=np.where(served, revenue, 0.0), minlength=t_n)
    lost = np.bincount(hour, weights=(~served).astype(np.float64), minlength=t_n)
    deficit = np.maximum(s.load_kw - s.res_kw, 0.0)
    out = (swaps - s.lost_swap_penalty_eur * lost + s.tariff_eur_per_kwh * s.load_kw
           - s.cover_price_eur_per_kwh * deficit)
    out[-1] += s.terminal_value_eur_per_kwh * float(np.sum(np.where(served, energy - qc, 0.0)))
    return out


def simulate(s: MicrogridScenario, actions: np.ndarray) -> pd.DataFrame:
    """Step an action schedule ``(n_steps, n_slots + n_storage)`` (the env's action space) through the model.

    One row per hour: the series (``pv_kw``, ``wind_kw``, ``load_kw``, prices), swaps requested,
    served and lost per category, per-slot charge and energy after the hour, per-pack storage power
    and energy, ``grid_kw``, ``unserved_kw``, ``curtailed_kw``, ``res_used_kw`` (renewables first) and
    the money (:data:`MONEY` and ``reward``). It runs
    :class:`~batterygym.core.microgrid_state.MicrogridState`, so the total ``reward`` is what the env pays
    for these actions.
    """
    a = np.asarray(actions, dtype=np.float64)
    if a.shape != (s.n_steps, s.action_dim):
        raise ValueError(f"actions must have shape {(s.n_steps, s.action_dim)} (hours x (slots + storage)), "
                         f"got {a.shape}")
    if np.isnan(a).any():
        raise ValueError("actions has a NaN")
    from batterygym.core.microgrid_state import MicrogridState

    state = MicrogridState(s)
    rows = []
    for t in range(s.n_steps):
        out = state.step(np.clip(a[t], -1.0, 1.0).tolist())
        rows.append((out, list(state.energy_kwh), list(state.storage_kwh), list(state.soh)))
    T = s.n_steps
    data: dict[str, object] = {
        "pv_kw": s.pv_kw, "wind_kw": s.wind_kw, "load_kw": s.load_kw,
        "tariff_eur_per_kwh": s.tariff_eur_per_kwh, "grid_price_eur_per_kwh": s.grid_price_eur_per_kwh,
    }
    for c, name in enumerate(s.categories):
        data[f"requests:{name}"] = np.array([len(s.requests_by_hour[t][c]) for t in range(T)])
        data[f"served:{name}"] = np.array([r[0].served[c] for r in rows])
        data[f"lost:{name}"] = np.array([r[0].lost[c] for r in rows])
    for j, name in enumerate(s.slot_names):
        data[f"charge_kw:{name}"] = np.array([r[0].station_kw[j] for r in rows])
        data[f"fast_kw:{name}"] = np.array([r[0].fast_kw[j] for r in rows])
        data[f"energy_kwh:{name}"] = np.array([r[1][j] for r in rows])
    for k in range(s.n_storage):
        data[f"storage_kw:s{k}"] = np.array([r[0].storage_kw[k] for r in rows])
        data[f"storage_kwh:s{k}"] = np.array([r[2][k] for r in rows])
        data[f"soh:s{k}"] = np.array([r[3][k] for r in rows])
    data["station_kw"] = np.array([math.fsum(r[0].station_kw) for r in rows])
    data["storage_charge_kw"] = np.array([math.fsum(p for p in r[0].storage_kw if p > 0) for r in rows])
    data["storage_discharge_kw"] = np.array([-math.fsum(p for p in r[0].storage_kw if p < 0) for r in rows])
    for key in ("grid_kw", "unserved_kw", "curtailed_kw", "clipped_kw"):
        data[key] = np.array([getattr(r[0], key) for r in rows])
    # renewables first: what they cover of the load served, the station and the storage charge
    demand = s.load_kw - data["unserved_kw"] + data["station_kw"] + data["storage_charge_kw"]
    data["res_used_kw"] = np.minimum(s.res_kw, demand)
    for key in MONEY:
        data[key] = np.array([getattr(r[0], key) for r in rows])
    data["reward"] = np.array([r[0].reward for r in rows])
    return pd.DataFrame(data, index=s.timestamps)


def cost_breakdown(schedule: pd.DataFrame) -> dict[str, float]:
    """Episode totals of a :func:`simulate` record: money by term, profit, and the source's metrics.

    Metrics: ``swaps_served_share`` (served / requested), ``renewable_share`` (renewables used over
    the energy delivered: load served + station + storage charge), ``grid_mwh``, ``unserved_mwh``,
    ``curtailed_mwh``, and ``storage_share`` (storage discharge over the energy delivered to the load
    and the station; the source reports about 6 %). ``total_cost_eur`` is minus the profit.
    """
    out = {key: float(schedule[key].sum()) for key in MONEY}
    profit = float(schedule["reward"].sum())
    out["profit_eur"] = profit
    out["total_cost_eur"] = -profit
    req = sum(float(schedule[c].sum()) for c in schedule.columns if c.startswith("requests:"))
    srv = sum(float(schedule[c].sum()) for c in schedule.columns if c.startswith("served:"))
    out["swaps_requested"] = req
    out["swaps_served"] = srv
    out["swaps_served_share"] = srv / req if req else 1.0
    load_served = float((schedule["load_kw"] - schedule["unserved_kw"]).sum())
    station = float(schedule["station_kw"].sum())
    st_c = float(schedule["storage_charge_kw"].sum())
    st_d = float(schedule["storage_discharge_kw"].sum())
    delivered = load_served + station + st_c
    out["renewable_share"] = float(schedule["res_used_kw"].sum()) / delivered if delivered else 0.0
    out["storage_share"] = st_d / (load_served + station) if load_served + station else 0.0
    for key in ("grid", "unserved", "curtailed"):
        out[f"{key}_mwh"] = float(schedule[f"{key}_kw"].sum()) / 1000.0
    out["station_mwh"] = station / 1000.0
    return out


def __getattr__(name: str) -> Any:
    """``MicrogridState`` and ``StepOutcome`` live in :mod:`batterygym.core.microgrid_state` (imported on first
    use, since that module needs this one's scenario)."""
    if name in ("MicrogridState", "StepOutcome"):
        from batterygym.core import microgrid_state

        return getattr(microgrid_state, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
