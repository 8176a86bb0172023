"""``batterygym/Industrial-v0``: a second-life battery at an industrial site with a TOU tariff."""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.industrial import IndustrialScenario, idle_rewards
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.core.industrial_state import IndustrialState
from batterygym.envs._args import check_env_args, check_reset_args

N_STATE = 4  # soc, soh, peak share, budget share
N_TIME = 5  # hour sin/cos, weekday sin/cos, episode progress
OBS_SOC, OBS_SOH, OBS_PEAK, OBS_BUDGET = 0, 1, 2, 3
OBS_WINDOWS = N_STATE + N_TIME  # first index of the look-ahead windows (net load, import, export price)
ACTION_SHAPE = (1,)
INFO_KEYS = ("battery_kw", "clipped_kw", "import_kw", "export_kw", "energy_eur", "demand_eur", "degradation_eur",
             "terminal_eur")  # in the order IndustrialState.step returns them


def spaces_of(scenario: IndustrialScenario | None, config: IndustrialSiteConfig, lookahead: int
              ) -> tuple[spaces.Box, spaces.Box]:
    """The observation and action spaces of ``Industrial-v0`` (true bounds: a fixed scenario's own, else the
    site config's), for the scalar and the vector env alike."""
    if scenario is not None:
        conn = scenario.connection_kw
        net_low = min(-1.0, float(scenario.net_kw.min()) / conn)
        prices = np.concatenate([scenario.price_import, scenario.price_export])
    else:
        cfg = config
        conn = cfg.connection_kw
        net_low = -max(1.0, cfg.pv_kwp / conn)
        t = cfg.tariff
        prices = np.array([t.offpeak, t.shoulder, t.peak, cfg.export_price if cfg.allow_export else 0.0])
    p_lo, p_hi = float(prices.min()), float(prices.max())
    h = lookahead
    low = np.concatenate([[0, 0, 0, 0, -1, -1, -1, -1, 0], np.full(h, net_low), np.full(2 * h, p_lo)])
    high = np.concatenate([[1, 1, 1, 1, 1, 1, 1, 1, 1], np.ones(h), np.full(2 * h, p_hi)])
    observation = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    return observation, spaces.Box(-1.0, 1.0, shape=ACTION_SHAPE, dtype=np.float32)


def time_features(hour_of_day: np.ndarray, day_of_week: np.ndarray, dt_h: float) -> np.ndarray:
    """Observation slots 4-8 at steps 0..T (T = the last axis; the row after the last step included): sin and
    cos of the hour of day and of the week, and the share of the episode elapsed. ``(..., T)`` arrays give
    ``(..., T + 1, 5)`` float32."""
    n = hour_of_day.shape[-1]
    hours = np.concatenate([hour_of_day, (hour_of_day[..., -1:] + dt_h) % 24], axis=-1)
    dow = np.concatenate([day_of_week, (day_of_week[..., -1:] + (hours[..., -1:] == 0)) % 7], axis=-1)
    out = np.empty((*hours.shape, N_TIME), dtype=np.float32)
    out[..., 0] = np.sin(2 * np.pi * hours / 24)
    out[..., 1] = np.cos(2 * np.pi * hours / 24)
    week = 2 * np.pi * (dow + hours / 24) / 7
    out[..., 2] = np.sin(week)
    out[..., 3] = np.cos(week)
    out[..., 4] = np.arange(n + 1) / n
    return out


def window_series(net_share: np.ndarray, price_import: np.ndarray, price_export: np.ndarray, lookahead: int
                  ) -> np.ndarray:
    """The look-ahead series (net load / connection, import and export price), each padded with its last
    value so that step ``t``'s windows are ``[..., :, t:t + lookahead]``: ``(..., T)`` arrays give
    ``(..., 3, T + lookahead)`` float32."""
    n = net_share.shape[-1]
    out = np.empty((*net_share.shape[:-1], 3, n + lookahead), dtype=np.float32)
    for k, series in enumerate((net_share, price_import, price_export)):
        out[..., k, :n] = series
        out[..., k, n:] = series[..., -1:]
    return out


