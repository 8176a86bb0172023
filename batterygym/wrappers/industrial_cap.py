"""``Industrial-v0`` through an import cap: the water-filling cap, and an agent's offset to it over a block.

The demand charge is paid on the billing period's single highest hour, so a power action that is wrong at
any one of the hours where the optimum holds import flat sets a new peak. Here the peak depends on one
slowly varying decision instead: an import cap, held over a block of hours and enforced hour by hour.

:class:`CapController` reads the env's observation (no future beyond its look-ahead) and computes, each
hour, the *water-filling cap*: the lowest import level the stored energy can hold over the coming load
block (the hours until the next cheapest hour of the window, when the battery can recharge), never below
the period's peak so far. It then discharges what the net load exceeds the cap by, charges in the cheapest
hours up to the cap a full battery could hold over the window, and sells in the dearest hours what the
block does not need. ``offset_kw`` raises the shaving cap: :class:`CapOffsetAction` lets an agent choose it once
a block, and :class:`CapOffsetPolicy` plays such an agent on the plain env, hour by hour.

Every hour ends in an ordinary env action, which the env projects as always: the wrappers never widen what
the env can do, and the money is the env's own.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.battery import share_of_power
from batterygym.envs.industrial import OBS_PEAK, OBS_SOC, OBS_SOH, OBS_WINDOWS, IndustrialEnv

N_FEATURES = 4  # shaving cap, charging cap, deliverable energy, block length


def fill_level(net_kw: np.ndarray, energy_kwh: float, p_discharge_kw: float, dt_h: float) -> float:
    """The lowest import level ``C`` that ``energy_kwh`` delivered at up to ``p_discharge_kw`` can hold the net
    load ``net_kw`` under: ``sum max(0, net - C) dt <= energy`` and ``max(net) - C <= p_discharge``."""
    net = np.sort(np.asarray(net_kw, dtype=np.float64))[::-1]
    if net.size == 0:
        return 0.0
    floor = net[0] - p_discharge_kw
    # the water level between consecutive sorted loads: energy above level net[k] is sum_{i<k} (net[i] - net[k])
    above = np.cumsum(net) - net * np.arange(1, net.size + 1)  # energy to shave down to each net[k]
    k = int(np.searchsorted(above * dt_h, energy_kwh, side="right"))  # the first level the energy cannot reach
    if k >= net.size:
        level = net[-1] - (energy_kwh / dt_h - above[-1]) / net.size  # below every hour of the block
    else:
        level = net[k - 1] - (energy_kwh / dt_h - above[k - 1]) / k if k > 0 else net[0]
    return float(max(level, floor))


class CapController:
    """The water-filling cap of ``Industrial-v0``'s observation, and the env action that holds it."""

    def __init__(self, env: gym.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, IndustrialEnv):
            raise TypeError(f"CapController needs an IndustrialEnv, got {type(base).__name__}")
        self.env = base
        h = base.lookahead
        self._net = slice(OBS_WINDOWS, OBS_WINDOWS + h)
        self._price = slice(OBS_WINDOWS + h, OBS_WINDOWS + 2 * h)

    def _site(self) -> tuple[Any, float, float]:
        s = self.env.scenario
        if s is None:
            raise RuntimeError("reset the env before asking for its cap")
        return s.battery, s.connection_kw, s.dt_h

    def levels(self, obs: np.ndarray) -> tuple[float, float, float, int]:
        """``(shave_kw, charge_kw, deliverable_kwh, block_steps)`` now: the water-filling cap over the coming
        block, the cap a full battery could hold over the window, the energy the battery can deliver, and the
        block's length in steps."""
        b, conn, dt = self._site()
        net = obs[self._net].astype(np.float64) * conn
        price = obs[self._price].astype(np.float64)
        soh, peak = float(obs[OBS_SOH]), float(obs[OBS_PEAK]) * conn
        usable = b.capacity_kwh * soh
        deliver = max(0.0, (float(obs[OBS_SOC]) - b.soc_min) * usable) * b.eta_discharge
        full = (b.soc_max - b.soc_min) * usable * b.eta_discharge
        cheap = np.flatnonzero(price[1:] <= price.min() + 1e-9)
        end = int(cheap[0]) + 1 if cheap.size else net.size
        shave = max(fill_level(net[:end], deliver, b.p_discharge_kw, dt), peak)
        charge = max(fill_level(net, full, b.p_discharge_kw, dt), peak)
        return shave, charge, deliver, end

    def features(self, obs: np.ndarray) -> np.ndarray:
        """The levels as shares: caps over the connection, energy over the usable window, block over the window."""
        b, conn, _ = self._site()
        shave, charge, deliver, end = self.levels(obs)
        window = (b.soc_max - b.soc_min) * b.capacity_kwh * max(float(obs[OBS_SOH]), 1e-9) * b.eta_discharge
        return np.array([shave / conn, charge / conn, deliver / window, end / self.env.lookahead], dtype=np.float32)

    def action(self, obs: np.ndarray, offset_kw: float = 0.0) -> np.ndarray:
        """The env action of this hour for caps shifted by ``offset_kw``."""
        b, conn, dt = self._site()
        net = obs[self._net].astype(np.float64) * conn
        price = obs[self._price].astype(np.float64)
        shave, charge, deliver, end = self.levels(obs)
        shave = shave + offset_kw
        n0 = net[0]
        if n0 > shave:
            p = -(n0 - shave)
        elif price[0] <= price.min() + 1e-9 and price.max() > price[0] + 1e-9:
            p = min(b.p_charge_kw, max(charge - n0, 0.0))
        elif price[0] >= price.max() - 1e-9 and price.min() < price[0] - 1e-9:
            spare = deliver - float(np.maximum(net[1:end] - shave, 0.0).sum()) * dt  # what the block does not need
            p = -max(0.0, min(b.p_discharge_kw, max(n0, 0.0), spare / dt))
        else:
            p = 0.0
        share = share_of_power(p, b.p_charge_kw, b.p_discharge_kw)
        return np.array([min(max(share, -1.0), 1.0)], dtype=np.float32)


