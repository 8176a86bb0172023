"""Optimal and heuristic baselines: ``solve_optimal`` dispatches on the scenario's type.

Pyomo is imported only when a MILP is solved, so heuristics stay light.
"""
from __future__ import annotations

from typing import Any

from batterygym.baselines.plan import InfeasibleScenarioError, Plan, SolverError
from batterygym.settings import SETTINGS, load, setting_of_scenario

# scenario class ("module:attr") -> its solver ``solve(scenario, **options) -> Plan`` ("module:attr")
_SOLVERS = {s.scenario: s.solver for s in SETTINGS.values()}


def solve_optimal(scenario: Any, **options: Any) -> Plan:
    """Perfect-foresight optimum of the episode ``scenario`` (e.g. ``env.unwrapped.scenario``).

    Options: ``time_limit`` (s, default 60), ``mip_gap`` (relative, default 1e-7).
    Raises :class:`InfeasibleScenarioError` or :class:`SolverError`, never returns a silent plan.
    """
    setting = setting_of_scenario(scenario)
    if setting is None:
        known = sorted(ref.partition(":")[2] for ref in _SOLVERS)
        raise TypeError(f"no optimiser for {type(scenario).__name__}; known scenarios: {known}")
    return load(_SOLVERS[setting.scenario])(scenario, **options)


__all__ = ["InfeasibleScenarioError", "Plan", "SolverError", "solve_optimal"]
