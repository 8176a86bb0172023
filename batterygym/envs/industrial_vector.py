"""``Industrial-v0``'s native vector env: ``num_envs`` industrial episodes stepped as arrays.

``gym.make_vec("batterygym/Industrial-v0", n, vectorization_mode="vector_entry_point", **kwargs)``
equals ``gym.make_vec(..., vectorization_mode="sync")`` over ``n`` :class:`IndustrialEnv` (same seeds,
same episodes, observations, rewards and info money), at a fraction of the cost: the episodes are
drawn by :func:`~batterygym.core.industrial_generator.generate_industrial_batch` (each sub-env's
numbers from its own generator, the arrays of all at once) and stepped by
:class:`~batterygym.core.industrial_state.IndustrialBatch`. While the sub-envs are at one step (they
start and end together), an observation is a few slices of per-episode tables, gathered from nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from batterygym.core.industrial import IndustrialScenario, idle_rewards
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial_batch
from batterygym.core.industrial_state import IndustrialBatch, arrays_of_episodes
from batterygym.envs._args import check_env_args
from batterygym.envs.industrial import INFO_KEYS, N_STATE, OBS_WINDOWS, spaces_of, time_features, window_series
from batterygym.envs.vector import BatteryVectorEnv


class IndustrialVectorEnv(BatteryVectorEnv):
    """``num_envs`` :class:`~batterygym.envs.industrial.IndustrialEnv` episodes as one vector env.

    Arguments are the scalar env's (``scenario=None``, ``lookahead=24``, ``**site``) plus ``num_envs``,
    ``max_episode_steps`` and ``autoreset_mode``; a fixed ``scenario`` is replayed by every sub-env.
    ``scenario(i)`` is sub-env ``i``'s current episode (for ``solve_optimal``; built on demand from the
    batch's arrays), ``idle_rewards(i)`` its zero-action rewards; infos carry the scalar env's keys as
    arrays.
    """

    batteries_per_env = 1

    def __init__(self, num_envs: int, scenario: IndustrialScenario | None = None, lookahead: int = 24,
                 max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **site: Any) -> None:
        check_env_args(self, scenario, IndustrialScenario, lookahead, None, site, "site")
        self.config = IndustrialSiteConfig.from_kwargs(**site)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        observation, action = spaces_of(scenario, self.config, lookahead)
        super().__init__(num_envs, observation, action, max_episode_steps, autoreset_mode)
        n_steps = scenario.n_steps if scenario is not None else self.config.n_steps
        dt = scenario.dt_h if scenario is not None else self.config.dt_h
        self._batch = IndustrialBatch(num_envs, n_steps, dt)
        self._n_steps, self._dim = n_steps, observation.shape[0]
        h = lookahead
        if scenario is not None:  # one table for every sub-env, broadcast
            self._batch.load(np.arange(num_envs), [scenario] * num_envs)
            self._time = time_features(scenario.hour_of_day, scenario.day_of_week, dt)[None]
            self._time_index: np.ndarray | None = None  # every sub-env reads table 0
            self._windows = window_series(scenario.net_kw / scenario.connection_kw, scenario.price_import,
                                          scenario.price_export, h)[None]
        else:
            self._time = np.zeros((7, n_steps + 1, OBS_WINDOWS - N_STATE), dtype=np.float32)  # per start weekday
            self._time_index = np.zeros(num_envs, dtype=np.int64)
            self._windows = np.zeros((num_envs, 3, n_steps + h), dtype=np.float32)
        self._clocks: np.ndarray | None = None
        self._sources: list[Any] = [None] * num_envs

    @property
    def scenarios(self) -> list[IndustrialScenario | None]:
        """Each sub-env's current episode (None before the first reset); generated ones are built on demand."""
        return [self.scenario(i) for i in range(self.num_envs)]

    def scenario(self, i: int) -> IndustrialScenario | None:
        """Sub-env ``i``'s current episode (None before the first reset)."""
        source = self._sources[i]
        if source is None or isinstance(source, IndustrialScenario):
            return source
        episodes, j = source
        s = episodes.scenario(j)
        self._sources[i] = s
        return s

    def idle_rewards(self, i: int) -> np.ndarray:
        """Per step, the reward the zero action earns in sub-env ``i``'s current episode."""
        s = self.scenario(i)
        if s is None:
            raise RuntimeError("call reset() first")
        return idle_rewards(s)

    # ------------------------------------------------------------------ BatteryVectorEnv
    def _begin(self, idx: np.ndarray, rngs: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        if self.fixed_scenario is not None:
            self._batch.restart(idx)
            for i in idx.tolist():
                self._sources[i] = self.fixed_scenario
            return
        episodes = generate_industrial_batch(rngs, self.config)
        self._batch.load(idx, arrays_of_episodes(episodes))
        cal, cfg = episodes.calendar, self.config
        self._windows[idx] = window_series((episodes.net_kw / cfg.connection_kw).T, episodes.price_import().T,
                                           np.broadcast_to(cal.price_export, (idx.size, cal.n)), self.lookahead)
        if self._time is not self._clock_table(cal):
            self._time = self._clock_table(cal)
            self._time_shared = (self._time == self._time[:1]).all(axis=(0, 1))  # e.g. the hour, the progress
        self._time_index[idx] = episodes.weekday
        for j, i in enumerate(idx.tolist()):
            self._sources[i] = (episodes, j)

    def _clock_table(self, cal: Any) -> np.ndarray:
        """:func:`time_features` per start weekday ``(7, n_steps + 1, 5)``: a generated episode's clock
        depends on its start weekday alone."""
        if self._clocks is None:
            self._clocks = np.stack([time_features(cal.hour_of_day, dow, self.config.dt_h)
                                     for dow in cal.day_of_week])
        return self._clocks

    def _advance(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        step = self._batch.step(actions[:, 0], None if active.all() else active)
        info = {key: getattr(step, key) for key in INFO_KEYS}
        return step.reward, step.terminated, info

    def _observe(self) -> np.ndarray:
        n, h, batch = self.num_envs, self.lookahead, self._batch
        out = np.empty((n, self._dim), dtype=np.float32)
        batch.write_slots(out)
        windows = out[:, OBS_WINDOWS:].reshape(n, 3, h)
        t0 = batch.step_index
        index = self._time_index
        if t0 is not None:
            now = self._time[:, t0]
            if index is None:
                out[:, N_STATE:OBS_WINDOWS] = now[0]
            else:  # column by column (a strided column is one fast copy); the columns all clocks share, once
                for c in range(OBS_WINDOWS - N_STATE):
                    out[:, N_STATE + c] = now[0, c] if self._time_shared[c] else now[index, c]
            windows[:] = self._windows[:, :, t0:t0 + h]
            return out
        t = batch.t
        out[:, N_STATE:OBS_WINDOWS] = self._time[0 if index is None else index, t]
        rows = np.arange(n) if self._windows.shape[0] == n else np.zeros(n, dtype=np.int64)
        w = self._windows
        size = w.itemsize
        every = np.lib.stride_tricks.as_strided(w, shape=(w.shape[0], self._n_steps + 1, 3, h),
                                                strides=(w.strides[0], size, w.strides[1], size), writeable=False)
        windows[:] = every[rows, t]
        return out
