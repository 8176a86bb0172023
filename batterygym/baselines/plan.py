"""What an optimiser returns, and the errors it raises instead of a silent plan."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class SolverError(RuntimeError):
    """The solver failed or stopped without a usable solution; the message says which and why."""


class InfeasibleScenarioError(SolverError, ValueError):
    """The scenario has no feasible schedule; the message names the requirement that cannot be met."""


@dataclass
class Plan:
    """A schedule for one episode.

    ``objective`` is the episode's total reward (same sign and units as the env's rewards);
    ``actions`` has shape ``(T, *action_shape)`` in the env's own action space, so replaying them
    after ``env.reset(seed=s)`` earns ``objective``; ``schedule`` holds the physical decisions and
    states per step.
    """

    objective: float
    actions: np.ndarray
    schedule: pd.DataFrame
    status: str
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    mip_gap: float = 0.0
    details: dict[str, float] = field(default_factory=dict)
