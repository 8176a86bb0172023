"""Batteries in a Pyomo model: core's battery equations as variables and rows, written once for every MILP.

:func:`add_batteries` adds units ``i`` (each a :class:`~batterygym.core.battery.BatteryParams`, present in
steps ``start_i <= t < end_i``) to a model, with the coefficients of
:class:`~batterygym.core.battery.BatteryBank`, the ones the env's step uses::

    0 <= c[i,t] <= charge_max[i,t],  0 <= d[i,t] <= discharge_max[i,t]     (site-given limits per step)
    e[i,t+1] = e[i,t] + eta_c dt c[i,t] - dt / eta_d d[i,t]
    lost[i,t+1] = lost[i,t] + (fade_per_cycle / 2) dt (c[i,t] + d[i,t]) + calendar(dt) Cap_i
    soc_min (K0_i - lost[i,t+1]) <= e[i,t+1] <= soc_max (K0_i - lost[i,t+1])
    dt sum_t c[i,t] <= budget_i                                          (optional charge budget)
    c[i,t] <= cmax u[i,t],  d[i,t] <= dmax (1 - u[i,t])                  (u binary: charge or discharge)

with ``e[i,start] = e0_i``, ``K0_i = soh0_i Cap_i`` the remaining capacity at the start and ``lost`` the
capacity lost since then, in kWh (``lost[i,start] = 0``): ``K0 - lost = SoH Cap``, core's fading window.
In kWh of capacity rather than SoH the coefficients are well scaled for HiGHS (``fade_per_cycle / 2`` ~
1e-5, where SoH's ``fade_per_kwh`` of a MWh pack is ~ 1e-9, HiGHS's threshold for dropping one), and
every row stays linear when the nominal capacity ``Cap`` is a variable (the sizing model: ``e0 = soc0
soh0 Cap``, ``K0 = soh0 Cap``, the calendar loss ``calendar(dt) Cap``, the budget in kWh per kWh of
``Cap``, and optionally a power variable ``P`` with ``c, d <= P``). A unit that never fades (no cycle or
calendar fade) at a fixed capacity has no ``lost``: its window is the bounds of ``e``.

Exclusivity: the solve loop (:func:`batterygym.baselines.solver.solve_exclusive`) adds the binaries, to
every pair that can do both (both limits positive) before the first solve with ``exclusive="binary"``,
or with ``"lazy"`` only where a solution charges and discharges at once; ``"none"`` leaves it to the
objective.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression, RangedExpression

from batterygym.core.battery import BatteryBank, BatteryParams

EXCLUSIVE = ("lazy", "binary", "none")
Key = tuple[int, int]  # (unit, step)
_PARTS = {"K", "KE", "c", "d", "e", "lost", "lost_index", "unit_keys", "fading", "u", "excl"}


def lin(*terms: object) -> LinearExpression:
    """A linear expression from variables (coefficient 1) and ``(coefficient, variable)`` pairs."""
    return LinearExpression([MonomialTermExpression(t) if type(t) is tuple else t for t in terms])


def row(lower: float | None, body: LinearExpression, upper: float | None
        ) -> InequalityExpression | EqualityExpression | RangedExpression:
    """The row ``lower <= body <= upper`` (None: no bound; equal bounds: an equality) as the relational
    expression a Constraint stores. Built directly, it spares Pyomo's conversion of the tuple ``(lower,
    body, upper)``: a constraint then takes 2.5 us to declare instead of 3.1 (an inequality's tuple) or
    6.3 (an equality's)."""
    if lower is None:
        return InequalityExpression((body, upper), False)
    if upper is None:
        return InequalityExpression((lower, body), False)
    if lower == upper:
        return EqualityExpression((body, upper))
    return RangedExpression((lower, body, upper), (False, False))


def _per_step(name: str, x: float | Sequence[float] | np.ndarray, n: int, steps: int) -> list[list[float]]:
    """A limit as ``n x steps`` floats: a scalar, one value per unit ``(n,)`` or per unit and step ``(n, steps)``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    try:
        a = np.broadcast_to(a, (n, steps))
    except ValueError:
        raise ValueError(f"{name} must be a scalar, ({n},) or ({n}, {steps}), got shape {np.shape(x)}") from None
    bad = np.isnan(a) | (a < 0)
    if bad.any():
        raise ValueError(f"{name} must be non-negative, got {float(a[bad][0])!r}")
    return a.tolist()


def _bounds(limits: dict[Key, tuple[float, float]], side: int) -> tuple[float, float] | dict[Key, tuple[float, float]]:
    """A power variable's bounds ``(0, limit)``: one pair when every key has the same limit (Pyomo sets
    a variable from one pair in half the time of a dict of them), else one per key."""
    first = next(iter(limits.values()), (0.0, 0.0))[side]
    if all(lim[side] == first for lim in limits.values()):
        return (0.0, first)
    return {key: (0.0, lim[side]) for key, lim in limits.items()}


class _Components:
    """Components added to ``model`` as ``<name>_<part>`` when set, and read back as ``.<part>``.

    On the model itself rather than in a sub-block, so HiGHS sees columns and rows in the order the
    model declares them, battery and site interleaved: that order decides which of several optimal
    vertices it returns."""

    def __init__(self, model: pyo.Block, name: str) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_name", name)

    def __setattr__(self, part: str, component: object) -> None:
        self._model.add_component(f"{self._name}_{part}", component)
        object.__setattr__(self, part, component)


class BatteryBlock:
    """The batteries :func:`add_batteries` put in a model: their components, and what the solve loop and
    the plans read from them.

    ``parts`` holds the Pyomo components: the index sets ``K`` (unit, step) and ``KE`` (unit, step up to
    the one after its last), ``c``, ``d``, ``e``, ``lost`` (units that fade), any ``step_vars``, the
    rows, and once the first binary is added ``u`` and ``excl``. ``pairs`` are the keys that can both
    charge and discharge (where exclusivity may bind)."""

    def __init__(self, parts: _Components, units: tuple[BatteryParams, ...], windows: list[tuple[int, int]],
                 dt: float, limits: dict[Key, tuple[float, float]], e0: list[float] | None,
                 capacity: pyo.Var | None, exclusive: str, rows: Callable[[], None]) -> None:
        self.parts = parts
        self.units = units
        self.windows = windows
        self.dt = dt
        self.n_steps = max(end for _, end in windows)
        self.exclusive = exclusive
        self._limits = limits
        self._e0 = e0
        self._capacity = capacity
        self.pairs: list[Key] = [] if exclusive == "none" else [
            key for key, (cmax, dmax) in limits.items() if cmax > 0.0 and dmax > 0.0]
        self.binaries: set[Key] = set()
        self._rows: Callable[[], None] | None = rows

    def add_rows(self) -> None:
        """Declare the battery rows now (once): :func:`add_batteries` does unless given ``rows=False``."""
        if self._rows is None:
            raise ValueError("the battery rows are already in the model")
        rows, self._rows = self._rows, None
        rows()

    @property
    def c(self) -> pyo.Var:
        return self.parts.c

    @property
    def d(self) -> pyo.Var:
        return self.parts.d

    @property
    def e(self) -> pyo.Var:
        return self.parts.e

    @property
    def n_binaries(self) -> int:
        return len(self.binaries)

    def exclude(self, keys: Iterable[Key]) -> int:
        """Forbid charging and discharging at once at ``keys``, a binary each (big-M: the variable's own
        limit); returns how many were added. The binaries and their rows go after every other component."""
        b = self.parts
        if not hasattr(b, "u"):
            b.u = pyo.Var(pyo.Any, dense=False, within=pyo.Binary)
            b.excl = pyo.ConstraintList()
        n = 0
        for key in keys:
            if key in self.binaries:
                continue
            cmax, dmax = self._limits[key]
            u = b.u[key]
            b.excl.add(row(None, lin(b.c[key], (-cmax, u)), 0.0))
            b.excl.add(row(None, lin(b.d[key], (dmax, u)), dmax))
            self.binaries.add(key)
            n += 1
        return n

    def simultaneous(self, tol: float) -> list[Key]:
        """The pairs without a binary whose solution charges and discharges more than ``tol`` kW at once."""
        c, d, have = dict(self.parts.c.items()), dict(self.parts.d.items()), self.binaries  # plain dict lookups
        return [key for key in self.pairs
                if (c[key].value or 0.0) > tol and (d[key].value or 0.0) > tol and key not in have]

    def charge_kw(self) -> np.ndarray:
        """The solved charge ``(units, steps)`` in kW (0 outside a unit's window)."""
        return self._values(self.parts.c)

    def discharge_kw(self) -> np.ndarray:
        """The solved discharge ``(units, steps)`` in kW (0 outside a unit's window)."""
        return self._values(self.parts.d)

    def _values(self, var: pyo.Var) -> np.ndarray:
        out = np.zeros((len(self.units), self.n_steps))
        for (i, t), v in var.items():
            out[i, t] = v.value or 0.0
        return out

    def cost_terms(self, terminal_value_eur_per_kwh: float = 0.0) -> tuple[list[tuple[float, object]], float]:
        """The batteries' part of a cost to minimise: each unit's wear (``degradation_cost_per_kwh`` per kWh
        charged or discharged) less the terminal credit ``value * (e[end] - e0)``, as ``(coefficient,
        variable)`` terms and a constant (``value * sum e0``; with a variable capacity, a term of it)."""
        b, dt, tv = self.parts, self.dt, terminal_value_eur_per_kwh
        terms: list[tuple[float, object]] = []
        for i, (u, (start, end)) in enumerate(zip(self.units, self.windows, strict=True)):
            wear = u.degradation_cost_per_kwh * dt
            if wear > 0.0:
                terms += [t for k in range(start, end) for t in ((wear, b.c[i, k]), (wear, b.d[i, k]))]
        constant = 0.0
        if tv:
            terms += [(-tv, b.e[i, end]) for i, (_, end) in enumerate(self.windows)]
            if self._e0 is not None:
                constant = tv * math.fsum(self._e0)
            else:
                terms += [(tv * u.soc0 * u.soh0, self._capacity) for u in self.units]
        return terms, constant


def add_batteries(
    model: pyo.Block,
    name: str,
    units: Sequence[BatteryParams],
    dt: float,
    *,
    charge_max_kw: float | Sequence[float] | np.ndarray,
    discharge_max_kw: float | Sequence[float] | np.ndarray,
    n_steps: int | None = None,
    windows: Sequence[tuple[int, int]] | None = None,
    e0_kwh: Sequence[float] | None = None,
    soh0: Sequence[float] | None = None,
    budget_kwh: Sequence[float] | None = None,
    capacity: pyo.Var | None = None,
    power: pyo.Var | None = None,
    exclusive: str = "lazy",
    step_vars: Sequence[str] = (),
    rows: bool = True,
) -> BatteryBlock:
    """Add ``units`` to ``model`` as components ``<name>_<part>`` (module docstring) and return their handle.

    Every unit is present in steps ``0 <= t < n_steps``, or in its own ``windows[i] = (start, end)``.
    ``charge_max_kw``/``discharge_max_kw``: the limits the battery and its site allow, a scalar, one per
    unit or ``(units, steps)``. ``e0_kwh``/``soh0``: the initial state per unit (default the units'
    own). ``budget_kwh``: charge energy allowed per unit over its window (None or inf: no cap).
    ``capacity``: a variable nominal capacity (one unit; ``e0``, ``K0``, calendar fade and budget scale
    with it, the budget then in kWh per kWh of capacity); ``power``: a variable rating.
    ``exclusive``: ``"lazy"``, ``"binary"`` or ``"none"``. ``step_vars``: names of further non-negative
    decisions per unit and step that the site prices and constrains (V2G's regulation capacities),
    declared right after ``c`` and ``d`` as ``parts.<name>``. ``rows=False`` declares only the
    variables, leaving the rows to :meth:`BatteryBlock.add_rows`: a site may declare its own rows first.

    Columns and rows reach HiGHS in the order the model declares them, and where the optimum is not
    unique that order decides which optimal vertex HiGHS returns (so which actions a plan holds):
    hence ``step_vars`` and ``rows``. Over a common horizon ``c`` and ``d`` run step by step (the units
    of a step side by side, as a site's rows read them), over windows unit by unit; energies and battery
    rows always unit by unit.
    """
    ps = tuple(units)
    bank = BatteryBank.of(ps)
    n = bank.n
    if exclusive not in EXCLUSIVE:
        raise ValueError(f"exclusive must be one of {EXCLUSIVE}, got {exclusive!r}")
    if (n_steps is None) == (windows is None):
        raise ValueError(f"give exactly one of n_steps and windows, got n_steps={n_steps!r}, windows={windows!r}")
    if windows is None:
        if n_steps < 1:
            raise ValueError(f"n_steps must be positive, got {n_steps!r}")
        spans = [(0, int(n_steps))] * n
    else:
        spans = [(int(a), int(z)) for a, z in windows]
        if len(spans) != n:
            raise ValueError(f"windows must have one (start, end) per unit ({n}), got {len(spans)}")
        for i, (a, z) in enumerate(spans):
            if not 0 <= a < z:
                raise ValueError(f"windows[{i}] must satisfy 0 <= start < end, got {(a, z)!r}")
    for part in step_vars:
        if not part.isidentifier() or part in _PARTS:
            raise ValueError(f"step_vars must be new identifiers (not {sorted(_PARTS)}), got {part!r}")
    if capacity is not None:
        if n != 1:
            raise ValueError(f"a variable capacity sizes one unit, got {n} units")
        if e0_kwh is not None or soh0 is not None:
            raise ValueError("e0_kwh and soh0 follow the unit's soc0 and soh0 when the capacity is a variable")
    for field, values in (("e0_kwh", e0_kwh), ("soh0", soh0), ("budget_kwh", budget_kwh)):
        if values is not None and len(values) != n:
            raise ValueError(f"{field} must have one value per unit ({n}), got {len(values)}")
    steps = max(z for _, z in spans)
    cmax = _per_step("charge_max_kw", charge_max_kw, n, steps)
    dmax = _per_step("discharge_max_kw", discharge_max_kw, n, steps)
    h0 = bank.soh0().tolist() if soh0 is None else [float(x) for x in soh0]
    e0 = None if capacity is not None else (bank.e0_kwh().tolist() if e0_kwh is None else [float(x) for x in e0_kwh])

    eta_c = (bank.eta_charge * dt).tolist()  # kWh stored per kW charged
    inv_eta_d = (dt / bank.eta_discharge).tolist()  # kWh drawn per kW discharged
    fade = (bank.half_fade * dt).tolist()  # capacity lost per kW of c or d
    cal = bank.coefficients(dt).calendar.tolist()  # share of nominal capacity lost per step
    lo, hi, cap = bank.soc_min.tolist(), bank.soc_max.tolist(), bank.capacity_kwh.tolist()
    # lost is a variable where cycling or the calendar fades the unit (by its parameters: a fade too small for
    # a step's coefficient still gives the unit its lost), or its capacity is a variable
    fades = [capacity is not None or u.fade_per_cycle > 0.0 or u.calendar_fade_per_day > 0.0 or fade[i] > 0.0
             or cal[i] > 0.0 for i, u in enumerate(ps)]

    b = _Components(model, name)
    if windows is None:
        power_keys = [(i, t) for t in range(steps) for i in range(n)]
    else:
        power_keys = [(i, t) for i, (a, z) in enumerate(spans) for t in range(a, z)]
    unit_keys = [(i, t) for i, (a, z) in enumerate(spans) for t in range(a, z)]
    # index sets as SetOf: wrapped lists, in their order, without the copy and checks of a Set (a year builds
    # in less time)
    b.K = pyo.SetOf(power_keys)
    b.KE = pyo.SetOf([(i, t) for i, (a, z) in enumerate(spans) for t in range(a, z + 1)])
    limits = {(i, t): (cmax[i][t], dmax[i][t]) for i, t in power_keys}
    b.c = pyo.Var(b.K, bounds=_bounds(limits, 0))
    b.d = pyo.Var(b.K, bounds=_bounds(limits, 1))
    for part in step_vars:
        setattr(b, part, pyo.Var(b.K, within=pyo.NonNegativeReals))
    window: dict[Key, tuple[float | None, float | None]] = {}
    for i, (a, z) in enumerate(spans):
        k0 = None if fades[i] else h0[i] * cap[i]  # a constant remaining capacity: the window as bounds
        for t in range(a, z + 1):
            window[i, t] = (None, None) if k0 is None or t == a else (lo[i] * k0, hi[i] * k0)
    b.e = pyo.Var(b.KE, bounds=window)
    faded = [(i, t) for i, t in b.KE if fades[i]]
    b.lost_index = pyo.SetOf(faded)
    b.lost = pyo.Var(b.lost_index)
    c, d, e, lost = b.c, b.d, b.e, b.lost
    for i, (a, _) in enumerate(spans):
        if fades[i]:
            lost[i, a].fix(0.0)
    if capacity is None:
        for i, (a, _) in enumerate(spans):
            e[i, a].fix(e0[i])
        k0s = [h0[i] * cap[i] for i in range(n)]
        cal_rhs = [cal[i] * cap[i] for i in range(n)]
        cal_terms: list[tuple] = [()] * n
        lo_terms: list[tuple] = [()] * n
        hi_terms: list[tuple] = [()] * n
    else:
        u0, (a, _) = ps[0], spans[0]
        b.e0_def = pyo.Constraint(expr=row(0.0, lin(e[0, a], (-u0.soc0 * u0.soh0, capacity)), 0.0))
        k0s, cal_rhs = [0.0], [0.0]
        cal_terms = [((-cal[0], capacity),) if cal[0] else ()]
        lo_terms, hi_terms = [((-lo[0] * u0.soh0, capacity),)], [((-hi[0] * u0.soh0, capacity),)]
    if power is not None:  # limits of the variables, so declared with them: c - P <= 0, d - P <= 0
        b.c_rating = pyo.Constraint(b.K, rule=lambda _, i, t: row(None, lin(c[i, t], (-1, power)), 0.0))
        b.d_rating = pyo.Constraint(b.K, rule=lambda _, i, t: row(None, lin(d[i, t], (-1, power)), 0.0))

    def add_rows() -> None:
        """The battery rows, in this order."""
        # the variables' data in plain dicts: a row reads four, and a dict lookup is a tenth of a Pyomo one
        c, d, e, lost = (dict(v.items()) for v in (b.c, b.d, b.e, b.lost))
        # e[t+1] - e[t] - eta_c dt c[t] + dt / eta_d d[t] == 0
        b.unit_keys = pyo.SetOf(unit_keys)
        b.energy = pyo.Constraint(b.unit_keys, rule=lambda _, i, t: row(
            0.0, lin(e[i, t + 1], (-1, e[i, t]), (-eta_c[i], c[i, t]), (inv_eta_d[i], d[i, t])), 0.0))
        # lost[t+1] - lost[t] - fade dt (c[t] + d[t]) (- cal Cap) == cal Cap (the constant when Cap is fixed)
        b.fading = pyo.SetOf([(i, t) for i, t in unit_keys if fades[i]])
        fading = b.fading
        b.health = pyo.Constraint(fading, rule=lambda _, i, t: row(cal_rhs[i], lin(
            lost[i, t + 1], (-1, lost[i, t]), (-fade[i], c[i, t]), (-fade[i], d[i, t]), *cal_terms[i]), cal_rhs[i]))
        # e[t+1] + soc_min lost[t+1] (- soc_min soh0 Cap) >= soc_min K0
        # e[t+1] + soc_max lost[t+1] (- soc_max soh0 Cap) <= soc_max K0
        b.soc_lo = pyo.Constraint(fading, rule=lambda _, i, t: row(
            lo[i] * k0s[i], lin(e[i, t + 1], (lo[i], lost[i, t + 1]), *lo_terms[i]), None))
        b.soc_hi = pyo.Constraint(fading, rule=lambda _, i, t: row(
            None, lin(e[i, t + 1], (hi[i], lost[i, t + 1]), *hi_terms[i]), hi[i] * k0s[i]))
        if budget_kwh is not None:
            capped = [i for i in range(n) if math.isfinite(budget_kwh[i])]
            if capacity is None:
                b.budget = pyo.Constraint(capped, rule=lambda _, i: row(
                    None, lin(*((dt, c[i, t]) for t in range(*spans[i]))), float(budget_kwh[i])))
            else:
                b.budget = pyo.Constraint(capped, rule=lambda _, i: row(None, lin(
                    *((dt, c[i, t]) for t in range(*spans[i])), (-float(budget_kwh[i]), capacity)), 0.0))

    out = BatteryBlock(b, ps, spans, dt, limits, e0, capacity, exclusive, add_rows)
    if rows:
        out.add_rows()
    return out