def offset_of(action: np.ndarray, max_offset: float, connection_kw: float) -> float:
    """The cap's raise (kW) for an agent's action: ``max(0, a) * max_offset * connection_kw``, ``a`` clipped to
    [-1, 1]. Only a raise: below the water-filling level the stored energy cannot hold the cap over the block,
    so a lower cap only moves the peak later; above it the battery keeps energy back (to sell in the dearest
    hours, or for a later, higher block). A zero action is the water-filling cap itself."""
    a = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -1.0, 1.0))
    return max(0.0, a) * max_offset * connection_kw


class CapOffsetAction(gym.Wrapper):
    """One agent step is a block of ``block_steps`` env steps under the water-filling cap, raised by the agent.

    Action ``Box(-1, 1, (1,))``: the raise :func:`offset_of`, held over the block.
    Observation: the env's at the block's start, then the :meth:`CapController.features` (4 values).
    Reward: the sum of the env's rewards over the block (its money, unchanged); ``info`` is the block's last
    step's, with ``"steps"`` (env steps taken). The episode ends with the env's.
    """

    def __init__(self, env: gym.Env, block_steps: int = 12, max_offset: float = 0.1) -> None:
        super().__init__(env)
        if not isinstance(block_steps, int) or isinstance(block_steps, bool) or block_steps < 1:
            raise ValueError(f"block_steps must be a positive integer, got {block_steps!r}")
        if not (np.isfinite(max_offset) and max_offset >= 0):
            raise ValueError(f"max_offset must be a non-negative share of the connection, got {max_offset!r}")
        self.controller = CapController(env)
        self.block_steps, self.max_offset = block_steps, float(max_offset)
        inner = env.observation_space
        low = np.concatenate([inner.low, np.zeros(N_FEATURES, dtype=np.float32)])
        high = np.concatenate([inner.high, np.full(N_FEATURES, np.float32(np.finfo(np.float32).max))])
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._obs: np.ndarray | None = None

    def _view(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, self.controller.features(obs)]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = obs
        return self._view(obs), info

    def offset_kw(self, action: np.ndarray) -> float:
        return offset_of(action, self.max_offset, self.env.unwrapped.scenario.connection_kw)

    def step(self, action: np.ndarray):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        offset = self.offset_kw(action)
        total, steps = 0.0, 0
        obs, terminated, truncated, info = self._obs, False, False, {}
        while steps < self.block_steps and not (terminated or truncated):
            obs, reward, terminated, truncated, info = self.env.step(self.controller.action(obs, offset))
            total += float(reward)
            steps += 1
        self._obs = obs
        return self._view(obs), total, terminated, truncated, {**info, "steps": steps}


class CapOffsetPolicy:
    """An agent trained on :class:`CapOffsetAction`, played on the plain env hour by hour: at each block's
    first hour it reads the wrapper's observation and picks the offset; every hour the controller acts."""

    def __init__(self, env: gym.Env, agent: Callable[[np.ndarray], np.ndarray], block_steps: int = 12,
                 max_offset: float = 0.1) -> None:
        self.controller = CapController(env)
        self.agent, self.block_steps, self.max_offset = agent, block_steps, max_offset
        self._t, self._offset = 0, 0.0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if float(obs[OBS_WINDOWS - 1]) == 0.0:  # the episode's first step (its elapsed share is 0)
            self._t = 0
        if self._t % self.block_steps == 0:
            view = np.concatenate([obs, self.controller.features(obs)]).astype(np.float32)
            self._offset = offset_of(self.agent(view), self.max_offset, self.controller.env.scenario.connection_kw)
        self._t += 1
        return self.controller.action(obs, self._offset)
