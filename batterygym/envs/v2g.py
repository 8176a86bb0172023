"""``batterygym/V2G-v0``: an aggregator's EVs, plugged in at work, sell regulation capacity and trade energy."""
from __future__ import annotations

import functools
import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.v2g import EUR_PER_MWH_TO_KWH, V2GScenario, V2GState, idle_rewards
from batterygym.core.v2g_generator import PRICE_BOUNDS, V2GConfig, generate_v2g
from batterygym.envs._args import check_env_args, check_reset_args

N_TIME = 3  # hour sin/cos, episode progress
PRICE_NAMES = ("energy_price", "reg_up_price", "reg_down_price")


@functools.lru_cache(maxsize=16)
def obs_layout(n_evs: int, lookahead: int) -> dict[str, slice]:
    """Where each block of the observation lies (see :class:`V2GEnv`); shared, do not change it."""
    sizes = {"present": n_evs, "soc": n_evs, "hours_left": n_evs, "needed": n_evs, "time": N_TIME,
             **{name: lookahead for name in PRICE_NAMES}}
    out, at = {}, 0
    for name, size in sizes.items():
        out[name] = slice(at, at + size)
        at += size
    return out


def spaces_of(n_evs: int, lookahead: int, scenario: V2GScenario | None) -> tuple[spaces.Box, spaces.Box]:
    """The observation and action spaces of :class:`V2GEnv` (and of each sub-env of its vector env): the
    price blocks bounded by the generator's floors and caps, or by a fixed scenario's prices and 0."""
    layout = obs_layout(n_evs, lookahead)
    size = layout[PRICE_NAMES[-1]].stop
    low, high = np.zeros(size, dtype=np.float32), np.ones(size, dtype=np.float32)
    low[layout["time"]] = (-1.0, -1.0, 0.0)
    for name in PRICE_NAMES:
        if scenario is not None:
            values = getattr(scenario, name)
            lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
        else:
            lo, hi = PRICE_BOUNDS[name]
        low[layout[name]] = np.float32(lo * EUR_PER_MWH_TO_KWH)
        high[layout[name]] = np.float32(hi * EUR_PER_MWH_TO_KWH)
    return (spaces.Box(low, high, dtype=np.float32),
            spaces.Box(-1.0, 1.0, shape=(3 * n_evs,), dtype=np.float32))


def state_blocks(energy_kwh: np.ndarray, present: np.ndarray, required_now_kwh: np.ndarray, inv_capacity: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The observation's state blocks from the EVs' energies (any leading shape): SoC (0 when absent) and
    the energy still needed at departure, both as shares of the capacity."""
    return (np.maximum(energy_kwh, 0.0) * present * inv_capacity,
            np.maximum(required_now_kwh - energy_kwh, 0.0) * inv_capacity)


def price_rows(prices: np.ndarray, lookahead: int) -> np.ndarray:
    """The observation's price blocks at steps 0..T ``(..., T + 1, 3 H)`` (EUR/kWh, float32) from the hourly
    prices ``(..., 3, T)`` (EUR/MWh; energy, reg-up, reg-down): each a window of ``H`` hours from now, beyond
    the episode's end repeating its last hour."""
    n = prices.shape[-1]
    flat = (prices.reshape(*prices.shape[:-2], 3 * n) * EUR_PER_MWH_TO_KWH).astype(np.float32)
    return flat.take(clock(n, lookahead)[2], axis=-1)


def exogenous_rows(s: V2GScenario, lookahead: int) -> np.ndarray:
    """Observation rows t = 0..T of :class:`V2GEnv` with the state blocks (SoC, energy needed) left at zero."""
    n, h = s.n_steps, lookahead
    lay = obs_layout(s.n_evs, h)
    x = np.zeros((n + 1, lay[PRICE_NAMES[-1]].stop), dtype=np.float32)
    x[:n, lay["present"]] = s.present
    x[:n, lay["hours_left"]] = s.hours_left * (1.0 / 24.0)
    x[:, lay["time"]] = clock(n, h)[0]
    x[:, lay[PRICE_NAMES[0]].start:] = price_rows(np.array([s.energy_price, s.reg_up_price, s.reg_down_price]), h)
    return x


@functools.lru_cache(maxsize=16)
def clock(n: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The time block of steps 0..n (episodes start at midnight), the price windows' step indices and, for
    prices stacked as one ``(3 n,)`` row, the index of each step's three windows ``(n + 1, 3 h)``."""
    hours = np.arange(n + 1) % 24
    time_block = np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24), np.arange(n + 1) / n],
                          axis=1).astype(np.float32)
    steps = np.minimum(np.arange(n + 1)[:, None] + np.arange(h)[None, :], n - 1)
    index = (steps[:, None, :] + n * np.arange(3)[None, :, None]).reshape(n + 1, 3 * h)
    for a in (time_block, steps, index):
        a.setflags(write=False)
    return time_block, steps, index


