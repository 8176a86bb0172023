"""The fleet as a PettingZoo parallel env: one agent per asset, the same dynamics and money as ``Fleet-v0``.

Needs the ``marl`` extra (``pip install "batterygym[marl]"``); ``import batterygym`` does not import
this module. Each agent ``asset_<i>`` sees its own state and the shared market information and
offers its own power; the step is :class:`~batterygym.envs.fleet.FleetEnv`'s (the same projection),
and the agents' rewards add up to the fleet's reward.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

try:
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("batterygym.envs.fleet_marl needs PettingZoo: pip install \"batterygym[marl]\" "
                      "(or pip install pettingzoo)") from exc

from batterygym.core.fleet import FleetScenario
from batterygym.envs.fleet import FleetEnv


class FleetParallelEnv(ParallelEnv):
    """One agent per asset of a :class:`FleetEnv` (same arguments: ``scenario``, ``lookahead``, fleet options).

    Agent ``asset_<i>`` acts with `Box(-1, 1, (n_markets,), float32)`: its share of its prequalified
    power offered in each market (as in ``Fleet-v0``, projected the same way). It observes, as
    float32 inside true bounds: its SoC, feasible discharge and charge now (shares of its ratings);
    the hour (sin, cos) and episode progress; each market's direction; its own prequalification
    shares; and every market's price window (EUR/kWh). Its reward is its own money: revenue of its
    allocations minus its wear (plus its share of the terminal credit on the last step). All agents
    end together after the episode's last step.
    """

    metadata = {"name": "batterygym_fleet_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, scenario: FleetScenario | None = None, lookahead: int = 24, render_mode: str | None = None,
                 **fleet: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.fleet_env = FleetEnv(scenario=scenario, lookahead=lookahead, **fleet)
        self.render_mode = render_mode
        env = self.fleet_env
        n, k = env.n_assets, env.n_markets
        self.possible_agents = [f"asset_{i}" for i in range(n)]
        self.agents: list[str] = []
        lay = env.layout
        shared = np.concatenate([np.arange(lay["time"].start, lay["time"].stop),
                                 np.arange(lay["direction"].start, lay["direction"].stop)])
        prices = np.arange(lay["prices"].start, lay["prices"].stop)
        self._index = {}
        for i, agent in enumerate(self.possible_agents):
            own = [lay["soc"].start + i, lay["discharge_room"].start + i, lay["charge_room"].start + i]
            pq = np.arange(lay["prequalified"].start + i * k, lay["prequalified"].start + (i + 1) * k)
            self._index[agent] = np.concatenate([own, shared, pq, prices]).astype(np.intp)
        low, high = env.observation_space.low, env.observation_space.high
        self._obs_spaces = {a: spaces.Box(low[idx], high[idx], dtype=np.float32) for a, idx in self._index.items()}
        self._act_spaces = {a: spaces.Box(-1.0, 1.0, shape=(k,), dtype=np.float32) for a in self.possible_agents}
        self._zero = np.zeros(k, dtype=np.float32)

    @property
    def scenario(self) -> FleetScenario | None:
        """The episode being played (as ``FleetEnv.scenario``)."""
        return self.fleet_env.scenario

    def observation_space(self, agent: str) -> spaces.Box:  # the same object every call, as PettingZoo asks
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self._act_spaces[agent]

    def _split(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {a: obs[self._index[a]] for a in self.agents}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        # options are not passed on: FleetEnv refuses unknown ones, but PettingZoo's parallel_api_test resets with
        # options={"options": 1} and expects that to work; this env reads no options
        obs, _ = self.fleet_env.reset(seed=seed)
        self.agents = list(self.possible_agents)
        return self._split(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, np.ndarray]):
        if not self.agents:
            raise RuntimeError("the episode has ended; call reset()")
        unknown = sorted(set(actions) - set(self.possible_agents))
        if unknown:
            raise ValueError(f"unknown agent(s) {unknown}; agents: {self.possible_agents}")
        parts = [np.asarray(actions.get(a, self._zero), dtype=np.float32) for a in self.possible_agents]
        for agent, part in zip(self.possible_agents, parts, strict=True):
            if part.shape != self._zero.shape:
                raise ValueError(f"action of {agent} must have shape {self._zero.shape} (one share per market), "
                                 f"got shape {part.shape}")
        flat = np.concatenate(parts)
        env = self.fleet_env
        s, f = env.scenario, env.fleet
        t = f.t
        obs, _, terminated, truncated, info = env.step(flat)
        x = info["allocation_kw"]
        revenue = x @ s.value_eur_per_kwh[t] * s.dt_h
        wear = s.wear_eur_per_kwh * (np.asarray(info["charge_kw"]) + np.asarray(info["discharge_kw"])) * s.dt_h
        reward = revenue - wear
        if terminated and s.terminal_value_eur_per_mwh > 0:
            e0 = np.array([b.e0_kwh for b in s.assets])
            reward = reward + s.terminal_value_eur_per_kwh * (np.asarray(f.energy_kwh) - e0)
        agents = self.agents
        out_obs = self._split(obs)
        rewards = {a: float(reward[i]) for i, a in enumerate(self.possible_agents) if a in agents}
        terms = {a: bool(terminated) for a in agents}
        truncs = {a: bool(truncated) for a in agents}
        infos = {a: {"allocation_kw": x[i], "charge_kw": info["charge_kw"][i],
                     "discharge_kw": info["discharge_kw"][i]} for i, a in enumerate(self.possible_agents)
                 if a in agents}
        if terminated or truncated:
            self.agents = []
        return out_obs, rewards, terms, truncs, infos

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            env = self.fleet_env
            env.render_mode = "ansi"
            try:
                return env.render()
            finally:
                env.render_mode = None
        return None

    def close(self) -> None:
        self.fleet_env.close()


def parallel_env(**kwargs: Any) -> FleetParallelEnv:
    """PettingZoo's conventional constructor: ``FleetParallelEnv(**kwargs)``."""
    return FleetParallelEnv(**kwargs)
