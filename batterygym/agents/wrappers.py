"""Training wrappers: which episodes an agent sees, and a variance-free view of the same money."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np


class EpisodeSeeds(gym.Wrapper):
    """Reset every episode with the next seed of a schedule, so the episodes a run sees are known.

    Any seed passed to ``reset`` is ignored in favour of the schedule: this is what keeps training
    episodes disjoint from the held-out evaluation seeds (see ``batterygym.agents.seeds``).
    """

    def __init__(self, env: gym.Env, seeds: Iterator[int]) -> None:
        super().__init__(env)
        self._seeds = seeds
        self.last_seed: int | None = None
        self.episodes = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.last_seed = next(self._seeds)
        self.episodes += 1
        return self.env.reset(seed=self.last_seed, options=options)


class IdleBaselineReward(gym.Wrapper):
    """Reward minus what the idle (zero) action would have earned at the same step of the episode.

    The subtracted series depends only on the episode's scenario, never on the agent's actions, so
    every policy's return shifts by the same per-episode constant and the optimal policy is
    unchanged; what goes is the large, uncontrollable variance of the site's own bill. Evaluation
    always uses the env's true reward. The series is the env's ``idle_rewards()``, which core computes
    from the episode's scenario (no copy of the env is stepped).
    """

    def __init__(self, env: gym.Env) -> None:
        if not callable(getattr(env.unwrapped, "idle_rewards", None)):
            raise ValueError(f"IdleBaselineReward needs an env with idle_rewards(); {type(env.unwrapped).__name__} "
                             "has none")
        super().__init__(env)
        self._idle = np.zeros(0)
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._idle = np.asarray(self.env.unwrapped.idle_rewards(), dtype=np.float64)
        self._t = 0
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        base = self._idle[self._t] if self._t < self._idle.shape[0] else 0.0
        self._t += 1
        return obs, float(reward - base), terminated, truncated, info

