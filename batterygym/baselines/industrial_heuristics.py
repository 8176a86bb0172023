"""Rule-based policy of ``Industrial-v0``: charge cheap, shave peaks, discharge dear.

A policy is a callable ``policy(obs) -> action`` in the env's action space; it reads only the
observation (no future beyond the env's look-ahead), so it works in any wrapper chain.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

from batterygym.core.battery import share_of_power
from batterygym.envs.industrial import OBS_PEAK, OBS_SOC, OBS_WINDOWS, IndustrialEnv


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
        share = share_of_power(p, b.p_charge_kw, b.p_discharge_kw)
        return np.array([min(max(share, -1.0), 1.0)], dtype=np.float32)



class WaterFillingCap:
    """The water-filling cap: hold import at the lowest level the stored energy can keep over the coming load
    block, charge in the cheapest hours up to the cap a full battery could hold, sell what the block does not
    need in the dearest hours (:class:`batterygym.wrappers.industrial_cap.CapController`)."""

    name = "cap"

    def __init__(self, env: gym.Env) -> None:
        from batterygym.wrappers.industrial_cap import CapController

        self.controller = CapController(env)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.controller.action(obs)
