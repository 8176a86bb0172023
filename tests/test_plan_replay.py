"""Every id's plan replays to 1e-9 relative (its float32 actions settled by the model) within its bound."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal

IDS = ["batterygym/Industrial-v0", "batterygym/Fleet-v0", "batterygym/V2G-v0", "batterygym/MicrogridBSS-v0"]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("seed", [0, 3])
def test_plan_replays_exactly_within_its_bound(env_id: str, seed: int) -> None:
    env = gym.make(env_id)
    env.reset(seed=seed)
    plan = solve_optimal(env.unwrapped.scenario)
    assert plan.actions.dtype == np.float32 and env.action_space.contains(plan.actions[0])
    assert np.all(np.abs(plan.actions) <= 1.0)
    env.reset(seed=seed)
    total = 0.0
    for a in plan.actions:
        _, r, term, trunc, _ = env.step(a)
        total += r
    assert term and not trunc
    assert total == pytest.approx(plan.objective, rel=1e-9, abs=1e-9)
    assert plan.bound is not None
    assert plan.objective <= plan.bound + 1e-6 * max(1.0, abs(plan.bound))
    assert plan.details["milp_objective"] == pytest.approx(plan.objective, rel=max(1e-6, 2 * plan.mip_gap))
