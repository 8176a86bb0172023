"""``batterygym/V2G-v0`` as a native vector env: ``num_envs`` aggregator episodes stepped as arrays.

``gym.make_vec("batterygym/V2G-v0", num_envs, vectorization_mode="vector_entry_point", **kwargs)`` gives
:class:`V2GVectorEnv`. Its observations, rewards, terminations and infos equal those of ``num_envs``
:class:`~batterygym.envs.v2g.V2GEnv` under :class:`gymnasium.vector.SyncVectorEnv` with the same seeds
(``tests/test_v2g_vector.py``): the dynamics are :class:`~batterygym.core.v2g_state.V2GBatch`, the batched
form of the scalar env's :class:`~batterygym.core.v2g_state.V2GState`, and each sub-env draws its episodes
from its own generator in the scalar generator's order (:func:`~batterygym.core.v2g_generator.draw_episodes`),
all sub-envs' arrays then built at once.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from batterygym.core.v2g import V2GScenario, capacity_value, net_energy_cost
from batterygym.core.v2g import idle_rewards as scenario_idle_rewards
from batterygym.core.v2g_generator import (
    MAX_EPISODE_BYTES,
    V2GConfig,
    build_episodes,
    draw_episodes,
    episode_of,
)
from batterygym.core.v2g_state import HOURS, V2GBatch
from batterygym.envs._args import check_env_args
from batterygym.envs.v2g import PRICE_NAMES, clock, obs_layout, price_rows, spaces_of, state_blocks
from batterygym.envs.vector import BatteryVectorEnv

_DAY_FIELDS = ("arrival_hour", "departure_hour", "arrival_soc", "required_soc")


def vector_bytes(num_envs: int, n_days: int, n_evs: int, lookahead: int) -> int:
    """Estimated memory (bytes) of :class:`V2GVectorEnv`'s episode arrays: per sub-env its EV-days (six
    arrays), hourly prices and money (six) and observation price rows (float32), and the step's arrays."""
    n_steps = HOURS * n_days
    per_env = 8 * (6 * n_days * n_evs + 6 * n_steps + 40 * n_evs) + 4 * (n_steps + 1) * 3 * lookahead
    return num_envs * per_env