def windows_at_every_step(w: np.ndarray, n_steps: int, lookahead: int) -> np.ndarray:
    """A read-only view ``(n_steps + 1, 3, lookahead)`` of one episode's :func:`window_series`: row ``t`` holds
    step ``t``'s three windows."""
    w = np.ascontiguousarray(w)
    size = w.itemsize
    view = np.ndarray((n_steps + 1, 3, lookahead), dtype=w.dtype, buffer=w,
                      strides=(size, w.strides[0], size))
    view.flags.writeable = False
    return view


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
    * v0: a native vector env (`gym.make_vec(..., vectorization_mode="vector_entry_point")`,
      `batterygym.envs.industrial_vector.IndustrialVectorEnv`) steps many episodes as arrays with
      the same episodes, observations and rewards as that many of these envs. A reset costs about a
      quarter of what it did, a step about 0.6; a seed still gives the same episode. A non-finite
      action's error no longer repeats the action's repr.
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

        self.observation_space, self.action_space = spaces_of(scenario, self.config, lookahead)
        self._net_end = OBS_WINDOWS + lookahead
        self.scenario: IndustrialScenario | None = None
        self._state: IndustrialState | None = None
        self._static: list[tuple[tuple[np.ndarray, ...], float, np.ndarray]] = []

    # ------------------------------------------------------------------ episode set-up
    def _exogenous(self, s: IndustrialScenario) -> tuple[np.ndarray, np.ndarray]:
        """Rows t = 0..T of the observation with the state slots and the net-load window left at zero
        (shared by the episodes of one clock and price series), and the net-load series padded with its
        last value: step t's window is ``[t, t + lookahead)`` of it."""
        n, h = s.n_steps, self.lookahead
        net = np.empty(n + h, dtype=np.float32)
        net[:n] = s.net_kw / s.connection_kw
        net[n:] = net[n - 1]
        return self._static_rows(s), net

    def _static_rows(self, s: IndustrialScenario) -> np.ndarray:
        """The rows with the time features and the price windows filled in. Generated episodes share a few
        clocks and price series (one per start weekday), so the last few are kept, matched by identity."""
        key = (s.hour_of_day, s.day_of_week, s.price_import, s.price_export)
        for entry in self._static:
            if all(a is b for a, b in zip(entry[0], key, strict=True)) and entry[1] == s.dt_h:
                return entry[2]
        n, h = s.n_steps, self.lookahead
        x = np.zeros((n + 1, OBS_WINDOWS + 3 * h), dtype=np.float32)
        x[:, N_STATE:OBS_WINDOWS] = time_features(s.hour_of_day, s.day_of_week, s.dt_h)
        w = window_series(np.zeros(n), s.price_import, s.price_export, h)
        x[:, OBS_WINDOWS:].reshape(n + 1, 3, h)[:] = windows_at_every_step(w, n, h)
        x.flags.writeable = False
        self._static = [(key, s.dt_h, x), *self._static[:7]]
        return x

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_args(seed, options)
        super().reset(seed=seed)
        s = self.fixed_scenario or generate_industrial(self.np_random, self.config)
        if s is not self.scenario:
            self.scenario = s
            self._x, self._net = self._exogenous(s)
            self._state = IndustrialState(s, like=self._state)
        else:
            self._state.reset()
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        t = self._state.t
        obs = self._x[t].copy()
        obs[OBS_WINDOWS:self._net_end] = self._net[t:t + self.lookahead]
        self._state.write_slots(obs)
        return obs

    # ------------------------------------------------------------------ dynamics
    def step(self, action: np.ndarray):
        st = self._state
        if st is None:
            raise RuntimeError("call reset() before step()")
        shape = action.shape if isinstance(action, np.ndarray) else np.shape(action)
        if shape != ACTION_SHAPE:
            if st.done:
                raise RuntimeError("the episode has ended; call reset()")
            raise ValueError(f"action must have shape {ACTION_SHAPE}, got shape {shape}: {action!r}")
        out = st.step(float(action[0]))
        info = dict(zip(INFO_KEYS, out, strict=True))
        if self.render_mode == "human":
            print(self._text(info))
        terminated = st.done
        return self._obs(), -(out[4] + out[5] + out[6]) + out[7], terminated, False, info

    def idle_rewards(self) -> np.ndarray:
        """Per step, the reward the idle (zero) action earns in the current episode (core, from the scenario)."""
        if self.scenario is None:
            raise RuntimeError("call reset() before idle_rewards()")
        return idle_rewards(self.scenario)

    @property
    def state(self) -> dict[str, float]:
        """The battery's and the bill's state now: what a rolling-horizon optimiser starts from."""
        s, st = self.scenario, self._state
        if st is None:
            return {"t": 0, "energy_kwh": 0.0, "soc": float("nan"), "soh": 1.0, "peak_kw": 0.0, "budget_kwh": 0.0}
        return {"t": st.t, "energy_kwh": st.e, "soc": st.e / (st.soh * s.battery.capacity_kwh), "soh": st.soh,
                "peak_kw": s.peak_before(st.t, st.peak), "budget_kwh": st.budget}

    # ------------------------------------------------------------------ rendering
    def _text(self, info: dict[str, float]) -> str:
        s, st = self.scenario, self._state
        return (
            f"t={st.t:4d} {s.timestamps[st.t - 1]:%a %H:%M} load={s.load_kw[st.t - 1]:7.1f} kW "
            f"battery={info['battery_kw']:+7.1f} kW import={info['import_kw']:7.1f} kW "
            f"soc={st.e / (st.soh * s.battery.capacity_kwh):5.3f} peak={st.peak:7.1f} kW"
        )

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            st = self._state
            if st is None or st.t == 0:
                return "batterygym Industrial: not stepped yet"
            return (
                f"t={st.t} soc={st.e / (st.soh * self.scenario.battery.capacity_kwh):.3f} soh={st.soh:.5f} "
                f"peak={st.peak:.1f} kW budget_left={st.budget:.1f} kWh"
            )
        return None
