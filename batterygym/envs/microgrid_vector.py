"""``batterygym/MicrogridBSS-v0`` as a native vector env: ``num_envs`` microgrids stepped as arrays.

``gym.make_vec("batterygym/MicrogridBSS-v0", n, vectorization_mode="vector_entry_point", **kwargs)``
equals ``n`` :class:`~batterygym.envs.microgrid_bss.MicrogridBSSEnv` under
:class:`gymnasium.vector.SyncVectorEnv` with the same seeds: the same episodes (each sub-env draws its
own from its own generator, :func:`~batterygym.core.microgrid_generator.generate_episodes` builds them
together), observations, rewards and money infos. The step is core's
:class:`~batterygym.core.microgrid_batch.MicrogridBatchState`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from batterygym.core.microgrid import MicrogridScenario, idle_rewards, res_scale
from batterygym.core.microgrid_batch import EpisodeTables, MicrogridBatchState, MicrogridEpisodes
from batterygym.core.microgrid_generator import MicrogridConfig, fixed_storage, generate_episodes
from batterygym.envs._args import check_env_args
from batterygym.envs.microgrid_bss import ObsSpec
from batterygym.envs.vector import BatteryVectorEnv

INFO_KEYS = ("served", "lost", "station_kw", "storage_kw", "grid_kw", "unserved_kw", "curtailed_kw", "clipped_kw",
             "swap_revenue_eur", "lost_penalty_eur", "resident_revenue_eur", "grid_cost_eur", "unserved_cost_eur",
             "pack_wear_eur", "fast_charge_eur", "storage_wear_eur", "terminal_eur")


class MicrogridBSSVectorEnv(BatteryVectorEnv):
    """``num_envs`` MicrogridBSS envs stepped at once (module docstring); keyword arguments as
    :class:`~batterygym.envs.microgrid_bss.MicrogridBSSEnv`'s, plus ``num_envs``, ``max_episode_steps``
    and ``autoreset_mode``. ``info`` holds the scalar env's keys as arrays: ``served``/``lost``
    ``(num_envs, C)``, ``station_kw`` ``(num_envs, S)``, ``storage_kw`` ``(num_envs, K)``, the rest
    ``(num_envs,)``, each with its ``_key`` mask."""

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, scenario: MicrogridScenario | None = None, lookahead: int = 12,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **microgrid: Any) -> None:
        check_env_args(self, scenario, MicrogridScenario, lookahead, render_mode, microgrid, "microgrid")
        self.config = cfg = MicrogridConfig.from_kwargs(**microgrid)
        self.obs_spec = spec = ObsSpec(scenario, cfg, lookahead)
        super().__init__(num_envs, spec.observation_space, spec.action_space, max_episode_steps, autoreset_mode)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        self.batteries_per_env = spec.n_slots + spec.n_storage
        if scenario is not None:
            fixed = MicrogridEpisodes.of([scenario])
            shared, n_steps, start = fixed.shared, scenario.n_steps, scenario.start
        else:
            fixed = None
            shared, n_steps, start = cfg.plan.shared, cfg.n_steps, "2000-01-01T00:00"  # generated days start at 0:00
        self._storage = fixed_storage(cfg) if scenario is None else None
        self.n_steps = n_steps
        self.state = MicrogridBatchState(num_envs, shared, n_steps, spec.n_storage)
        self._clock = spec.clock_rows(n_steps, start, shared["expected_swaps"])
        self._x = np.empty((num_envs, n_steps + 1, spec.observation_space.shape[0]), dtype=np.float32)
        self._x[:] = self._clock
        self._fixed: tuple[EpisodeTables, np.ndarray] | None = None
        if fixed is not None:
            self._fixed = (self.state.tables(fixed), self._rows_of(fixed))
        self._episodes: list[tuple[MicrogridEpisodes, int] | None] = [None] * num_envs
        # observation constants (as MicrogridBSSEnv._obs computes them)
        st = self.state
        n_c = st.n_packs.shape[0]
        self._onehot = (st.slot_category[:, None] == np.arange(n_c)[None, :]).astype(np.float64)
        self._inv_n = np.array([1.0 / n if n else 0.0 for n in st.n_packs.tolist()])
        self._has_n = (st.n_packs > 0).astype(np.float64)
        self._inv_q = np.array([1.0 / q for q in st.q.tolist()])
        self._rows = np.arange(num_envs)

    def _rows_of(self, ep: MicrogridEpisodes) -> np.ndarray:
        """The observation rows t = 0..T of every episode of ``ep`` (state blocks zero)."""
        x = np.empty((ep.n, *self._clock.shape), dtype=np.float32)
        x[:] = self._clock
        self.obs_spec.fill_series(x, *self._series_of(ep))
        return x

    @staticmethod
    def _series_of(ep: MicrogridEpisodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sh = ep.shared
        return ep.res_kw / res_scale(sh["pv_kwp"], sh["wind_rated_kw"]), ep.load_kw, ep.grid_price_eur_per_kwh

    # ------------------------------------------------------------------ BatteryVectorEnv
    def _begin(self, idx: np.ndarray, rngs: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        if self._fixed is not None:
            tables, rows = self._fixed
            self.state.start(idx, tables)
            self._x[idx] = rows
            return
        ep = generate_episodes(rngs, self.config, self._storage)
        self.state.start(idx, self.state.tables(ep))
        w = self.obs_spec.series_windows(*self._series_of(ep))  # the clock and demand blocks never change
        sel = slice(None) if idx.shape[0] == self.num_envs else idx  # every sub-env: plain slices
        for k, name in enumerate(self.obs_spec.SERIES):
            self._x[sel, :, self.obs_spec.layout[name]] = w[:, k]
        for j, i in enumerate(idx.tolist()):
            self._episodes[i] = (ep, j)

    def _advance(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        out = self.state.step(actions, active)
        terminated = self.state.t >= self.n_steps
        return out.reward, terminated, {key: getattr(out, key) for key in INFO_KEYS}

    def _observe(self) -> np.ndarray:
        st = self.state
        obs = self._x[self._rows, st.t]
        e = st.energy_kwh
        fr = ((e == st.q) @ self._onehot) * self._inv_n
        n_c, n_s, n_k = fr.shape[1], e.shape[1], st.n_storage
        obs[:, :n_c] = fr
        obs[:, n_c:2 * n_c] = self._has_n - fr
        obs[:, 2 * n_c:2 * n_c + n_s] = e * self._inv_q
        if n_k:
            at = 2 * n_c + n_s
            soc = st.storage_kwh * st.inv_capacity / st.soh
            obs[:, at:at + n_k] = np.clip(soc, 0.0, 1.0)
            obs[:, at + n_k:at + 2 * n_k] = st.soh
        return obs

    # ------------------------------------------------------------------ extras
    def scenario(self, i: int) -> MicrogridScenario:
        """Sub-env ``i``'s current episode as a :class:`MicrogridScenario`."""
        if self.fixed_scenario is not None:
            return self.fixed_scenario
        got = self._episodes[i]
        if got is None:
            raise RuntimeError("call reset() first")
        ep, j = got
        return ep.scenario(j)

    def idle_rewards(self, i: int) -> np.ndarray:
        """Per step, the reward of the idle (all-zero) action in sub-env ``i``'s current episode (core's
        :func:`~batterygym.core.microgrid.idle_rewards`)."""
        return idle_rewards(self.scenario(i))
