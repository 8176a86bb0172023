"""stable-baselines3 training on a native batterygym vector env: its ``VecEnv`` adapter.

:class:`SB3VectorEnv` gives SB3 what ``DummyVecEnv`` over ``n`` scalar training envs gives it (each
``Monitor``-ed, optionally reward-shifted by :class:`~batterygym.agents.wrappers.IdleBaselineReward`,
reset on a seed schedule by :class:`~batterygym.agents.wrappers.EpisodeSeeds`), but steps all ``n``
episodes as arrays: the same observations, rewards, dones and infos (``terminal_observation``,
``TimeLimit.truncated``, ``episode`` with the true money), so a run learns the same either way.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvWrapper

from batterygym.envs.vector import BatteryVectorEnv


class _Recorded:
    """A seed iterator that remembers the last seed it gave."""

    def __init__(self, seeds: Iterator[int]) -> None:
        self._seeds = seeds
        self.last: int | None = None

    def __iter__(self) -> _Recorded:
        return self

    def __next__(self) -> int:
        self.last = next(self._seeds)
        return self.last


class SB3VectorEnv(VecEnv):
    """SB3's ``VecEnv`` over a :class:`~batterygym.envs.vector.BatteryVectorEnv` made with ``SAME_STEP`` autoreset.

    ``seeds``: one seed iterator per sub-env (every episode of sub-env ``i`` takes the next of
    ``seeds[i]``); ``reward_baseline="idle"`` subtracts, per step, what the idle action earns in the same
    episode (core's idle rewards), while ``info["episode"]["r"]`` stays the true money.
    """

    def __init__(self, venv: BatteryVectorEnv, seeds: list[Iterator[int]] | None = None,
                 reward_baseline: str | None = None) -> None:
        if not isinstance(venv, BatteryVectorEnv):
            raise ValueError(f"venv must be a batterygym BatteryVectorEnv, got {type(venv).__name__}")
        if venv.autoreset_mode is not AutoresetMode.SAME_STEP:
            raise ValueError(f"venv must autoreset in the same step (autoreset_mode='SameStep', SB3's convention), "
                             f"got {venv.autoreset_mode.value!r}")
        if reward_baseline not in (None, "none", "idle"):
            raise ValueError(f"reward_baseline must be 'idle' or 'none', got {reward_baseline!r}")
        self.venv = venv
        self._baseline = reward_baseline == "idle"
        self._recorded = None if seeds is None else [_Recorded(iter(s)) for s in seeds]
        venv.set_episode_seeds(self._recorded)
        n = venv.num_envs
        self._return = np.zeros(n)
        self._length = np.zeros(n, dtype=np.int64)
        self._idle: list[np.ndarray] = [np.zeros(0)] * n
        self._t0 = time.time()
        self.episodes = 0
        super().__init__(n, venv.single_observation_space, venv.single_action_space)

    @property
    def last_seed(self) -> int | None:
        """The largest seed an episode has used so far (None without a schedule or before a reset)."""
        seen = [r.last for r in self._recorded or [] if r.last is not None]
        return max(seen) if seen else None

    def _start(self, idx: list[int]) -> None:
        self.episodes += len(idx)
        for i in idx:
            self._return[i] = 0.0
            self._length[i] = 0
            if self._baseline:
                self._idle[i] = np.asarray(self.venv.idle_rewards(i), dtype=np.float64)

    def reset(self) -> np.ndarray:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds, options=self._options[0] or None)
        self._seeds = [None] * self.num_envs
        self._options = [{} for _ in range(self.num_envs)]
        self._start(list(range(self.num_envs)))
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        shaped = reward.astype(np.float64)
        if self._baseline:
            for i in range(self.num_envs):
                idle, t = self._idle[i], self._length[i]
                if t < idle.shape[0]:
                    shaped[i] -= idle[t]
        self._return += reward
        self._length += 1
        done = terminated | truncated
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
        ended = np.flatnonzero(done).tolist()
        for i in ended:
            infos[i] = {
                "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                "terminal_observation": info["final_obs"][i],
                "episode": {"r": round(float(self._return[i]), 6), "l": int(self._length[i]),
                            "t": round(time.time() - self._t0, 6)},
            }
        if ended:
            self._start(ended)
        return obs, shaped.astype(np.float32), done, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        raise NotImplementedError(f"{method_name}: the sub-envs of a native vector env are not separate objects")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)


def make_training_vec_env(env_id: str, n_envs: int, env_kwargs: dict[str, Any], seeds: list[Iterator[int]],
                          reward_baseline: str | None) -> SB3VectorEnv:
    """The native vector env of ``env_id`` with ``n_envs`` sub-envs as SB3 trains on it."""
    import batterygym  # noqa: F401 - registers the ids

    venv = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode=AutoresetMode.SAME_STEP, **env_kwargs)
    return SB3VectorEnv(venv, seeds, reward_baseline)


class VecRewardScale(VecEnvWrapper):
    """Training rewards times a fixed ``scale`` (``env.reward_scale`` in the hyper-parameters): one scale for
    the whole run, so an off-policy replay buffer never mixes the scales that running reward normalisation
    drifts through; every return is multiplied alike, so the optimal policy is unchanged."""

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = scale

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, rewards * self.scale, dones, infos
