"""HiGHS for the Pyomo models: explicit limits, explicit status, and exact no-simultaneity on demand.

Every setting's MILP forbids charging and discharging in one step. Its LP relaxation is exact
whenever its solution never does both: that solution is feasible for the MILP, hence optimal. So
:func:`solve_exclusive` solves the LP, adds a binary only at the (battery, step) pairs where both
are positive, and re-solves until none is left. Every model on the way relaxes the full MILP, so
the first solution without simultaneity is the MILP's optimum. Every setting's MILP solves through
this one loop, with its batteries built by :func:`~batterygym.baselines.battery_block.add_batteries`
(which owns the binaries and their rows); a model with binaries of its own (the microgrid's slots)
runs each round as a MIP.

How a model reaches HiGHS (``path``, default :data:`DEFAULT_PATH`): the models are Pyomo models, and
``"direct"`` hands them to highspy through :class:`~batterygym.baselines.highs_direct.DirectHighs`:
every row read once, straight from its linear expression into the arrays of one ``addRows`` call,
the solution written back onto the Pyomo variables in one pass, and after a round only the new
binaries and their rows added to the live HiGHS model. Why: Pyomo's persistent interface
(``"pyomo"``, still selectable) walks each expression twice, registers variables in many small calls,
captures HiGHS's output through a pipe and re-scans the whole model every round: translating a V2G
day took 3.4-4.5x HiGHS's own solve there (directly: 0.5x), and a 92-day quarter 12.8 s of its 25.3 s
(directly: 1.8 s of 9.7; HiGHS 3.4 s either way; ``docs/speed.md``). Both paths give HiGHS the same
columns in the same order, the same rows and options, so they return the same vertex (the tests tie
them on every setting). ``SolveInfo.solver_seconds`` is the time inside HiGHS's runs; what
``solve_optimal`` spends beyond it is the Pyomo model's construction, its reading and the plan
(``batterygym benchmark speed`` reports the ratio).

Speed (``batterygym benchmark speed``): a large model (from :data:`LARGE_MODEL_ROWS` rows, e.g.
a year of hourly steps) gets its columns in declaration order (through Pyomo, registered in one
batch by :func:`load_model`), and its LP rounds use HiGHS's interior point method with crossover,
about twice as fast as dual simplex there, still ending on a vertex. Smaller models get their
columns in order of first appearance and dual simplex. Where the optimum is not unique (equal prices
in many hours), the two column orders may return different optimal vertices: same objective, other
actions.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from batterygym.baselines.battery_block import BatteryBlock
from batterygym.baselines.plan import InfeasibleScenarioError, SolverError

SIMULTANEITY_TOL_KW = 1e-6
# From this many rows on, a model is loaded in one batch and its LP rounds use HiGHS's IPM (with
# crossover) instead of dual simplex: on Industrial, IPM wins from about a quarter of a year
# (13k rows) and halves the solve of a year (53k rows); a week has 1k rows.
LARGE_MODEL_ROWS = 20_000
LP_SOLVERS = ("auto", "simplex", "ipm")
# How a model reaches HiGHS (module docstring): read into arrays for highspy, or Pyomo's persistent interface.
PATHS = ("direct", "pyomo")
DEFAULT_PATH = "direct"


@dataclass
class SolveInfo:
    status: str
    objective: float
    bound: float
    seconds: float
    n_binaries: int
    rounds: int
    solver_seconds: float = 0.0  # inside HiGHS's runs (the sum over rounds), part of ``seconds``

    @property
    def gap(self) -> float:
        return abs(self.objective - self.bound) / max(1.0, abs(self.objective))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while a model is built or handed to HiGHS (a decorator too).

    A build allocates millions of objects that live on with the model; the collector's passes over them
    were two thirds of a year's build (0.8 s; 0.25 s without them). Nothing is lost: objects still go
    when unreferenced, and cycles are collected once the collector is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _highs(time_limit: float, mip_gap: float):
    opt = SolverFactory("highs")
    if not opt.available():
        raise SolverError("HiGHS is not available to Pyomo: install highspy (`pip install highspy`)")
    opt.config.time_limit = time_limit
    opt.config.rel_gap = mip_gap
    opt.config.load_solutions = False
    opt.config.raise_exception_on_nonoptimal_result = False
    return opt


def load_model(opt, model: pyo.ConcreteModel) -> None:
    """Hand ``model`` to the persistent HiGHS interface ``opt``, every variable in one batch.

    ``set_instance`` registers variables constraint by constraint, with two HiGHS calls each
    (a third of the translation of a year's 52k rows). So the active constraints and objective are
    switched off while the instance is set, all variables are added at once, and the next
    ``opt.solve(model)`` adds the constraints and objective as its update: the same rows, the
    columns in declaration order.
    """
    parts = list(model.component_data_objects((pyo.Constraint, pyo.Objective), active=True, descend_into=True))
    for p in parts:
        p.deactivate()
    try:
        opt.set_instance(model)
    finally:
        for p in parts:
            p.activate()
    opt.add_variables(list(model.component_data_objects(pyo.Var, descend_into=True)))


def outcome(tc: TerminationCondition, solution: SolutionStatus, message: str | None, what: str,
            infeasible_hint: Callable[[], str]) -> str:
    """The status of a run from its termination condition, or the error that says which and why."""
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        return "optimal"
    if tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
              TerminationCondition.interrupted):
        if solution not in (SolutionStatus.feasible, SolutionStatus.optimal):
            raise SolverError(f"{what}: HiGHS stopped ({tc.name}) before finding any feasible schedule; "
                              "raise time_limit")
        return "time_limit"
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
              TerminationCondition.infeasibleOrUnbounded):
        raise InfeasibleScenarioError(f"{what} is infeasible ({tc.name}): {infeasible_hint()}")
    if tc == TerminationCondition.unbounded:
        raise SolverError(f"{what} is unbounded: a price or limit is missing from the scenario")
    raise SolverError(f"{what}: HiGHS ended with {tc.name} ({message!r})")


def _solve_pyomo(model: pyo.ConcreteModel, opt, what: str, infeasible_hint: Callable[[], str]
                 ) -> tuple[str, float, float, float]:
    """:func:`solve_once`, with HiGHS's cumulative run time after the run."""
    res = opt.solve(model)
    status = outcome(res.termination_condition, res.solution_status, getattr(res, "termination_message", None),
                     what, infeasible_hint)
    res.solution_loader.load_vars()
    bound = res.objective_bound if res.objective_bound is not None else res.incumbent_objective
    return status, float(res.incumbent_objective), float(bound), float(res.timing_info.highs_time or 0.0)


def solve_once(model: pyo.ConcreteModel, opt, what: str, infeasible_hint: Callable[[], str]) -> tuple:
    """Solve through Pyomo's persistent interface ``opt`` and branch on the termination condition; load
    the solution only when there is one. Returns ``(status, objective, bound)``."""
    return _solve_pyomo(model, opt, what, infeasible_hint)[:3]


def solve_exclusive(
    model: pyo.ConcreteModel,
    batteries: Sequence[BatteryBlock],
    *,
    what: str,
    time_limit: float = 60.0,
    mip_gap: float = 1e-7,
    lp_solver: str = "auto",
    batch_load: bool | None = None,
    solver_options: Mapping[str, object] | None = None,
    infeasible_hint: Callable[[], str] = lambda: "no requirement check found the cause",
    path: str | None = None,
) -> SolveInfo:
    """Solve ``model`` (minimisation) with charge/discharge exclusivity on the ``batteries`` in it.

    Each :class:`~batterygym.baselines.battery_block.BatteryBlock` built with ``exclusive="lazy"`` gets
    a binary where a solution charges and discharges at once, and the model is re-solved (module
    docstring); one built with ``"binary"`` gets all of its binaries before the first round. Rounds of
    a model without integer variables are LPs: ``lp_solver`` picks HiGHS's method for them,
    ``"simplex"``, ``"ipm"`` (with crossover, so the solution is a vertex) or ``"auto"`` (IPM from
    :data:`LARGE_MODEL_ROWS` rows on); a model with integer variables of its own is a MIP from the
    first round. ``batch_load`` gives HiGHS the columns in declaration order, as :func:`load_model`
    does (None: from :data:`LARGE_MODEL_ROWS` rows on; models with many variables per row, V2G's, gain
    from it at any size on the ``"pyomo"`` path); without it, in order of first appearance in the rows.
    ``solver_options`` are further HiGHS options. ``path``: how the model reaches HiGHS, ``"direct"``
    (:class:`~batterygym.baselines.highs_direct.DirectHighs`) or ``"pyomo"`` (Pyomo's persistent
    interface); None: :data:`DEFAULT_PATH`. ``SolveInfo.n_binaries`` counts the batteries' binaries.
    """
    if lp_solver not in LP_SOLVERS:
        raise ValueError(f"lp_solver must be one of {LP_SOLVERS}, got {lp_solver!r}")
    path = DEFAULT_PATH if path is None else path
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    with paused_gc():
        return _solve_rounds(model, batteries, what, time_limit, mip_gap, lp_solver, batch_load, solver_options,
                             infeasible_hint, path)


class _PyomoRounds:
    """The rounds through Pyomo's persistent interface (the model re-read by its ``update`` each round)."""

    def __init__(self, model: pyo.ConcreteModel, time_limit: float, mip_gap: float, batch: bool,
                 options: Mapping[str, object]) -> None:
        self.model = model
        self.opt = _highs(time_limit, mip_gap)
        self.opt.config.solver_options.update(options)
        if batch:
            load_model(self.opt, model)  # otherwise the first solve sets the instance
        self.mip = any(not v.fixed and not v.is_continuous()
                       for v in model.component_data_objects(pyo.Var, descend_into=True))
        self._run_time = 0.0

    def solve(self, time_limit: float, options: Mapping[str, object], what: str,
              infeasible_hint: Callable[[], str]) -> tuple[str, float, float, float]:
        self.opt.config.time_limit = time_limit
        self.opt.config.solver_options.update(options)
        status, obj, bound, run_time = _solve_pyomo(self.model, self.opt, what, infeasible_hint)
        seconds, self._run_time = run_time - self._run_time, run_time
        return status, obj, bound, seconds

    def added_rows(self) -> None:
        """Nothing: the next solve's update finds the new rows."""


class _DirectRounds:
    """The rounds through :class:`~batterygym.baselines.highs_direct.DirectHighs`: the model read once,
    then only the rows each round adds."""

    def __init__(self, model: pyo.ConcreteModel, time_limit: float, mip_gap: float, batch: bool,
                 options: Mapping[str, object]) -> None:
        from batterygym.baselines.highs_direct import DirectHighs

        self.highs = DirectHighs(model, declared_columns=batch)
        self.highs.load()
        self.highs.set_options({"mip_rel_gap": mip_gap, **options})
        self.mip = self.highs.n_integer > 0

    def solve(self, time_limit: float, options: Mapping[str, object], what: str,
              infeasible_hint: Callable[[], str]) -> tuple[str, float, float, float]:
        h = self.highs
        h.set_options({"time_limit": time_limit, **options})
        res = h.run()
        status = outcome(res.termination, res.solution_status, res.message, what, infeasible_hint)
        h.load_vars()
        bound = res.bound if res.bound is not None else res.incumbent
        return status, float(res.incumbent), float(bound), res.seconds

    def added_rows(self) -> None:
        self.highs.update()


def _solve_rounds(model: pyo.ConcreteModel, batteries: Sequence[BatteryBlock], what: str, time_limit: float,
                  mip_gap: float, lp_solver: str, batch_load: bool | None, solver_options: Mapping[str, object] | None,
                  infeasible_hint: Callable[[], str], path: str) -> SolveInfo:
    """The rounds of :func:`solve_exclusive`."""
    if path == "direct":
        _check_highspy()
    t0 = time.perf_counter()
    n_rows = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True, descend_into=True))
    large = n_rows >= LARGE_MODEL_ROWS
    if lp_solver == "auto":
        lp_solver = "ipm" if large else "simplex"
    for b in batteries:
        if b.exclusive == "binary":
            b.exclude(b.pairs)
    n_bin = sum(b.n_binaries for b in batteries)
    rounds_of = _DirectRounds if path == "direct" else _PyomoRounds
    backend = rounds_of(model, time_limit, mip_gap, large if batch_load is None else batch_load,
                        dict(solver_options or {}))
    rounds, solver_s = 0, 0.0
    while True:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - t0)
        if remaining <= 0:
            raise SolverError(f"{what}: time limit of {time_limit} s reached after {rounds - 1} rounds")
        # HiGHS keeps options between runs: set the method every round (a MIP chooses its own).
        options = {"solver": lp_solver if not (backend.mip or n_bin) else "choose", "run_crossover": "on"}
        status, obj, bound, seconds = backend.solve(remaining, options, what, infeasible_hint)
        solver_s += seconds
        both = [(b, b.simultaneous(SIMULTANEITY_TOL_KW)) for b in batteries]
        if not any(keys for _, keys in both) or status != "optimal":
            if any(keys for _, keys in both):
                raise SolverError(f"{what}: stopped ({status}) with simultaneous charge and discharge left")
            return SolveInfo(status, obj, bound, time.perf_counter() - t0, n_bin, rounds, solver_s)
        n_bin += sum(b.exclude(keys) for b, keys in both)
        backend.added_rows()


def _check_highspy() -> None:
    try:
        import highspy  # noqa: F401
    except ImportError:
        raise SolverError("HiGHS is not available to Pyomo: install highspy (`pip install highspy`)") from None
