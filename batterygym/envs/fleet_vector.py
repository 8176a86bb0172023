"""``batterygym/Fleet-v0`` as a native vector env: ``num_envs`` fleet episodes stepped as arrays.

``gym.make_vec("batterygym/Fleet-v0", num_envs, vectorization_mode="vector_entry_point", **kwargs)`` gives
:class:`FleetVectorEnv`. Its observations, rewards, terminations and infos equal those of ``num_envs``
:class:`~batterygym.envs.fleet.FleetEnv` under :class:`gymnasium.vector.SyncVectorEnv` with the same seeds
(``tests/test_fleet_vector.py``): the dynamics are :class:`~batterygym.core.fleet_state.FleetBatch`, the
batched form of the scalar env's :class:`~batterygym.core.fleet_state.FleetState`, and each sub-env draws its
episodes from its own generator in the scalar generator's order, all sub-envs' prices then built at once.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from batterygym.core.fleet import EUR_PER_MWH_TO_KWH, FleetScenario
from batterygym.core.fleet import idle_rewards as scenario_idle_rewards
from batterygym.core.fleet_generator import (
    FleetConfig,
    FleetLayout,
    MarketSteps,
    PriceDraws,
    draw_episodes,
    episode_prices,
    fixed_layout,
    generate_fleet,
    generate_layout,
    start_of,
)
from batterygym.core.fleet_state import ALL, FleetBatch, every_row
from batterygym.envs._args import check_env_args
from batterygym.envs.fleet import clock_rows, fleet_row, fleet_spaces, inverse_ratings, obs_layout
from batterygym.envs.vector import BatteryVectorEnv


class FleetVectorEnv(BatteryVectorEnv):
    """``num_envs`` episodes of ``Fleet-v0`` at once (module docstring); the scalar env's keyword arguments
    (``scenario``, ``lookahead``, the fleet options of :class:`FleetConfig`) plus ``num_envs``,
    ``max_episode_steps`` and ``autoreset_mode``. ``render_mode`` must be None (no rendering).

    Infos carry the scalar env's keys as arrays: ``allocation_kw`` ``(num_envs, n_assets, n_markets)``,
    ``charge_kw`` and ``discharge_kw`` ``(num_envs, n_assets)``, ``clipped_kw``, ``revenue_eur``,
    ``degradation_eur`` and ``terminal_eur`` ``(num_envs,)``, each with its ``_key`` mask.
    """

    def __init__(self, num_envs: int = 1, scenario: FleetScenario | None = None, lookahead: int = 24,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **fleet: Any) -> None:
        check_env_args(self, scenario, FleetScenario, lookahead, render_mode, fleet, "fleet")
        cfg = FleetConfig.from_kwargs(**fleet)
        obs_space, act_space = fleet_spaces(cfg, scenario, lookahead)
        super().__init__(num_envs, obs_space, act_space, max_episode_steps, autoreset_mode)
        self.config, self.fixed_scenario, self.lookahead = cfg, scenario, lookahead
        self._layout = fixed_layout(cfg) if scenario is None else None
        n, h = num_envs, lookahead
        a = scenario.n_assets if scenario is not None else cfg.n_assets
        m = scenario.n_markets if scenario is not None else cfg.n_markets
        t = scenario.n_steps if scenario is not None else cfg.n_steps
        self.n_assets, self.n_markets, self.n_steps = a, m, t
        self.batteries_per_env = a
        self.layout = obs_layout(a, m, h)
        self._batch = FleetBatch(n, a, m, t, scenario.dt_h if scenario is not None else cfg.dt_h)
        self._statics = slice(self.layout["direction"].start, self.layout["prequalified"].stop)
        self._fleet_rows = np.zeros((n, self._statics.stop - self._statics.start), dtype=np.float32)
        self._windows = np.zeros((n, m, t + h), dtype=np.float32)  # prices (EUR/kWh) of steps 0..T+H-1, held
        self._inv = np.zeros((3, a, n))  # per asset and sub-env: 1 / capacity, 1 / p_discharge, 1 / p_charge
        self._state = np.zeros((3, a, n))
        self._prices = np.zeros((n, t, m))
        self._start_day = np.full(n, -1)  # days after 1 January of the sub-envs' episodes (-1: not started)
        self._layouts: list[FleetLayout | None] = [self._layout] * n
        self._draws = PriceDraws.empty(n, cfg, m) if scenario is None else None
        rows = np.arange(n)
        first = scenario if scenario is not None else (
            generate_fleet(np.random.default_rng(0), cfg, self._layout) if self._layout is not None else None)
        if first is not None:  # one fleet in every sub-env: its arrays once (any episode of the layout gives them)
            self._set_fleet(rows, first)
        self._clock = self._clip(clock_rows(first if first is not None else self._any_episode()),
                                 self.layout["time"])
        if scenario is not None:
            self._set_prices(rows, np.broadcast_to(scenario.prices, (n, t, m)), None)

    # ------------------------------------------------------------------ episodes
    def _any_episode(self) -> FleetScenario:
        """An episode of the config (its clock is every episode's: the generator starts them at midnight)."""
        return generate_fleet(np.random.default_rng(0), self.config, None)

    def _clip(self, x: np.ndarray, sl: slice) -> np.ndarray:
        """``x`` as float32 within the observation bounds of columns ``sl`` (as the scalar env clips its rows)."""
        space = self.single_observation_space
        return np.clip(x.astype(np.float32), space.low[sl], space.high[sl])

    def _set_fleet(self, rows: np.ndarray, s: FleetScenario) -> None:
        self._batch.set_fleet(rows, s)
        self._fleet_rows[rows] = self._clip(fleet_row(s), self._statics)
        self._inv[:, :, rows] = np.array(inverse_ratings(s))[:, :, None]

    def _set_prices(self, rows: np.ndarray, prices: np.ndarray, start_day: np.ndarray | None) -> None:
        t = self.n_steps
        self._batch.set_prices(rows, prices)
        at = every_row(rows, self.num_envs)
        self._prices[at] = prices
        windows = self._windows[at] if at is ALL else np.empty((rows.shape[0], *self._windows.shape[1:]), np.float32)
        np.multiply(prices.transpose(0, 2, 1), EUR_PER_MWH_TO_KWH, out=windows[:, :, :t])
        windows[:, :, t:] = windows[:, :, t - 1:t]  # beyond the end the window repeats the last step
        if at is not ALL:
            self._windows[at] = windows
        if start_day is not None:
            self._start_day[at] = start_day

    def _begin(self, idx: np.ndarray, rngs: list[np.random.Generator], options: dict[str, Any] | None) -> None:
        if self.fixed_scenario is None:
            cfg, k = self.config, len(idx)
            draws = PriceDraws(*(d[:k] for d in self._draws))
            # each sub-env's numbers from its own generator, in the scalar order: its layout, then its prices
            layouts = [generate_layout(rng, cfg) for rng in rngs] if self._layout is None else []
            draw_episodes(rngs, cfg, draws)
            if self._layout is not None:
                markets = self._layout.markets(cfg)
            else:
                markets = MarketSteps.of(cfg, *(np.stack([getattr(lay, f) for lay in layouts])
                                                for f in ("premium", "volatility", "spike_prob", "sign")))
            prices = episode_prices(cfg, draws, markets)
            for j, lay in enumerate(layouts):  # a new fleet in every sub-env that resets
                i = int(idx[j])
                self._layouts[i] = lay
                self._set_fleet(np.array([i]), lay.scenario(cfg, prices[j], start_of(cfg, int(draws.start_day[j]))))
            self._set_prices(idx, prices, draws.start_day)
        self._batch.restart(idx)

    def scenario(self, i: int) -> FleetScenario:
        """The episode sub-env ``i`` plays now (what ``FleetEnv.scenario`` would be)."""
        if self.fixed_scenario is not None:
            return self.fixed_scenario
        if self._start_day[i] < 0:
            raise RuntimeError("call reset() before asking for a sub-env's scenario")
        return self._layouts[i].scenario(self.config, self._prices[i].copy(), start_of(self.config,
                                                                                    int(self._start_day[i])))

    def idle_rewards(self, i: int) -> np.ndarray:
        """Per step, the reward of the zero action in sub-env ``i``'s episode (:func:`core.fleet.idle_rewards`)."""
        return scenario_idle_rewards(self.scenario(i))

    # ------------------------------------------------------------------ steps
    def _advance(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        if not active.any():  # every sub-env resets this step: nothing moves
            return np.zeros(self.num_envs), np.zeros(self.num_envs, dtype=bool), {}
        out = self._batch.step(actions, active)
        reward = out.revenue_eur - out.degradation_eur + out.terminal_eur
        info = {"allocation_kw": out.allocation_kw, "charge_kw": out.charge_kw, "discharge_kw": out.discharge_kw,
                "clipped_kw": out.clipped_kw, "revenue_eur": out.revenue_eur, "degradation_eur": out.degradation_eur,
                "terminal_eur": out.terminal_eur}
        return reward, self._batch.t >= self.n_steps, info

    def _observe(self) -> np.ndarray:
        b, lay, a, h = self._batch, self.layout, self.n_assets, self.lookahead
        obs = np.empty((self.num_envs, lay["prices"].stop), dtype=np.float32)
        t = b.t
        t0 = int(t[0])
        obs[:, self._statics] = self._fleet_rows
        prices = obs[:, lay["prices"]].reshape(self.num_envs, self.n_markets, h)
        if (t == t0).all():
            obs[:, lay["time"]] = self._clock[t0]
            prices[:] = self._windows[:, :, t0:t0 + h]
        else:
            obs[:, lay["time"]] = self._clock[t]
            prices[:] = np.take_along_axis(self._windows, (t[:, None] + np.arange(h))[:, None, :], axis=2)
        inv_cap, inv_pd, inv_pc = self._inv
        state = self._state  # SoC, discharge room, charge room: (3, assets, sub-envs)
        np.multiply(b.energy_kwh, inv_cap, out=state[0])
        state[0] /= b.soh
        np.maximum(state[0], 0.0, out=state[0])  # rounding may put a value a hair below 0
        np.multiply(b.lo, inv_pd, out=state[1])
        np.negative(state[1], out=state[1])
        np.multiply(np.maximum(b.hi, 0.0), inv_pc, out=state[2])
        obs[:, :3 * a] = state.reshape(3 * a, self.num_envs).T
        return obs
