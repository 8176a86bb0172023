"""What an optimiser returns, and the errors it raises instead of a silent plan."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from batterygym.core.battery import shares_of_powers


class SolverError(RuntimeError):
    """The solver failed or stopped without a usable solution; the message says which and why."""


class InfeasibleScenarioError(SolverError, ValueError):
    """The scenario has no feasible schedule; the message names the requirement that cannot be met."""


@dataclass
class Plan:
    """A schedule for one episode.

    ``objective`` is the episode's total reward (same sign and units as the env's rewards): what the
    env pays for ``actions`` (float32, in the env's own action space, shape ``(T, *action_shape)``),
    settled by the setting's own model, so replaying them after ``env.reset(seed=s)`` earns
    ``objective`` to rounding (the MILP's own value is ``details["milp_objective"]``);
    ``schedule`` holds the physical decisions and states per step. ``bound`` is the solver's bound
    on any policy's return (``objective`` up to ``mip_gap``; None when unknown). ``build_seconds``
    is the model's construction, ``solve_seconds`` its way through HiGHS (translation, rounds, solution
    loading) and ``solver_seconds`` the part of that inside HiGHS's own runs.
    """

    objective: float
    actions: np.ndarray
    schedule: pd.DataFrame
    status: str
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    solver_seconds: float = 0.0
    mip_gap: float = 0.0
    details: dict[str, float] = field(default_factory=dict)
    bound: float | None = None


def plan_actions(x: np.ndarray) -> np.ndarray:
    """A plan's actions: the set-points' shares as float32 in [-1, 1], never smaller in magnitude than
    the plan's. A set-point on a limit (discharge exactly the net load, say) then lands on or beyond it,
    and the env's projection clips it back onto the limit exactly instead of leaving a sliver of
    import that a demand charge would price."""
    x = np.asarray(x, dtype=np.float64)
    a = x.astype(np.float32)
    short = np.abs(a.astype(np.float64)) < np.abs(x)
    a[short] = np.nextafter(a[short], np.where(x[short] > 0, np.float32(np.inf), np.float32(-np.inf)))
    return np.clip(a, np.float32(-1.0), np.float32(1.0))


def plan_actions_of_powers(power_kw: np.ndarray, p_charge_kw: np.ndarray | float,
                           p_discharge_kw: np.ndarray | float) -> np.ndarray:
    """A plan's actions for signed set-points ``power_kw``: their shares of the ratings (core's
    :func:`~batterygym.core.battery.shares_of_powers`, the inverse of the env's action map), rounded as
    :func:`plan_actions` rounds them."""
    return plan_actions(shares_of_powers(np.asarray(power_kw, dtype=np.float64), p_charge_kw, p_discharge_kw))