class V2GEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    An aggregator with `n_evs` electric cars (100 by default, each 24 kWh on its own 7.2 kW charger,
    efficiency 0.9 each way) plugged in at a workplace: each day a car arrives between 06 and 09 h and
    leaves between 16 and 19 h, with a random state of charge, and must leave with at least the state of
    charge its driver asked for. Every hour the aggregator sets, per plugged car, its net power and the
    regulation up and down capacity it offers; it is paid for capacity, buys (or sells) the energy at the
    day-ahead price, bills drivers 0.01 EUR/kWh and pays the batteries' wear. Each reset draws a new day
    (drivers and Italian-like prices, seeded), or replays the fixed `scenario` given to the constructor.
    `batterygym.baselines.solve_optimal(env.unwrapped.scenario)` gives its optimum. The model, its
    constraints and sources: `batterygym.core.v2g` and the README.

    ## Action Space

    `Box(-1, 1, (3 N,), float32)`, charger-major (`a[3 i + k]`): per charger `k = 0` the net power (share
    of the rating, > 0 charges), `k = 1` the reg-up and `k = 2` the reg-down capacity (share of the swing
    `MPc + MPd` = 14.4 kW; values <= 0 offer nothing). The env projects the request onto what the car can
    deliver (charger rating with regulation fully deployed, energy headroom with it deployed at its
    expected share, the SoC window) and raises the net power to what keeps the departure requirement
    reachable: no policy can miss it. An empty charger ignores its slice. A deliverable request is left
    unchanged; `info["clipped_kw"]` says how much was removed.

    ## Observation Space

    `Box(float32)` of shape `(4 N + 3 + 3 H,)` for N cars and H = `lookahead`:

    | Block | Observation | Min | Max |
    |---|---|---|---|
    | N | a car is plugged in (1) or not (0) | 0 | 1 |
    | N | state of charge (0 when absent) | 0 | 1 |
    | N | plugged hours left including this one / 24 | 0 | 1 |
    | N | energy still needed at departure / capacity | 0 | 1 |
    | 3 | sin, cos of hour of day; share of the episode elapsed | -1 | 1 |
    | H | energy price (EUR/kWh), now and the next H - 1 hours | price floor | price cap |
    | H | reg-up capacity price (EUR/kW per h), same window | 0 | cap |
    | H | reg-down capacity price (EUR/kW per h), same window | 0 | cap |

    Beyond the episode's end the price windows repeat the last hour's prices.

    ## Rewards

    The hour's money in EUR: capacity payments `(pRU r_up + pRD r_dn) / 1000` minus the energy bought
    `pE q / 1000` (prices in EUR/MWh, powers in kW, summed over cars), plus the drivers' fee `0.01 q`,
    minus the wear `degradation_cost_per_kwh |q|`. `info` carries each part and the per-car `power_kw`,
    `reg_up_kw`, `reg_down_kw` applied.

    ## Starting State

    Every car arriving at hour 0 of the episode has its drawn SoC; the others arrive later.

    ## Episode End

    Terminated after the scenario's last hour (24 hourly steps by default); `n_days` sets the length.
    The id registers no `max_episode_steps`; one passed to `gym.make` truncates the episode there.

    ## Arguments

    `gym.make("batterygym/V2G-v0", lookahead=24, scenario=None, render_mode=None, **v2g)`: `scenario`
    fixes the episode (a `V2GScenario`); `v2g` are the fields of
    `batterygym.core.v2g_generator.V2GConfig` (`n_evs`, `n_days`, `arrival_soc`, `required_soc`, ...).

    ## Version History

    * v0: the id registers no `max_episode_steps`: the episode ends (`terminated`) after the scenario's
      last step (24 hourly steps by default, `n_days` for more); a `max_episode_steps` given to `gym.make`
      truncates it there. Actions of another shape than the action space's, or with NaN or inf, and
      unknown `reset` options are refused with a `ValueError`.
    * v0, native vector env: `gym.make_vec("batterygym/V2G-v0", n, vectorization_mode="vector_entry_point")`
      (`batterygym.envs.v2g_vector.V2GVectorEnv`), equal to `n` of these envs under `SyncVectorEnv`. A reset
      draws the same episode from a seed as before, in half the time or less; rewards and infos equal
      the earlier ones to float rounding (1e-14 relative: the SoC window's terms are now the shared battery
      model's, divisions where there were products of reciprocals).
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(self, scenario: V2GScenario | None = None, lookahead: int = 24, render_mode: str | None = None,
                 **v2g: Any) -> None:
        check_env_args(self, scenario, V2GScenario, lookahead, render_mode, v2g, "V2G")
        self.config = V2GConfig.from_kwargs(**v2g)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        self.render_mode = render_mode
        self.n_evs = scenario.n_evs if scenario is not None else self.config.n_evs
        self.layout = obs_layout(self.n_evs, lookahead)
        self.observation_space, self.action_space = spaces_of(self.n_evs, lookahead, scenario)
        self.scenario: V2GScenario | None = None
        self.evs: V2GState | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_args(seed, options)
        super().reset(seed=seed)
        s = self.fixed_scenario or generate_v2g(self.np_random, self.config)
        if s is not self.scenario:
            self.scenario = s
            self.evs = V2GState(s)
            self._x = exogenous_rows(s, self.lookahead)
            if self.fixed_scenario is not None:  # a generated episode's prices lie within the bounds already
                np.clip(self._x, self.observation_space.low, self.observation_space.high, out=self._x)
            self._inv_cap = 1.0 / s.ev.capacity_kwh
            self._req = s.required_now_kwh
            self._present = s.present
            self._any = self.evs.plugged_any
            self._n_steps = s.n_steps
            self._soc = self.layout["soc"]
            self._needed = self.layout["needed"]
        else:
            self.evs.reset()
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        t, e = self.evs.t, self.evs.energy_kwh
        obs = self._x[t].copy()
        if t < self._n_steps and self._any[t]:
            obs[self._soc], obs[self._needed] = state_blocks(e, self._present[t], self._req[t], self._inv_cap)
        return obs

    def step(self, action: np.ndarray):
        evs = self.evs
        if evs is None:
            raise RuntimeError("call reset() before step()")
        if evs.t >= self._n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        a = action if isinstance(action, np.ndarray) else np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            n = self.n_evs
            raise ValueError(f"action must have shape {self.action_space.shape}: {3 * n} values (3 per charger, "
                             f"{n} chargers), got shape {a.shape}")
        total = np.add.reduce(a, axis=None)
        if not math.isfinite(total):  # a NaN or an inf somewhere (or finite values summing beyond float range)
            bad = np.flatnonzero(~np.isfinite(a))
            if bad.size:
                v = float(a[bad[0]])
                raise ValueError(f"action must be finite, got {'NaN' if v != v else v} at index {int(bad[0])}")
        out = evs.step(a.reshape(self.n_evs, 3))  # the projection clips to the feasible set, out-of-range too
        info = {
            "power_kw": out.power_kw, "reg_up_kw": out.reg_up_kw, "reg_down_kw": out.reg_down_kw,
            "reg_up_eur": out.reg_up_eur, "reg_down_eur": out.reg_down_eur, "energy_eur": out.energy_eur,
            "driver_fee_eur": out.driver_fee_eur, "degradation_eur": out.degradation_eur,
            "clipped_kw": out.clipped_kw,
        }
        if self.render_mode == "human":
            print(self._text())
        return self._obs(), float(out.reward), evs.t >= self._n_steps, False, info

    def idle_rewards(self) -> np.ndarray:
        """Per step, the reward the idle (zero) action earns in the current episode (core, from the scenario)."""
        if self.scenario is None:
            raise RuntimeError("call reset() before idle_rewards()")
        return idle_rewards(self.scenario)

    @property
    def state(self) -> dict[str, Any]:
        """The cars' state now: step and energy per car."""
        if self.evs is None:
            return {"t": 0}
        return {"t": self.evs.t, "energy_kwh": self.evs.energy_kwh.tolist()}

    def _text(self) -> str:
        t = self.evs.t
        s = self.scenario
        plugged = int(s.present[t].sum()) if t < s.n_steps else 0
        e = self.evs.energy_kwh
        return f"t={t:3d} plugged={plugged:3d} mean soc={float(e.mean()) * self._inv_cap:.2f}"

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            if self.evs is None or self.evs.t == 0:
                return "batterygym V2G: not stepped yet"
            return self._text()
        return None
