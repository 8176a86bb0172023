"""The heuristic rungs of a setting, and one episode played by a policy.

A policy is a callable ``policy(obs) -> action`` in the env's action space. Every setting's rungs start
with :class:`Idle`; the others are the setting's heuristics (:mod:`batterygym.settings`), weakest first.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from batterygym.settings import SETTINGS, load, setting_of_env

Policy = Callable[[np.ndarray], np.ndarray]

# env class ("module:attr") -> its setting's heuristic classes ("module:attr"), weakest first
HEURISTICS: dict[str, tuple[str, ...]] = {s.entry_point: s.heuristics for s in SETTINGS.values()}


class Idle:
    """Never use the battery: the reference every gain is measured from."""

    name = "idle"

    def __init__(self, env: gym.Env) -> None:
        self._action = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self._action.copy()


def heuristic_classes(env: gym.Env) -> dict[str, type]:
    """The heuristic rungs for ``env``'s setting as classes taking the env, keyed by name (idle first)."""
    rungs: dict[str, type] = {"idle": Idle}
    setting = setting_of_env(env)
    for ref in HEURISTICS.get(setting.entry_point, ()) if setting is not None else ():
        cls = load(ref)
        rungs[cls.name] = cls
    return rungs


def heuristics_for(env: gym.Env) -> dict[str, Policy]:
    """The heuristic rungs for ``env``'s setting, bound to ``env``, from the weakest up."""
    return {name: cls(env) for name, cls in heuristic_classes(env).items()}


def rollout(env: gym.Env, policy: Policy, seed: int | None = None) -> tuple[float, list[dict[str, Any]]]:
    """Run one episode with ``policy``; the total reward and the per-step ``info`` records."""
    obs, _ = env.reset(seed=seed)
    total, infos = 0.0, []
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        total += float(reward)
        infos.append(info)
        if terminated or truncated:
            return total, infos
