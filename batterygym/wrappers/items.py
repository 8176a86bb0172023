"""Per-item views: one small policy for every charger of ``V2G-v0`` or every asset of ``Fleet-v0``.

In both envs every constraint is per item (a charger and its car, an asset) and the reward is the items'
sum, so the joint optimum is every item's own optimum at once. A policy trained on one item's own
reward and applied to every item loses nothing to that structure, and it learns from one item's
credit instead of one advantage shared by hundreds of action values.

- ``V2G-v0``: the one-item env is ``V2G-v0`` with ``n_evs=1`` (its observation is the
  :func:`v2g_item_obs` of any charger); :class:`ItemwisePolicy` plays its policy on every charger.
- ``Fleet-v0``: :class:`FleetAssetView` shows one asset of the fleet with its id, the others idle (an idle
  asset's money is 0, so the reward is that asset's own); :func:`fleet_item_obs` is the same view of
  every asset at once for :class:`ItemwisePolicy`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.envs.fleet import FleetEnv
from batterygym.envs.v2g import V2GEnv

V2G_ITEM_BLOCKS = 4  # presence, SoC, hours left, energy needed
V2G_ACTION_PER_ITEM = 3
FLEET_ITEM_BLOCKS = 3  # SoC, feasible discharge, feasible charge


def v2g_item_obs(obs: np.ndarray, n_items: int) -> np.ndarray:
    """``(n_items, 4 + global)``: each charger's observation as ``V2G-v0`` with ``n_evs=1`` would show it."""
    obs = np.asarray(obs)
    items = obs[: V2G_ITEM_BLOCKS * n_items].reshape(V2G_ITEM_BLOCKS, n_items).T
    rest = np.broadcast_to(obs[V2G_ITEM_BLOCKS * n_items:], (n_items, obs.shape[0] - V2G_ITEM_BLOCKS * n_items))
    return np.concatenate([items, rest], axis=1).astype(np.float32)


def fleet_item_obs(obs: np.ndarray, n_assets: int, n_markets: int) -> np.ndarray:
    """``(n_assets, ...)``: each asset's :class:`FleetAssetView` observation (its state, the shared time,
    directions and prices, its prequalified powers, and its one-hot id)."""
    obs = np.asarray(obs, dtype=np.float32)
    n, m = n_assets, n_markets
    state = obs[: FLEET_ITEM_BLOCKS * n].reshape(FLEET_ITEM_BLOCKS, n).T
    shared_head = obs[FLEET_ITEM_BLOCKS * n: FLEET_ITEM_BLOCKS * n + 3 + m]
    at = FLEET_ITEM_BLOCKS * n + 3 + m
    prequal = obs[at: at + n * m].reshape(n, m)
    prices = obs[at + n * m:]
    return np.concatenate([state, np.broadcast_to(shared_head, (n, shared_head.size)), prequal,
                           np.broadcast_to(prices, (n, prices.size)), np.eye(n, dtype=np.float32)], axis=1)


class FleetAssetView(gym.Wrapper):
    """``Fleet-v0`` as one asset: its own observation (:func:`fleet_item_obs`), its ``n_markets`` offers,
    and the fleet's reward with every other asset idle (so that asset's own money). ``asset=None`` draws
    the asset at every reset (from a generator seeded by ``reset(seed=...)``); ``info["asset"]`` says which."""

    def __init__(self, env: gym.Env, asset: int | None = None) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, FleetEnv):
            raise TypeError(f"FleetAssetView needs a FleetEnv, got {type(base).__name__}")
        self.n_assets, self.n_markets = base.n_assets, base.n_markets
        if asset is not None and not (isinstance(asset, int) and 0 <= asset < self.n_assets):
            raise ValueError(f"asset must be None or in 0..{self.n_assets - 1}, got {asset!r}")
        self.fixed_asset, self.asset = asset, 0 if asset is None else asset
        self._rng = np.random.default_rng()
        inner = env.observation_space
        lo = fleet_item_obs(inner.low, self.n_assets, self.n_markets)[0]
        hi = fleet_item_obs(inner.high, self.n_assets, self.n_markets)[0]
        lo[-self.n_assets:], hi[-self.n_assets:] = 0.0, 1.0
        self.observation_space = spaces.Box(lo, hi, dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.n_markets,), dtype=np.float32)

    def _view(self, obs: np.ndarray) -> np.ndarray:
        return fleet_item_obs(obs, self.n_assets, self.n_markets)[self.asset]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if self.fixed_asset is None:
            self.asset = int(self._rng.integers(self.n_assets))
        return self._view(obs), {**info, "asset": self.asset}

    def step(self, action: np.ndarray):
        full = np.zeros(self.env.action_space.shape, dtype=np.float32)
        m = self.n_markets
        full[self.asset * m:(self.asset + 1) * m] = np.asarray(action, dtype=np.float32).reshape(m)
        obs, reward, terminated, truncated, info = self.env.step(full)
        return self._view(obs), reward, terminated, truncated, {**info, "asset": self.asset}


class ItemwisePolicy:
    """One item's policy played on every item of the env at once: ``agent`` maps a batch of item
    observations ``(n_items, d)`` to their actions ``(n_items, k)``; the env action is their concatenation,
    item-major (both envs' layout). ``kind`` is "v2g" or "fleet"."""

    def __init__(self, env: gym.Env, agent: Callable[[np.ndarray], np.ndarray]) -> None:
        base = env.unwrapped
        if isinstance(base, V2GEnv):
            n = base.action_space.shape[0] // V2G_ACTION_PER_ITEM
            self._split: Callable[[np.ndarray], np.ndarray] = lambda obs: v2g_item_obs(obs, n)
        elif isinstance(base, FleetEnv):
            n, m = base.n_assets, base.n_markets
            self._split = lambda obs: fleet_item_obs(obs, n, m)
        else:
            raise TypeError(f"ItemwisePolicy needs a V2GEnv or a FleetEnv, got {type(base).__name__}")
        self.agent = agent
        self.shape = base.action_space.shape

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        actions = np.asarray(self.agent(self._split(obs)), dtype=np.float32)
        return actions.reshape(self.shape)
