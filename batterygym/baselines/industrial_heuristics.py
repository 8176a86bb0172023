"""Rule-based policies: what a user writes first, as the rungs below the optimum.

A policy is a callable ``policy(obs) -> action`` in the env's action space; it reads only the
observation (no future beyond the env's look-ahead), so it works in any wrapper chain.
"""
from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from batterygym.baselines.fleet_heuristics import FleetRule
from batterygym.baselines.microgrid_heuristics import MicrogridRule
from batterygym.baselines.v2g_heuristics import ChargeOnArrival, V2GRule
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.industrial import OBS_PEAK, OBS_SOC, OBS_WINDOWS, IndustrialEnv
from batterygym.envs.microgrid_bss import MicrogridBSSEnv
from batterygym.envs.v2g import V2GEnv

Policy = Callable[[np.ndarray], np.ndarray]


class Idle:
    """Never use the battery: the reference every gain is measured from."""

    name = "idle"

    def __init__(self, env: gym.Env) -> None:
        self._action = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self._action.copy()


class IndustrialRule:
    """Charge in the cheapest hours, shave peaks, discharge in the dearest hours.

    Each step, with the look-ahead window of net load and import price in the observation:
    1. if the net load now exceeds the shaving target (the peak so far, or ``shave_share`` of the
       window's highest net load if higher), discharge the excess;
    2. else if the price now is the window's lowest (and the window has a dearer hour), charge at
       full power as long as import stays under the target;
    3. else if the price now is the window's highest, discharge at full power down to
       ``reserve_soc`` (the rest is kept for shaving), serving the site's load only;
    4. else stay idle.
    """

    name = "rule"

    def __init__(self, env: gym.Env, shave_share: float = 0.9, reserve_soc: float = 0.5) -> None:
        base = env.unwrapped
        if not isinstance(base, IndustrialEnv):
            raise TypeError(f"IndustrialRule needs an IndustrialEnv, got {type(base).__name__}")
        self.env = base
        self.shave_share = shave_share
        self.reserve_soc = reserve_soc
        h = base.lookahead
        self._net = slice(OBS_WINDOWS, OBS_WINDOWS + h)
        self._price = slice(OBS_WINDOWS + h, OBS_WINDOWS + 2 * h)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        s = self.env.scenario if self.env.scenario is not None else None
        conn = s.connection_kw if s is not None else self.env.config.connection_kw
        b = s.battery if s is not None else self.env.config.battery()
        net_window = obs[self._net].astype(np.float64) * conn
        prices = obs[self._price]
        net = net_window[0]
        target = max(float(obs[OBS_PEAK]) * conn, self.shave_share * float(net_window.max()))
        p = 0.0
        if net > target:
            p = -(net - target)
        elif prices[0] <= prices.min() + 1e-9 and prices.max() > prices[0] + 1e-9:
            p = min(b.p_charge_kw, max(target - net, 0.0))
        elif prices[0] >= prices.max() - 1e-9 and prices.min() < prices[0] - 1e-9:
            if obs[OBS_SOC] > self.reserve_soc:
                p = -min(b.p_discharge_kw, max(net, 0.0))
        if p >= 0:
            share = p / b.p_charge_kw if b.p_charge_kw > 0 else 0.0
        else:
            share = p / b.p_discharge_kw if b.p_discharge_kw > 0 else 0.0
        return np.array([min(max(share, -1.0), 1.0)], dtype=np.float32)


# env class -> heuristic classes of its setting, from the weakest up (idle comes first for all)
HEURISTICS: dict[type, list[type]] = {
    IndustrialEnv: [IndustrialRule],
    FleetEnv: [FleetRule],
    V2GEnv: [ChargeOnArrival, V2GRule],
    MicrogridBSSEnv: [MicrogridRule],
}


def heuristic_classes(env: gym.Env) -> dict[str, type]:
    """The heuristic rungs for ``env``'s setting as classes taking the env, keyed by name."""
    rungs: dict[str, type] = {"idle": Idle}
    for cls in HEURISTICS.get(type(env.unwrapped), []):
        rungs[cls.name] = cls
    return rungs


def heuristics_for(env: gym.Env) -> dict[str, Policy]:
    """The heuristic rungs for ``env``'s setting, bound to ``env``, from the weakest up."""
    return {name: cls(env) for name, cls in heuristic_classes(env).items()}


def rollout(env: gym.Env, policy: Policy, seed: int | None = None) -> tuple[float, list[dict[str, float]]]:
    """Run one episode with ``policy``; the total reward and the per-step ``info`` records."""
    obs, _ = env.reset(seed=seed)
    total, infos = 0.0, []
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        total += float(reward)
        infos.append(info)
        if terminated or truncated:
            return total, infos
