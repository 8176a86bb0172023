"""HiGHS through Pyomo: explicit limits, explicit status, and exact no-simultaneity on demand.

Every setting's MILP forbids charging and discharging in one step. Its LP relaxation is exact
whenever its solution never does both: that solution is feasible for the MILP, hence optimal. So
:func:`solve_exclusive` solves the LP, adds a binary only at the (battery, step) pairs where both
are positive, and re-solves until none is left. Every model on the way relaxes the full MILP, so
the first solution without simultaneity is the MILP's optimum. Every setting's MILP solves through
this one loop, with its batteries built by :func:`~batterygym.baselines.battery_block.add_batteries`
(which owns the binaries and their rows); a model with binaries of its own (the microgrid's slots)
runs each round as a MIP.

Speed (``batterygym benchmark speed``): a large model (from :data:`LARGE_MODEL_ROWS` rows, e.g.
a year of hourly steps) goes to HiGHS with all its variables registered in one batch
(:func:`load_model`), and its LP rounds use HiGHS's interior point method with crossover, about
twice as fast as dual simplex there, still ending on a vertex. Smaller models take Pyomo's default
path and dual simplex, unchanged. Where the optimum is not unique (equal prices in many hours),
the two paths may return different optimal vertices: same objective, other actions.
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


@dataclass
class SolveInfo:
    status: str
    objective: float
    bound: float
    seconds: float
    n_binaries: int
    rounds: int

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


def solve_once(model: pyo.ConcreteModel, opt, what: str, infeasible_hint: Callable[[], str]) -> tuple:
    """Solve and branch on the termination condition; load the solution only when there is one."""
    res = opt.solve(model)
    tc = res.termination_condition
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = "optimal"
    elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                TerminationCondition.interrupted):
        if res.solution_status not in (SolutionStatus.feasible, SolutionStatus.optimal):
            raise SolverError(f"{what}: HiGHS stopped ({tc.name}) before finding any feasible schedule; "
                              "raise time_limit")
        status = "time_limit"
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        raise InfeasibleScenarioError(f"{what} is infeasible ({tc.name}): {infeasible_hint()}")
    elif tc == TerminationCondition.unbounded:
        raise SolverError(f"{what} is unbounded: a price or limit is missing from the scenario")
    else:
        raise SolverError(f"{what}: HiGHS ended with {tc.name} ({res.termination_message!r})")
    res.solution_loader.load_vars()
    bound = res.objective_bound if res.objective_bound is not None else res.incumbent_objective
    return status, float(res.incumbent_objective), float(bound)


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
) -> SolveInfo:
    """Solve ``model`` (minimisation) with charge/discharge exclusivity on the ``batteries`` in it.

    Each :class:`~batterygym.baselines.battery_block.BatteryBlock` built with ``exclusive="lazy"`` gets
    a binary where a solution charges and discharges at once, and the model is re-solved (module
    docstring); one built with ``"binary"`` gets all of its binaries before the first round. Rounds of
    a model without integer variables are LPs: ``lp_solver`` picks HiGHS's method for them,
    ``"simplex"``, ``"ipm"`` (with crossover, so the solution is a vertex) or ``"auto"`` (IPM from
    :data:`LARGE_MODEL_ROWS` rows on); a model with integer variables of its own is a MIP from the
    first round. ``batch_load`` hands the model to HiGHS with :func:`load_model` (None: from
    :data:`LARGE_MODEL_ROWS` rows on); models with many variables per row (V2G's) gain from it at any
    size. ``solver_options`` are further HiGHS options. ``SolveInfo.n_binaries`` counts the batteries'
    binaries.
    """
    if lp_solver not in LP_SOLVERS:
        raise ValueError(f"lp_solver must be one of {LP_SOLVERS}, got {lp_solver!r}")
    with paused_gc():
        return _solve_rounds(model, batteries, what, time_limit, mip_gap, lp_solver, batch_load, solver_options,
                             infeasible_hint)


def _solve_rounds(model: pyo.ConcreteModel, batteries: Sequence[BatteryBlock], what: str, time_limit: float,
                  mip_gap: float, lp_solver: str, batch_load: bool | None, solver_options: Mapping[str, object] | None,
                  infeasible_hint: Callable[[], str]) -> SolveInfo:
    """The rounds of :func:`solve_exclusive`."""
    opt = _highs(time_limit, mip_gap)
    if solver_options:
        opt.config.solver_options.update(solver_options)
    t0 = time.perf_counter()
    n_rows = sum(len(c) for c in model.component_objects(pyo.Constraint, active=True, descend_into=True))
    large = n_rows >= LARGE_MODEL_ROWS
    if large if batch_load is None else batch_load:
        load_model(opt, model)  # otherwise the first solve sets the instance
    if lp_solver == "auto":
        lp_solver = "ipm" if large else "simplex"
    mip = any(not v.fixed and not v.is_continuous()
              for v in model.component_data_objects(pyo.Var, descend_into=True))
    for b in batteries:
        if b.exclusive == "binary":
            b.exclude(b.pairs)
    n_bin = sum(b.n_binaries for b in batteries)
    rounds = 0
    while True:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - t0)
        if remaining <= 0:
            raise SolverError(f"{what}: time limit of {time_limit} s reached after {rounds - 1} rounds")
        opt.config.time_limit = remaining
        # HiGHS keeps options between runs: set the method every round (a MIP chooses its own).
        opt.config.solver_options["solver"] = lp_solver if not (mip or n_bin) else "choose"
        opt.config.solver_options["run_crossover"] = "on"
        status, obj, bound = solve_once(model, opt, what, infeasible_hint)
        both = [(b, b.simultaneous(SIMULTANEITY_TOL_KW)) for b in batteries]
        if not any(keys for _, keys in both) or status != "optimal":
            if any(keys for _, keys in both):
                raise SolverError(f"{what}: stopped ({status}) with simultaneous charge and discharge left")
            return SolveInfo(status, obj, bound, time.perf_counter() - t0, n_bin, rounds)
        n_bin += sum(b.exclude(keys) for b, keys in both)
