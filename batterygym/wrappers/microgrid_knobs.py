"""``MicrogridBSS-v0`` through the look-ahead plan's knobs: an agent corrects :class:`MicrogridPlanner` per block.

The env's action is one value per station slot and storage pack (16); a lost swap costs tens of euros while
the right charging hour saves cents per kWh, so noise on any slot's value is dear. Here the agent sets a few
knobs of the plan instead (:class:`~batterygym.wrappers.microgrid_plan.MicrogridPlanner`: each category's
weight of a lost swap, the value of the energy the storage keeps, a markup on its grid charging), held over
a block of hours; the planner turns them into the env's own action every hour. A zero action is the plan.

Every hour ends in an ordinary env action, which the env projects as always: the wrapper never widens what
the env can do, and the money is the env's own.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.wrappers.microgrid_plan import MicrogridPlanner


class MicrogridKnobAction(gym.Wrapper):
    """One agent step is a block of ``block_steps`` env steps under the planner, with the agent's knobs.

    Action ``Box(-1, 1, (C + 2,))``: the planner's knobs, held over the block. Observation: the env's, at the
    block's start. Reward: the sum of the env's rewards over the block (its money, unchanged); ``info`` is the
    block's last step's, with ``"steps"`` (env steps taken) and ``"actions"`` (the env actions applied).
    """

    def __init__(self, env: gym.Env, block_steps: int = 1) -> None:
        super().__init__(env)
        if not isinstance(block_steps, int) or isinstance(block_steps, bool) or block_steps < 1:
            raise ValueError(f"block_steps must be a positive integer, got {block_steps!r}")
        self.planner = MicrogridPlanner(env)
        self.block_steps = block_steps
        self.observation_space = env.observation_space
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.planner.n_knobs,), dtype=np.float32)
        self._obs: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = obs
        return obs, info

    def step(self, action: np.ndarray):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        knobs = np.clip(np.asarray(action, dtype=np.float64).reshape(self.planner.n_knobs), -1.0, 1.0)
        total, applied = 0.0, []
        obs, terminated, truncated, info = self._obs, False, False, {}
        while len(applied) < self.block_steps and not (terminated or truncated):
            a = self.planner.action(obs, knobs)
            obs, reward, terminated, truncated, info = self.env.step(a)
            applied.append(a)
            total += float(reward)
        self._obs = obs
        return obs, total, terminated, truncated, {**info, "steps": len(applied), "actions": applied}


class MicrogridKnobPolicy:
    """An agent trained on :class:`MicrogridKnobAction`, played on the plain env hour by hour: at each block's
    first hour it reads the observation and picks the knobs; every hour the planner acts."""

    def __init__(self, env: gym.Env, agent: Callable[[np.ndarray], np.ndarray], block_steps: int = 1) -> None:
        self.planner = MicrogridPlanner(env)
        self.agent, self.block_steps = agent, block_steps
        self._elapsed = env.unwrapped.layout["time"].start + 2
        self._t, self._knobs = 0, np.zeros(self.planner.n_knobs)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if float(obs[self._elapsed]) == 0.0:  # the episode's first step (its elapsed share is 0)
            self._t = 0
        if self._t % self.block_steps == 0:
            self._knobs = np.asarray(self.agent(obs), dtype=np.float64).reshape(self.planner.n_knobs)
        self._t += 1
        return self.planner.action(obs, self._knobs)
