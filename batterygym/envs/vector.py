"""What every native batterygym vector env shares: seeding, autoreset, truncation, actions and infos.

A setting's vector env steps its ``num_envs`` episodes as arrays (its batched state lives in core) and
subclasses :class:`BatteryVectorEnv`, which gives it Gymnasium 1.x's vector API:

* seeding as ``num_envs`` scalar envs: ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i`` (a list
  gives one seed each), and each sub-env draws its next episodes from its own generator, so the
  trajectories equal those of ``gym.make_vec(id, n, vectorization_mode="sync")`` for the same seeds;
* ``autoreset_mode`` ``NEXT_STEP`` (the default: the step after an episode ends resets that sub-env,
  with reward 0) or ``SAME_STEP`` (it resets at once; ``info["final_obs"]`` and ``info["final_info"]``
  hold the end of the episode), as :class:`gymnasium.vector.SyncVectorEnv` does them;
* ``max_episode_steps`` truncation, as :class:`gymnasium.wrappers.TimeLimit` does it;
* infos as arrays with a ``_key`` mask per key (the sub-envs that stepped).

A subclass implements :meth:`_begin` (draw and start episodes), :meth:`_advance` (step the active
sub-envs) and :meth:`_observe` (the batched observation).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


def per_env_seeds(seed: int | list[int | None] | None, n: int) -> list[int | None]:
    """Sub-env seeds as :class:`gymnasium.vector.SyncVectorEnv` derives them from ``reset(seed=...)``."""
    if seed is None:
        return [None] * n
    if isinstance(seed, (list, tuple)):
        if len(seed) != n:
            raise ValueError(f"seed must be an int or a list of {n} seeds (one per sub-env), got {len(seed)}")
        seeds = list(seed)
    elif isinstance(seed, int) and not isinstance(seed, bool):
        seeds = [seed + i for i in range(n)]
    else:
        raise ValueError(f"seed must be a non-negative integer, a list of them, or None, got {seed!r}")
    for s in seeds:
        if s is not None and (not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {s!r}")
    return [None if s is None else int(s) for s in seeds]


class BatteryVectorEnv(VectorEnv):
    """Base of the native vector envs (module docstring): ``num_envs`` episodes stepped as arrays."""

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, single_observation_space: spaces.Box, single_action_space: spaces.Box,
                 max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP) -> None:
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, int)
                                              or isinstance(max_episode_steps, bool) or max_episode_steps < 1):
            raise ValueError(f"max_episode_steps must be a positive integer or None, got {max_episode_steps!r}")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in AUTORESET_MODES:
            raise ValueError(f"autoreset_mode must be one of {[m.value for m in AUTORESET_MODES]}, "
                             f"got {autoreset_mode!r}")
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.autoreset_mode = mode
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.render_mode = None
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, num_envs)
        self.action_space = batch_space(single_action_space, num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._steps = np.zeros(num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(num_envs, dtype=bool)
        self._all_active = np.ones(num_envs, dtype=bool)
        self._all_active.setflags(write=False)
        self._none_truncated = np.zeros(num_envs, dtype=bool)
        self._started = False
        self._schedules: list[Iterator[int]] | None = None

    def set_episode_seeds(self, schedules: list[Iterator[int]] | None) -> None:
        """Seed every episode of sub-env ``i`` with the next seed of ``schedules[i]`` (the first at the next
        :meth:`reset`, later ones at each autoreset), so the episodes a training run sees are known; None
        goes back to drawing from each sub-env's generator."""
        if schedules is not None and len(schedules) != self.num_envs:
            raise ValueError(f"schedules must hold one seed iterator per sub-env ({self.num_envs}), "
                             f"got {len(schedules)}")
        self._schedules = None if schedules is None else list(schedules)

    # ------------------------------------------------------------------ subclass interface
    def _begin(self, idx: np.ndarray, rngs: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        """Start new episodes in sub-envs ``idx``, drawing sub-env ``idx[j]``'s from ``rngs[j]``."""
        raise NotImplementedError

    def _advance(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Step the sub-envs where ``active``: ``(reward, terminated, info arrays)``, reward 0 elsewhere."""
        raise NotImplementedError

    def _observe(self) -> np.ndarray:
        """The observation of every sub-env now, ``(num_envs, *single_observation_space.shape)``."""
        raise NotImplementedError

    def idle_rewards(self, i: int) -> np.ndarray:
        """Per step, the reward the idle (zero) action earns in sub-env ``i``'s current episode (from its
        scenario, by core): what the training reward baseline subtracts."""
        raise NotImplementedError(f"{type(self).__name__} does not compute idle rewards")

    def _check_reset_options(self, options: dict[str, Any] | None) -> None:
        """Refuse reset options the env does not read (override to accept some)."""
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options, key=str)}; known: none")

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode in every sub-env (seeded as ``num_envs`` scalar envs, module docstring)."""
        if options is not None and not isinstance(options, dict):
            raise ValueError(f"options must be a dict or None, got {options!r}")
        self._check_reset_options(options)
        if self._schedules is not None:
            seed = [next(it) for it in self._schedules]
        seeds = per_env_seeds(seed, self.num_envs)
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seeds[0])
        for i, s in enumerate(seeds):
            if s is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(s)
        idx = np.arange(self.num_envs)
        self._begin(idx, list(self._rngs), options)
        self._steps[:] = 0
        self._needs_reset[:] = False
        self._started = True
        return self._observe(), {}

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions, dtype=np.float64)
        want = self.action_space.shape
        if a.shape != want:
            raise ValueError(f"actions must have shape {want} (num_envs x the single action), got {a.shape}")
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(f"actions must be finite, got {a[tuple(bad)]} in sub-env {int(bad[0])} at index "
                             f"{tuple(int(x) for x in bad[1:])}")
        return a

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env; with ``NEXT_STEP`` a sub-env whose episode ended last step resets instead."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = self._check_actions(actions)
        resetting = self._needs_reset
        if resetting.any():
            active = ~resetting
            reward, terminated, info = self._advance(a, active)
            reward = np.where(active, reward, 0.0)
            terminated = np.asarray(terminated, dtype=bool) & active
            self._steps += active
        else:  # nobody resets: no masking (the common step)
            active = self._all_active
            reward, terminated, info = self._advance(a, active)
            terminated = np.asarray(terminated, dtype=bool)
            self._steps += 1
        if self.max_episode_steps is None:
            truncated = self._none_truncated.copy()
        else:
            truncated = active & ~terminated & (self._steps >= self.max_episode_steps)
        info = self._masked(info, active)
        done = terminated | truncated
        if resetting.any():
            self._restart(resetting)
        if self.autoreset_mode is AutoresetMode.SAME_STEP and done.any():
            final = self._observe()
            info["final_obs"] = np.full(self.num_envs, None, dtype=object)
            # as SyncVectorEnv: a sub-env that ended has its step's info in final_info, its reset's (empty) in info
            info["final_info"] = {k: (v & done if k.startswith("_") else v) for k, v in info.items()
                                  if k != "final_obs"}
            for k in info["final_info"]:
                if k.startswith("_"):
                    info[k] = info[k] & ~done
            for i in np.flatnonzero(done).tolist():
                info["final_obs"][i] = final[i]
            info["_final_obs"] = done.copy()
            info["_final_info"] = done.copy()
            self._restart(done)
            self._needs_reset[:] = False
        else:
            self._needs_reset = done
        return self._observe(), reward, terminated, truncated, info

    def _restart(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        if self._schedules is not None:
            for i in idx.tolist():
                self._rngs[i], _ = seeding.np_random(int(next(self._schedules[i])))
        self._begin(idx, [self._rngs[i] for i in idx.tolist()], None)
        self._steps[idx] = 0

    def _masked(self, info: dict[str, Any], active: np.ndarray) -> dict[str, Any]:
        """Arrays of per-sub-env values, each with its ``_key`` mask (the sub-envs that stepped)."""
        out: dict[str, Any] = {}
        mask = active.copy()
        mask.setflags(write=False)  # one mask shared by every key: read-only, so no key's edit leaks to another
        for key, value in info.items():
            out[key] = value
            out[f"_{key}"] = mask
        return out
