"""Every id runs the episode its keywords ask for: ``n_days`` just works, ``max_episode_steps`` still truncates."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids

CASES = [("batterygym/Industrial-v0", 168, {"n_days": 14}, 336), ("batterygym/Fleet-v0", 24, {"n_days": 7}, 168),
         ("batterygym/V2G-v0", 24, {"n_days": 3, "n_evs": 5}, 72),
         ("batterygym/MicrogridBSS-v0", 24, {"n_days": 2}, 48)]


def _steps(env: gym.Env) -> tuple[int, bool, bool]:
    env.reset(seed=0)
    n = 0
    while True:
        _, _, te, tr, _ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        n += 1
        if te or tr:
            return n, te, tr


@pytest.mark.parametrize(("env_id", "default", "kwargs", "longer"), CASES)
def test_n_days_runs_the_whole_episode(env_id: str, default: int, kwargs: dict, longer: int) -> None:
    assert _steps(gym.make(env_id)) == (default, True, False)
    assert _steps(gym.make(env_id, **kwargs)) == (longer, True, False)
    assert _steps(gym.make(env_id, max_episode_steps=default // 2, **kwargs)) == (default // 2, False, True)