class V2GVectorEnv(BatteryVectorEnv):
    """``num_envs`` episodes of ``V2G-v0`` at once (module docstring); the scalar env's keyword arguments
    (``scenario``, ``lookahead``, the options of :class:`V2GConfig`) plus ``num_envs``, ``max_episode_steps``
    and ``autoreset_mode``. ``render_mode`` must be None (no rendering).

    Infos carry the scalar env's keys as arrays: ``power_kw``, ``reg_up_kw`` and ``reg_down_kw`` ``(num_envs,
    n_evs)``; ``reg_up_eur``, ``reg_down_eur``, ``energy_eur``, ``driver_fee_eur``, ``degradation_eur`` and
    ``clipped_kw`` ``(num_envs,)``, each with its ``_key`` mask. :meth:`scenario` gives sub-env ``i``'s
    episode as a :class:`V2GScenario` (for ``solve_optimal``), :meth:`idle_rewards` what zero actions earn in it.
    """

    def __init__(self, num_envs: int = 1, scenario: V2GScenario | None = None, lookahead: int = 24,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **v2g: Any) -> None:
        check_env_args(self, scenario, V2GScenario, lookahead, render_mode, v2g, "V2G")
        cfg = V2GConfig.from_kwargs(**v2g)
        n_evs = scenario.n_evs if scenario is not None else cfg.n_evs
        obs_space, act_space = spaces_of(n_evs, lookahead, scenario)
        super().__init__(num_envs, obs_space, act_space, max_episode_steps, autoreset_mode)
        n_days = scenario.n_days if scenario is not None else cfg.n_days
        need = vector_bytes(num_envs, n_days, n_evs, lookahead)
        if need > MAX_EPISODE_BYTES:
            raise ValueError(f"num_envs={num_envs} with n_days={n_days} and n_evs={n_evs} needs about "
                             f"{need / 2**30:.1f} GiB, above the limit of {MAX_EPISODE_BYTES / 2**30:.0f} GiB "
                             "(batterygym.core.v2g_generator.MAX_EPISODE_BYTES): use fewer sub-envs, days or EVs")
        self.config, self.fixed_scenario, self.lookahead = cfg, scenario, lookahead
        self.n_evs, self.n_days, self.n_steps = n_evs, n_days, HOURS * n_days
        self.batteries_per_env = n_evs
        self.layout = obs_layout(n_evs, lookahead)
        ev = scenario.ev if scenario is not None else cfg.battery()
        self._ev = ev
        src = scenario if scenario is not None else cfg
        self._batch = V2GBatch(ev, num_envs, n_days, n_evs, src.expected_up, src.expected_down,
                               src.driver_fee_eur_per_kwh, ev.degradation_cost_per_kwh)
        self._inv_cap = 1.0 / ev.capacity_kwh
        self._time = clock(self.n_steps, lookahead)[0]
        self._prices_at = self.layout[PRICE_NAMES[0]].start
        self._price_rows = np.zeros((num_envs, self.n_steps + 1, 3 * lookahead), dtype=np.float32)
        self._all = np.arange(num_envs)
        # what each sub-env's episode was drawn as, for scenario(i)
        self._days = {name: np.zeros((num_envs, n_days, n_evs), dtype=np.int64 if name.endswith("_hour")
                                     else np.float64) for name in _DAY_FIELDS}
        self._prices = np.zeros((num_envs, 3, self.n_steps))
        self._offset = np.zeros(num_envs, dtype=np.int64)
        if scenario is not None:
            rows = price_rows(np.array([getattr(scenario, name) for name in PRICE_NAMES]), lookahead)
            low, high = obs_space.low[self._prices_at:], obs_space.high[self._prices_at:]
            self._fixed_rows = np.clip(rows, low, high)

    # ------------------------------------------------------------------ episodes
    def _begin(self, idx: np.ndarray, rngs: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        s = self.fixed_scenario
        if s is not None:
            self._batch.start(idx, s.arrival_hour, s.departure_hour, s.arrival_energy_kwh, s.required_energy_kwh,
                              s.reg_up_value, s.reg_down_value, s.net_energy_cost)
            self._price_rows[idx] = self._fixed_rows
            return
        cfg, dt, cap = self.config, V2GScenario.dt_h, self._ev.capacity_kwh
        draws = draw_episodes(rngs, cfg)
        a = build_episodes(cfg, draws)
        prices = np.stack([a[name] for name in PRICE_NAMES], axis=1)  # (M, 3, T)
        self._batch.start(idx, a["arrival_hour"], a["departure_hour"], a["arrival_soc"] * cap,
                          a["required_soc"] * cap, capacity_value(a["reg_up_price"], dt),
                          capacity_value(a["reg_down_price"], dt),
                          net_energy_cost(a["energy_price"], cfg.driver_fee_eur_per_kwh, dt))
        rows = slice(None) if idx.size == self.num_envs else idx  # a reset of all: whole arrays
        self._price_rows[rows] = price_rows(prices, self.lookahead)
        for name in _DAY_FIELDS:
            self._days[name][rows] = a[name]
        self._prices[rows] = prices
        self._offset[rows] = draws.offset

    def scenario(self, i: int) -> V2GScenario:
        """Sub-env ``i``'s current episode (after :meth:`reset`), as the scalar env with its seed would have it."""
        if not self._started:
            raise RuntimeError("call reset() before scenario()")
        if not isinstance(i, (int, np.integer)) or not 0 <= i < self.num_envs:
            raise ValueError(f"i must be a sub-env index in [0, {self.num_envs}), got {i!r}")
        if self.fixed_scenario is not None:
            return self.fixed_scenario
        arrays = {name: self._days[name][i:i + 1].copy() for name in _DAY_FIELDS}
        arrays.update({name: self._prices[i:i + 1, k].copy() for k, name in enumerate(PRICE_NAMES)})
        return episode_of(self.config, arrays, self._offset[i:i + 1], 0)

    def idle_rewards(self, i: int) -> np.ndarray:
        """Per step, the reward of the zero action in sub-env ``i``'s episode (:func:`core.v2g.idle_rewards`)."""
        return scenario_idle_rewards(self.scenario(i))

    # ------------------------------------------------------------------ steps
    def _advance(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        b = self._batch
        out = b.step(actions.reshape(self.num_envs, self.n_evs, 3), active)
        info = {"power_kw": out.power_kw, "reg_up_kw": out.reg_up_kw, "reg_down_kw": out.reg_down_kw,
                "reg_up_eur": out.reg_up_eur, "reg_down_eur": out.reg_down_eur, "energy_eur": out.energy_eur,
                "driver_fee_eur": out.driver_fee_eur, "degradation_eur": out.degradation_eur,
                "clipped_kw": out.clipped_kw}
        return out.reward, b.t >= self.n_steps, info

    def _observe(self) -> np.ndarray:
        b, lay = self._batch, self.layout
        t = b.t
        obs = np.empty((self.num_envs, self.single_observation_space.shape[0]), dtype=np.float32)
        obs[:, lay["present"]] = b.present
        obs[:, lay["soc"]], obs[:, lay["needed"]] = state_blocks(b.energy_kwh, b.present, b.required_now_kwh,
                                                                 self._inv_cap)
        obs[:, lay["hours_left"]] = b.hours_left * (1.0 / 24.0)
        t0 = int(t[0])
        if (t == t0).all():  # every sub-env at the same step
            obs[:, lay["time"]] = self._time[t0]
            obs[:, self._prices_at:] = self._price_rows[:, t0]
        else:
            obs[:, lay["time"]] = self._time[t]
            obs[:, self._prices_at:] = self._price_rows[self._all, t]
        return obs
