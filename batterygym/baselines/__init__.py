"""Optimal and heuristic baselines: ``solve_optimal`` dispatches on the scenario's type.

Pyomo is imported only when a MILP is solved, so heuristics stay light.
"""
from __future__ import annotations

import importlib
from typing import Any

from batterygym.baselines.plan import InfeasibleScenarioError, Plan, SolverError

# scenario class name -> module with `solve(scenario, **options) -> Plan`
_SOLVERS = {
    "IndustrialScenario": "batterygym.baselines.industrial",
    "FleetScenario": "batterygym.baselines.fleet",
    "V2GScenario": "batterygym.baselines.v2g",
    "MicrogridScenario": "batterygym.baselines.microgrid_bss",
}


def solve_optimal(scenario: Any, **options: Any) -> Plan:
    """Perfect-foresight optimum of the episode ``scenario`` (e.g. ``env.unwrapped.scenario``).

    Options: ``time_limit`` (s, default 60), ``mip_gap`` (relative, default 1e-7).
    Raises :class:`InfeasibleScenarioError` or :class:`SolverError`, never returns a silent plan.
    """
    name = type(scenario).__name__
    if name not in _SOLVERS:
        raise TypeError(f"no optimiser for {name}; known scenarios: {sorted(_SOLVERS)}")
    return importlib.import_module(_SOLVERS[name]).solve(scenario, **options)


__all__ = ["InfeasibleScenarioError", "Plan", "SolverError", "solve_optimal"]
