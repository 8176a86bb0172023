"""``batterygym/Industrial-v0``: a second-life battery at an industrial site with a TOU tariff."""
from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.battery import power_bounds, step_battery
from batterygym.core.industrial import IndustrialScenario, settle_step, terminal_credit
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.envs._args import check_env_args, check_reset_args

N_STATE = 4  # soc, soh, peak share, budget share
N_TIME = 5  # hour sin/cos, weekday sin/cos, episode progress
OBS_SOC, OBS_SOH, OBS_PEAK, OBS_BUDGET = 0, 1, 2, 3
OBS_WINDOWS = N_STATE + N_TIME  # first index of the look-ahead windows (net load, import, export price)
ACTION_SHAPE = (1,)


class IndustrialEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    An industrial site (shift-pattern load, optional PV) pays a time-of-use energy price, a demand
    charge on the episode's peak import, and the wear of a second-life battery (SoH 0.8, round trip
    about 0.9) that it dispatches every hour to cut the bill. Each reset draws a new week from the
    seeded generator, or replays the fixed ``scenario`` given to the constructor.
    ``batterygym.baselines.solve_optimal(env.unwrapped.scenario)`` gives the episode's optimum.

    ## Action Space

    `Box(-1, 1, (1,), float32)`: the battery's signed power as a share of its rating (> 0 charges
    at up to `p_charge_kw`, < 0 discharges at up to `p_discharge_kw`). The env projects it onto the
    feasible interval: power ratings, grid connection, the SoC window of the fading capacity, the
    episode's charge budget (cycle cap) and, without export, no discharge beyond the load. A
    feasible action is left unchanged; `info["clipped_kw"]` says how much the projection removed.

    ## Observation Space

    `Box(float32)` of shape `(9 + 3 * lookahead,)`:

    | Index | Observation | Min | Max |
    |---|---|---|---|
    | 0 | state of charge (share of current capacity) | 0 | 1 |
    | 1 | state of health | 0 | 1 |
    | 2 | peak import so far in the billing period / connection_kw | 0 | 1 |
    | 3 | charge budget left (share of the episode's) | 0 | 1 |
    | 4-5 | sin, cos of hour of day | -1 | 1 |
    | 6-7 | sin, cos of day of week | -1 | 1 |
    | 8 | share of the episode elapsed | 0 | 1 |
    | 9 ... | load minus PV / connection_kw, now and the next `lookahead - 1` steps | -pv/conn | 1 |
    | ... | import price (EUR/kWh), same window | min price | max price |
    | ... | export price (EUR/kWh, 0 without export), same window | min price | max price |

    Beyond the episode's end the window repeats the last step's values.

    ## Rewards

    Minus the step's money in EUR: energy bought (net of export revenue), the demand charge's
    increment `rate * max(0, import - peak_so_far)` in the step's billing period (so each period
    pays `rate * its peak`; a week is one period, a longer episode one per calendar month), and
    degradation `cost_per_kwh * |power| * dt`. The last step also credits the energy left in the
    battery at `terminal_value_eur_per_kwh`. `info` carries each part.

    ## Starting State

    SoC `soc0` (0.5) and SoH `soh0` (0.8) of the scenario's battery, no peak yet, full budget.

    ## Episode End

    Terminated after the scenario's last step (168 hourly steps by default; `n_days=14` gives 336).
    The id registers no `max_episode_steps`; one passed to `gym.make` truncates the episode there.

    ## Arguments

    `gym.make("batterygym/Industrial-v0", lookahead=24, scenario=None, render_mode=None, **site)`:
    `scenario` fixes the episode (an `IndustrialScenario`, e.g. from `load_industrial_csv`); `site`
    are the fields of `batterygym.core.IndustrialSiteConfig` (`n_days`, `pv_kwp`, `capacity_kwh`,
    `power_kw`, `allow_export`, `billing`, `eta_charge`, `calendar_fade_per_day`, `tariff={...}`, ...),
    plain numbers and strings so the spec stays JSON-clean.

    ## Version History

    * v0: demand charges are billed per billing period: the default week (and any episode up to a
      month) is one period at the pro-rated monthly rate, as at first; a longer episode pays one peak
      per calendar month (`billing="auto"`; `"episode"` restores one peak for the whole episode), so
      seeded episodes longer than a month pay a different demand charge than before. Observation 2
      is the peak of the current billing period. An episode of 365 days or more starts on the year's
      first Monday. The id no longer registers `max_episode_steps=168`: `n_days` sets the length.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        scenario: IndustrialScenario | None = None,
        lookahead: int = 24,
        render_mode: str | None = None,
        **site: Any,
    ) -> None:
        check_env_args(self, scenario, IndustrialScenario, lookahead, render_mode, site, "site")
        self.config = IndustrialSiteConfig.from_kwargs(**site)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        self.render_mode = render_mode

        if scenario is not None:
            conn = scenario.connection_kw
            net_low = min(-1.0, float(scenario.net_kw.min()) / conn)
            prices = np.concatenate([scenario.price_import, scenario.price_export])
        else:
            cfg = self.config
            conn = cfg.connection_kw
            net_low = -max(1.0, cfg.pv_kwp / conn)
            t = cfg.tariff
            prices = np.array([t.offpeak, t.shoulder, t.peak, cfg.export_price if cfg.allow_export else 0.0])
        p_lo, p_hi = float(prices.min()), float(prices.max())
        h = lookahead
        low = np.concatenate([[0, 0, 0, 0, -1, -1, -1, -1, 0], np.full(h, net_low), np.full(2 * h, p_lo)])
        high = np.concatenate([[1, 1, 1, 1, 1, 1, 1, 1, 1], np.ones(h), np.full(2 * h, p_hi)])
        self.observation_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=ACTION_SHAPE, dtype=np.float32)
        self.scenario: IndustrialScenario | None = None
        self._t = 0
        self._e, self._soh, self._peak, self._budget = 0.0, 1.0, 0.0, 0.0

    # ------------------------------------------------------------------ episode set-up
    def _exogenous(self, s: IndustrialScenario) -> np.ndarray:
        """Rows t = 0..T of the observation with the state slots left at zero."""
        n, h = s.n_steps, self.lookahead
        hours = np.append(s.hour_of_day, (s.hour_of_day[-1] + s.dt_h) % 24)
        dow = np.append(s.day_of_week, (s.day_of_week[-1] + (hours[-1] == 0)) % 7)
        x = np.zeros((n + 1, N_STATE + N_TIME + 3 * h), dtype=np.float32)
        x[:, 4] = np.sin(2 * np.pi * hours / 24)
        x[:, 5] = np.cos(2 * np.pi * hours / 24)
        x[:, 6] = np.sin(2 * np.pi * (dow + hours / 24) / 7)
        x[:, 7] = np.cos(2 * np.pi * (dow + hours / 24) / 7)
        x[:, 8] = np.arange(n + 1) / n
        idx = np.minimum(np.arange(n + 1)[:, None] + np.arange(h)[None, :], n - 1)
        base = OBS_WINDOWS
        x[:, base:base + h] = (s.net_kw / s.connection_kw)[idx]
        x[:, base + h:base + 2 * h] = s.price_import[idx]
        x[:, base + 2 * h:] = s.price_export[idx]
        return x

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_args(seed, options)
        super().reset(seed=seed)
        s = self.fixed_scenario or generate_industrial(self.np_random, self.config)
        if s is not self.scenario:
            self.scenario = s
            self._x = self._exogenous(s)
            self._net = s.net_kw
            self._clim = s.charge_limit_kw.tolist()
            self._dlim = s.discharge_limit_kw.tolist()
            self._budget0 = s.charge_budget_kwh
            self._inv_conn = 1.0 / s.connection_kw
            self._inv_cap = 1.0 / s.battery.capacity_kwh
        b = s.battery
        self._t = 0
        self._e = b.e0_kwh
        self._soh = b.soh0
        self._peak = s.initial_peak_kw
        self._budget = s.charge_budget_kwh
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        obs = self._x[self._t].copy()
        obs[0] = min(max(self._e * self._inv_cap / self._soh, 0.0), 1.0)  # rounding at the floor
        obs[1] = self._soh
        obs[2] = min(self.scenario.peak_before(self._t, self._peak) * self._inv_conn, 1.0)
        obs[3] = min(self._budget / self._budget0, 1.0) if 0 < self._budget0 < math.inf else float(self._budget0 > 0)
        return obs

    # ------------------------------------------------------------------ dynamics
    def step(self, action: np.ndarray):
        s = self.scenario
        if s is None:
            raise RuntimeError("call reset() before step()")
        t = self._t
        if t >= s.n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        shape = action.shape if isinstance(action, np.ndarray) else np.shape(action)
        if shape != ACTION_SHAPE:
            raise ValueError(f"action must have shape {ACTION_SHAPE}, got shape {shape}: {action!r}")
        a = float(action[0])
        if not -1.0 <= a <= 1.0:  # NaN fails this too
            if not math.isfinite(a):
                raise ValueError(f"action must be finite, got {'NaN' if a != a else a}: {action!r}")
            a = 1.0 if a > 1.0 else -1.0
        b = s.battery
        p_req = a * (b.p_charge_kw if a > 0 else b.p_discharge_kw)
        lo, hi = power_bounds(b, self._e, self._soh, s.dt_h, self._clim[t], self._dlim[t], self._budget)
        p = lo if p_req < lo else (hi if p_req > hi else p_req)
        imp, exp, energy, demand, wear, self._peak = settle_step(s, t, p, self._peak)
        self._e, self._soh = step_battery(b, self._e, self._soh, p, s.dt_h)
        if p > 0:
            self._budget = max(self._budget - p * s.dt_h, 0.0)
        reward = -(energy + demand + wear)
        self._t = t + 1
        terminated = self._t >= s.n_steps
        credit = terminal_credit(s, self._e) if terminated else 0.0
        info = {
            "battery_kw": p, "clipped_kw": p_req - p, "import_kw": imp, "export_kw": exp,
            "energy_eur": energy, "demand_eur": demand, "degradation_eur": wear, "terminal_eur": credit,
        }
        if self.render_mode == "human":
            print(self._text(info))
        return self._obs(), reward + credit, terminated, False, info

    @property
    def state(self) -> dict[str, float]:
        """The battery's and the bill's state now: what a rolling-horizon optimiser starts from."""
        s = self.scenario
        soc = self._e / (self._soh * s.battery.capacity_kwh) if s is not None else float("nan")
        peak = s.peak_before(self._t, self._peak) if s is not None else self._peak
        return {"t": self._t, "energy_kwh": self._e, "soc": soc, "soh": self._soh, "peak_kw": peak,
                "budget_kwh": self._budget}

    # ------------------------------------------------------------------ rendering
    def _text(self, info: dict[str, float]) -> str:
        s = self.scenario
        return (
            f"t={self._t:4d} {s.timestamps[self._t - 1]:%a %H:%M} load={s.load_kw[self._t - 1]:7.1f} kW "
            f"battery={info['battery_kw']:+7.1f} kW import={info['import_kw']:7.1f} kW "
            f"soc={self._e * self._inv_cap / self._soh:5.3f} peak={self._peak:7.1f} kW"
        )

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            if self.scenario is None or self._t == 0:
                return "batterygym Industrial: not stepped yet"
            return (
                f"t={self._t} soc={self._e * self._inv_cap / self._soh:.3f} soh={self._soh:.5f} "
                f"peak={self._peak:.1f} kW budget_left={self._budget:.1f} kWh"
            )
        return None
