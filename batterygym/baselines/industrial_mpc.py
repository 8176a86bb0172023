"""Rolling-horizon MPC for ``Industrial-v0``: re-solve the industrial MILP over a look-ahead window every step.

The window is a sub-scenario of the episode starting from the env's current state, so the MPC uses
exactly the optimiser of the perfect-foresight plan; only the horizon and the forecasts differ.
With ``forecast_noise > 0`` the load and PV of the window's future steps are replaced by forecasts
(the current step is known): ``x_hat[k] = x[k] * (1 + e_k)``, ``e_k ~ N(0, (sigma_k)^2)`` clipped
to +-3 sigma_k, with ``sigma_k = forecast_noise * sqrt(min(k, 24) / 24)`` for load and twice that
for PV (clouds), drawn from a generator seeded by ``noise_seed``, the episode and the step.
"""
from __future__ import annotations

import dataclasses
import math
import zlib

import gymnasium as gym
import numpy as np

from batterygym.envs.industrial import IndustrialEnv


class IndustrialMPC:
    """MPC for ``Industrial-v0``: a policy ``mpc(obs) -> action`` that reads the env's state."""

    def __init__(self, env: gym.Env, horizon: int = 24, forecast_noise: float = 0.0, noise_seed: int = 0,
                 time_limit: float = 10.0) -> None:
        base = env.unwrapped
        if not isinstance(base, IndustrialEnv):
            raise TypeError(f"IndustrialMPC needs an IndustrialEnv, got {type(base).__name__}")
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon!r}")
        if forecast_noise < 0:
            raise ValueError(f"forecast_noise must be non-negative, got {forecast_noise!r}")
        self.env = base
        self.horizon = horizon
        self.forecast_noise = forecast_noise
        self.noise_seed = noise_seed
        self.time_limit = time_limit
        self.name = f"mpc_{'noisy' if forecast_noise > 0 else 'perfect'}"

    def window(self):
        """The sub-scenario the MPC optimises now (with forecasts in place of the future)."""
        base = self.env
        s, st = base.scenario, base.state
        t = st["t"]
        h = min(self.horizon, s.n_steps - t)
        b = s.battery
        soc = min(max(st["soc"], b.soc_min), b.soc_max)
        budget = st["budget_kwh"]
        if math.isfinite(budget) and t + h < s.n_steps:
            budget *= h / (s.n_steps - t)  # the window's share of what is left
        w = s.window(t, h, soc, st["soh"], st["peak_kw"], budget)
        if self.forecast_noise > 0 and h > 1:
            key = zlib.crc32(s.load_kw.tobytes())
            rng = np.random.default_rng([self.noise_seed, key, t])
            lead = np.arange(h)
            sigma = self.forecast_noise * np.sqrt(np.minimum(lead, 24) / 24.0)
            e_load = np.clip(rng.normal(0.0, 1.0, h), -3, 3) * sigma
            e_pv = np.clip(rng.normal(0.0, 1.0, h), -3, 3) * 2 * sigma
            pv = np.maximum(w.pv_kw * (1 + e_pv), 0.0)
            load = np.clip(w.load_kw * (1 + e_load), 0.0, w.connection_kw + pv)
            if w.allow_export:
                load = np.maximum(load, pv - w.connection_kw)
            w = dataclasses.replace(w, load_kw=load, pv_kw=pv)
        return w

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        from batterygym.baselines.industrial import solve

        plan = solve(self.window(), time_limit=self.time_limit)
        return plan.actions[0]
