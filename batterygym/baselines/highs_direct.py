"""A Pyomo model handed to highspy directly: its rows read once into arrays, its solution written back.

Pyomo's persistent HiGHS interface walks every row twice (once for its variables, once for its
coefficients), registers the variables in many small calls and captures HiGHS's output through a pipe;
for a V2G day that took 3.4-4.5x HiGHS's own solve (here: 0.5x). :class:`DirectHighs` reads each row
once. A row ``(lower, LinearExpression, upper)`` (every battery and site row the MILPs write) is read
term by term, its ``(coefficient, variable)`` monomials straight into the column and value arrays; a row
of operator sums (the microgrid's: sums, negations, products with numbers, variables on both sides) by a
second reader, and anything else by Pyomo's :func:`generate_standard_repn`, as Pyomo's interface does.
A fixed variable's term moves to the row's bounds; it still takes a column (at its value) where
Pyomo's interface gives it one, so HiGHS sees the same columns in the same order: declaration order
with ``declared_columns`` (Pyomo's batch load), else first appearance in the rows, then in the
objective (Pyomo's ``set_instance``). Rows arrive in declaration order through the same calls
(``addVars``, ``changeColsIntegrality``, ``addRows``, ``changeColsCost``), so where the optimum is not
unique HiGHS still returns the vertex it returned through Pyomo.

Between rounds (:meth:`DirectHighs.update`) only the rows added to the model since the last load go to
HiGHS, with the columns of their new variables (the solve loop's binaries); nothing is read twice.

The readers take the expressions' stored arguments (``_args_``, ``_nargs``) rather than the ``args``
properties, which copy them (a third of the reading time); :func:`_layout_ok` checks once that the
installed Pyomo stores them so, and otherwise every row takes Pyomo's reader.
"""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types, value
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import collect_vars_and_named_exprs
from pyomo.core.base.var import ScalarVar, VarData
from pyomo.core.expr.numeric_expr import (
    DivisionExpression,
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression, RangedExpression
from pyomo.core.staleflag import StaleFlagManager
from pyomo.repn.standard_repn import generate_standard_repn

INF = highspy.kHighsInf
_VARS = (VarData, ScalarVar)
_NUMBERS = native_numeric_types
_MONOMIAL, _LINEAR, _SUM = MonomialTermExpression, LinearExpression, SumExpression
_NEGATION, _PRODUCT, _DIVISION = NegationExpression, ProductExpression, DivisionExpression
_EQ, _LE, _RANGE = EqualityExpression, InequalityExpression, RangedExpression
_CONTINUOUS, _INTEGER = int(highspy.HighsVarType.kContinuous), int(highspy.HighsVarType.kInteger)
_S = highspy.HighsModelStatus
_TC = TerminationCondition
# HiGHS's model status as Pyomo's persistent interface reads it, so the solve loop's messages stay the same
_TERMINATION = {
    _S.kOptimal: _TC.convergenceCriteriaSatisfied, _S.kInfeasible: _TC.provenInfeasible,
    _S.kUnboundedOrInfeasible: _TC.infeasibleOrUnbounded, _S.kUnbounded: _TC.unbounded,
    _S.kObjectiveBound: _TC.objectiveLimit, _S.kObjectiveTarget: _TC.objectiveLimit,
    _S.kTimeLimit: _TC.maxTimeLimit, _S.kIterationLimit: _TC.iterationLimit, _S.kSolutionLimit: _TC.iterationLimit,
    _S.kInterrupt: _TC.interrupted, _S.kLoadError: _TC.error, _S.kModelError: _TC.error,
    _S.kPresolveError: _TC.error, _S.kSolveError: _TC.error, _S.kPostsolveError: _TC.error,
}
_banner_swallowed = False


def _layout_ok() -> bool:
    """Whether Pyomo stores a row's and a linear expression's arguments as the fast reader reads them."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var([0, 1])
    body = LinearExpression([MonomialTermExpression((2.0, m.x[0])), m.x[1], 3.0])
    try:
        row = (body <= 4.0)
        args = body._args_[:body._nargs]
        v = m.x[0]
        v.setlb(1.0)
        v.fix(2.0)
        return (row.__class__ is InequalityExpression and row._args_ == (body, 4.0) and len(args) == 3
                and args[0]._args_ == (2.0, v) and args[1] is m.x[1] and v._fixed is True and v._value == 2.0
                and v._lb == 1.0 and v._ub is None and v._domain is v.domain)
    except AttributeError:
        return False


_FAST = _layout_ok()


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance (the first of a process prints HiGHS's banner on stdout: swallowed)."""
    global _banner_swallowed
    if _banner_swallowed:
        h = highspy.Highs()
    else:
        with capture_output(capture_fd=True):
            h = highspy.Highs()
        _banner_swallowed = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass
class RunResult:
    """One HiGHS run, read as Pyomo's interface reads it; ``seconds`` is the time inside ``Highs.run``."""

    termination: TerminationCondition
    solution_status: SolutionStatus
    incumbent: float | None
    bound: float | None
    message: str
    seconds: float


class DirectHighs:
    """``model`` (one active objective, linear rows) in a live highspy model (module docstring).

    Column ``k`` of variable ``v`` is stored as ``k``, or ``~k`` (negative) when ``v`` is fixed: a fixed
    variable's terms go to the bounds. Variables are not fixed, freed or re-bounded between runs."""

    def __init__(self, model: pyo.Block, *, declared_columns: bool = False) -> None:
        self.model = model
        self.highs = new_highs()
        self._declared = declared_columns
        self._column: dict[int, int] = {}  # id(var) -> column (~column when fixed)
        self._columns: list[VarData] = []
        self._pending: list[VarData] = []  # columns not yet in HiGHS
        self._loaded_rows: dict[int, int] = {}  # id(constraint component) -> its rows loaded
        self._seen: set[int] = set()  # id(row) of every loaded row
        self._used = np.zeros(0, dtype=bool)  # columns a row or the objective reads
        self._domains: dict[int, tuple[float, float, object]] = {}  # id(domain) -> bounds, HiGHS's type
        self.n_integer = 0  # integer columns that are not fixed
        self.loaded = False

    # ------------------------------------------------------------------ columns
    def _new_column(self, v: VarData) -> int:
        k = len(self._columns)
        self._columns.append(v)
        self._pending.append(v)
        if v.fixed:
            k = ~k
        self._column[id(v)] = k
        return k

    def _push_columns(self) -> None:
        """The pending columns into HiGHS: bounds (a fixed variable's at its value) and integrality.

        A bound is the tighter of the variable's own (``_lb``/``_ub``, a number, None or an expression of
        parameters, as Pyomo's interface reads them) and its domain's."""
        new = self._pending
        if not new:
            return
        n = len(new)
        lower: list[float] = []
        upper: list[float] = []
        kinds: list[int] = []
        domains, numbers = self._domains, _NUMBERS
        for v in new:
            dom = v._domain if _FAST else v.domain
            d = domains.get(id(dom))
            if d is None:
                lo, hi, step = dom.get_interval()
                d = domains[id(dom)] = (-INF if lo is None else lo, INF if hi is None else hi,
                                        _INTEGER if step == 1 else _CONTINUOUS)
            kinds.append(d[2])
            if v.fixed:
                lower.append(v.value)
                upper.append(v.value)
                continue
            if d[2] == _INTEGER:
                self.n_integer += 1
            lb, ub = (v._lb, v._ub) if _FAST else v.bounds
            if lb.__class__ not in numbers:
                lb = -INF if lb is None else value(lb)
            if ub.__class__ not in numbers:
                ub = INF if ub is None else value(ub)
            lower.append(lb if lb > d[0] else d[0])
            upper.append(ub if ub < d[1] else d[1])
        first = len(self._columns) - n
        self.highs.addVars(n, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
        kind = np.asarray(kinds, dtype=np.uint8)
        integer = np.flatnonzero(kind != _CONTINUOUS)
        if integer.size:
            self.highs.changeColsIntegrality(integer.size, (integer + first).astype(np.int32), kind[integer])
        self._used = np.concatenate([self._used, np.zeros(n, dtype=bool)])
        self._pending = []

    # ------------------------------------------------------------------ rows
    def _read_rows(self, rows: list) -> tuple[list[float], list[float], list[int], array, array]:
        """Lower and upper bounds, and the row-wise arrays (starts, columns, values) of ``rows``.

        A row ``bound <= LinearExpression`` (or ``<=``, ``==``, ranged, with numbers as bounds) is read in the
        loop below; one with expressions on both sides, or sums, products with numbers and negations in
        its body, by :meth:`_linear`; anything else by :meth:`_read_general`."""
        column, new_column, numbers, linear = self._column, self._new_column, _NUMBERS, self._linear
        lower = [0.0] * len(rows)
        upper = [0.0] * len(rows)
        starts: list[int] = []
        index, coefs = array("i"), array("d")  # numpy reads them without a copy
        add_start, add_index, add_coef = starts.append, index.append, coefs.append
        for r, con in enumerate(rows):
            mark = len(index)
            add_start(mark)
            if _FAST:
                expr = con._expr
                cls = expr.__class__
                body = minus = lb = ub = None
                if cls is _RANGE:
                    lb, body, ub = expr._args_
                    if lb.__class__ not in numbers or ub.__class__ not in numbers:
                        body = None
                elif cls is _EQ or cls is _LE:
                    lhs, rhs = expr._args_
                    if rhs.__class__ in numbers:
                        body, ub = lhs, rhs
                        lb = rhs if cls is _EQ else None
                    elif lhs.__class__ in numbers:
                        body, lb = rhs, lhs
                        ub = lhs if cls is _EQ else None
                    else:  # lhs - rhs == 0 or <= 0
                        body, minus, ub = lhs, rhs, 0.0
                        lb = 0.0 if cls is _EQ else None
                if body is not None:
                    constant = 0.0
                    if minus is None and body.__class__ is _LINEAR:
                        for term in body._args_[:body._nargs]:
                            tc = term.__class__
                            if tc is _MONOMIAL:
                                coef, v = term._args_
                                if coef.__class__ not in numbers:
                                    break
                            elif tc in numbers:
                                constant += term
                                continue
                            elif tc in _VARS:
                                coef, v = 1.0, term
                            else:
                                break
                            k = column.get(id(v))
                            if k is None:
                                k = new_column(v)
                            if k >= 0:
                                add_index(k)
                                add_coef(coef)
                            else:
                                constant += coef * v.value
                        else:
                            lower[r] = -INF if lb is None else lb - constant
                            upper[r] = INF if ub is None else ub - constant
                            continue
                        del index[mark:], coefs[mark:]
                    constant = linear(body, 1.0, index, coefs)
                    if constant is not None and minus is not None:
                        other = linear(minus, -1.0, index, coefs)
                        constant = None if other is None else constant + other
                    if constant is not None:
                        lower[r] = -INF if lb is None else lb - constant
                        upper[r] = INF if ub is None else ub - constant
                        continue
                    del index[mark:], coefs[mark:]  # a form the readers here do not take: Pyomo's reader's
            lb, ub, constant = self._read_general(con.expr, con, index, coefs)
            lower[r] = -INF if lb is None else lb - constant
            upper[r] = INF if ub is None else ub - constant
        add_start(len(index))
        return lower, upper, starts, index, coefs

    def _linear(self, expr, scale: float, index: array, coefs: array) -> float | None:
        """``scale * expr``'s terms appended to ``index``/``coefs`` (a column may repeat), its constant returned;
        None (terms left behind) when ``expr`` is not a sum of numbers, variables, monomials, negations and
        products or quotients with numbers (a product of variables, a named expression)."""
        cls = expr.__class__
        if cls in _NUMBERS:
            return scale * expr
        if cls is _LINEAR or cls is _SUM:
            column, new_column, numbers = self._column, self._new_column, _NUMBERS
            add_index, add_coef = index.append, coefs.append
            constant = 0.0
            for term in expr._args_[:expr._nargs]:
                tc = term.__class__
                if tc is _MONOMIAL:
                    coef, v = term._args_
                    if coef.__class__ not in numbers:
                        coef = value(coef)
                elif tc in numbers:
                    constant += scale * term
                    continue
                elif tc in _VARS:
                    coef, v = 1.0, term
                else:
                    c = self._linear(term, scale, index, coefs)
                    if c is None:
                        return None
                    constant += c
                    continue
                k = column.get(id(v))
                if k is None:
                    k = new_column(v)
                if k >= 0:
                    add_index(k)
                    add_coef(scale * coef)
                else:
                    constant += scale * coef * v.value
            return constant
        if cls in _VARS:
            coef, v = 1.0, expr
        elif cls is _MONOMIAL:
            coef, v = expr._args_
            if coef.__class__ not in _NUMBERS:
                coef = value(coef)
        elif cls is _NEGATION:
            return self._linear(expr._args_[0], -scale, index, coefs)
        elif cls is _PRODUCT:
            a, b = expr._args_
            if a.__class__ in _NUMBERS:
                return self._linear(b, scale * a, index, coefs)
            if b.__class__ in _NUMBERS:
                return self._linear(a, scale * b, index, coefs)
            return None
        elif cls is _DIVISION:
            a, b = expr._args_
            return self._linear(a, scale / b, index, coefs) if b.__class__ in _NUMBERS else None
        else:
            return None
        k = self._column.get(id(v))
        if k is None:
            k = self._new_column(v)
        if k < 0:
            return scale * coef * v.value
        index.append(k)
        coefs.append(scale * coef)
        return 0.0

    def _read_general(self, expr, con, index: array, coefs: array) -> tuple[float | None, float | None,
                                                                                       float]:
        """A linear row (``con``) or objective (``con`` None) through Pyomo's own readers, its new columns
        in the order Pyomo's interface adds them; returns its bounds (None: none) and constant."""
        column = self._column
        for v in collect_vars_and_named_exprs(expr)[1]:
            if id(v) not in column:
                self._new_column(v)
        if con is None:
            lb = ub = None
            body = expr
        else:
            lb, body, ub = con.to_bounded_expression(evaluate_bounds=True)
        repn = generate_standard_repn(body, quadratic=False, compute_values=True)
        if repn.nonlinear_expr is not None:
            what = "the objective" if con is None else f"constraint {con.name}"
            raise ValueError(f"{what} is not linear: HiGHS takes linear rows and objectives only")
        for coef, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            index.append(column[id(v)])
            coefs.append(float(coef))
        return lb, ub, float(value(repn.constant))

    def _add_rows(self, rows: list) -> None:
        """``rows`` into HiGHS after the columns they bring."""
        lower, upper, starts, index, coefs = self._read_rows(rows)
        self._push_columns()
        idx = np.frombuffer(index, dtype=np.int32) if index else np.zeros(0, dtype=np.int32)
        val = np.frombuffer(coefs, dtype=np.float64) if coefs else np.zeros(0)
        start = np.asarray(starts, dtype=np.int32)
        lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        status = self.highs.addRows(len(rows), lower, upper, idx.size, start[:-1], idx, val)
        if status == highspy.HighsStatus.kError:  # a variable twice in a row: HiGHS takes each (row, column) once
            idx, val, start = _merge_repeats(idx, val, start, len(self._columns))
            status = self.highs.addRows(len(rows), lower, upper, idx.size, start[:-1], idx, val)
            if status == highspy.HighsStatus.kError:
                raise ValueError("HiGHS rejected the model's rows (a coefficient or bound that is not a number?)")
        self._used[idx] = True
        self._seen.update(map(id, rows))

    # ------------------------------------------------------------------ the model
    def load(self) -> None:
        """The whole model into HiGHS: columns, rows, objective."""
        if self.loaded:
            raise ValueError("the model is already loaded; add rows with update()")
        m = self.model
        if self._declared:  # every variable a column, in declaration order (_new_column, inlined)
            column, columns = self._column, self._columns
            for comp in m.component_objects(pyo.Var, descend_into=True):
                for v in comp.values():
                    key = id(v)
                    if key not in column:
                        k = len(columns)
                        columns.append(v)
                        column[key] = ~k if v.fixed else k
            self._pending = list(columns)
        rows = []
        for comp in m.component_objects(pyo.Constraint, active=True, descend_into=True):
            rows += [c for c in comp.values() if c.active]
            self._loaded_rows[id(comp)] = len(comp)
        objectives = list(m.component_data_objects(pyo.Objective, active=True, descend_into=True))
        if len(objectives) > 1:
            raise ValueError(f"the model has {len(objectives)} active objectives; HiGHS takes one")
        self._add_rows(rows)
        index, coefs = array("i"), array("d")
        offset, sense = 0.0, highspy.ObjSense.kMinimize
        if objectives:
            obj = objectives[0]
            offset = self._read_objective(obj.expr, index, coefs)
            if obj.sense == pyo.maximize:
                sense = highspy.ObjSense.kMaximize
        self._push_columns()
        n = len(self._columns)
        costs = np.zeros(n)
        if index:
            at = np.frombuffer(index, dtype=np.int32)
            np.add.at(costs, at, np.frombuffer(coefs, dtype=np.float64))
            self._used[at] = True
        h = self.highs
        h.changeObjectiveSense(sense)
        if n:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        h.changeObjectiveOffset(offset)
        self.loaded = True

    def _read_objective(self, expr, index: array, coefs: array) -> float:
        """The objective's columns and coefficients into ``index``/``coefs`` (a column may repeat); returns
        its constant."""
        if _FAST:
            constant = self._linear(expr, 1.0, index, coefs)
            if constant is not None:
                return constant
            del index[:], coefs[:]
        return self._read_general(expr, None, index, coefs)[2]

    def update(self) -> int:
        """The rows added to the model since the last load or update (and the columns of their new
        variables) into HiGHS; returns how many. Rows are only added between runs, never changed or removed."""
        if not self.loaded:
            raise ValueError("load() the model before update()")
        rows = []
        loaded, seen = self._loaded_rows, self._seen
        for comp in self.model.component_objects(pyo.Constraint, active=True, descend_into=True):
            if len(comp) != loaded.get(id(comp), 0):
                rows += [c for c in comp.values() if c.active and id(c) not in seen]
                loaded[id(comp)] = len(comp)
        if rows:
            self._add_rows(rows)
        return len(rows)

    # ------------------------------------------------------------------ solving
    def set_options(self, options: dict[str, object]) -> None:
        """HiGHS options by name; one HiGHS does not know, or a value it refuses, is a ValueError."""
        for key, val in options.items():
            if self.highs.setOptionValue(key, val) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS option {key!r} = {val!r} is not one HiGHS takes")

    def run(self) -> RunResult:
        """Solve and read the outcome as Pyomo's interface does (``bound`` None for an LP without an optimum)."""
        h = self.highs
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
        status = h.getModelStatus()
        info = h.getInfo()
        feasible = info.primal_solution_status == 2
        tc = _TERMINATION.get(status, TerminationCondition.unknown)
        solution = (SolutionStatus.optimal if status == _S.kOptimal else
                    SolutionStatus.feasible if feasible else SolutionStatus.noSolution)
        incumbent = info.objective_function_value if feasible else None
        if info.mip_node_count == -1:
            bound = incumbent if feasible and tc == TerminationCondition.convergenceCriteriaSatisfied else None
        else:
            bound = info.mip_dual_bound
        return RunResult(tc, solution, incumbent, bound, h.modelStatusToString(status), seconds)

    def load_vars(self) -> None:
        """The solution onto the model's variables that a row or the objective reads (the fixed ones keep theirs)."""
        values = self.highs.getSolution().col_value
        columns, column = self._columns, self._column
        for k in np.flatnonzero(self._used).tolist():
            v = columns[k]
            if column[id(v)] >= 0:
                v.set_value(values[k], skip_validation=True)
        StaleFlagManager.mark_all_as_stale(delayed=True)


def _merge_repeats(idx: np.ndarray, val: np.ndarray, start: np.ndarray, n_cols: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A row-wise matrix with each (row, column) once, the coefficients of repeats summed."""
    row = np.repeat(np.arange(start.size - 1, dtype=np.int64), np.diff(start))
    key = row * n_cols + idx
    uniq, where = np.unique(key, return_inverse=True)
    summed = np.zeros(uniq.size)
    np.add.at(summed, where, val)
    counts = np.bincount(uniq // n_cols, minlength=start.size - 1)
    return ((uniq % n_cols).astype(np.int32), summed,
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
