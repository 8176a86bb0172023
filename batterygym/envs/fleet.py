"""``batterygym/Fleet-v0``: a battery fleet bidding its power into up (discharge) and down (charge) markets."""
from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.fleet import EUR_PER_MWH_TO_KWH, UP, FleetScenario, FleetState, idle_rewards
from batterygym.core.fleet_generator import FleetConfig, fixed_layout, generate_fleet
from batterygym.envs._args import action_values, check_env_args, check_reset_args

N_TIME = 3  # hour sin/cos, episode progress


def obs_layout(n_assets: int, n_markets: int, lookahead: int) -> dict[str, slice]:
    """Where each block of the observation lies (see :class:`FleetEnv`)."""
    n, k, h = n_assets, n_markets, lookahead
    sizes = {"soc": n, "discharge_room": n, "charge_room": n, "time": N_TIME, "direction": k,
             "prequalified": n * k, "prices": k * h}
    out, at = {}, 0
    for name, size in sizes.items():
        out[name] = slice(at, at + size)
        at += size
    return out


def hours_of(s: FleetScenario) -> np.ndarray:
    """Hour of day of steps 0..T (numpy only: resets stay cheap)."""
    start = np.datetime64(s.start, "m")
    minutes = (start - start.astype("datetime64[D]")).astype(int)
    return (minutes / 60.0 + np.arange(s.n_steps + 1) * s.dt_h) % 24.0


def rating_of(s: FleetScenario) -> np.ndarray:
    """Each asset's rating in each market's direction (assets x markets, kW)."""
    return np.array([[b.p_discharge_kw if d == UP else b.p_charge_kw for d in s.directions] for b in s.assets])


def exogenous_rows(s: FleetScenario, lookahead: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Observation rows t = 0..T of :class:`FleetEnv` with the state blocks (SoC, rooms) left at zero."""
    n, h = s.n_steps, lookahead
    lay = obs_layout(s.n_assets, s.n_markets, h)
    x = np.zeros((n + 1, lay["prices"].stop), dtype=np.float32)
    x[:, lay["time"]] = clock_rows(s)
    x[:, lay["direction"].start:lay["prequalified"].stop] = fleet_row(s)
    x[:, lay["prices"]] = price_windows(s, h)
    return np.clip(x, low, high)


def clock_rows(s: FleetScenario) -> np.ndarray:
    """The observation's time block of steps 0..T: sin and cos of the hour of day, share of the episode elapsed."""
    n = s.n_steps
    hours = hours_of(s)
    return np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24), np.arange(n + 1) / n], axis=1)


def fleet_row(s: FleetScenario) -> np.ndarray:
    """The observation's blocks of the fleet: market directions, then prequalification / rating (asset-major)."""
    rating = rating_of(s)
    share = np.divide(s.prequalified_kw, rating, out=np.zeros_like(rating), where=rating > 0)
    return np.concatenate([s.sign, share.ravel()])


def inverse_ratings(s: FleetScenario) -> tuple[list[float], list[float], list[float]]:
    """Per asset ``1 / capacity``, ``1 / p_discharge_kw`` and ``1 / p_charge_kw`` (0 for a zero rating): the
    scales of the observation's state blocks."""
    return ([1.0 / b.capacity_kwh for b in s.assets],
            [1.0 / b.p_discharge_kw if b.p_discharge_kw > 0 else 0.0 for b in s.assets],
            [1.0 / b.p_charge_kw if b.p_charge_kw > 0 else 0.0 for b in s.assets])


def price_windows(s: FleetScenario, lookahead: int) -> np.ndarray:
    """The observation's price block of steps 0..T: per market, the prices (EUR/kWh) of the next
    ``lookahead`` steps (the last step's repeated beyond the end), market-major."""
    return (s.prices.ravel() * EUR_PER_MWH_TO_KWH)[_window_index(s.n_steps, s.n_markets, lookahead)]


@functools.lru_cache(maxsize=16)
def _window_index(n: int, k: int, h: int) -> np.ndarray:
    """Flat indices into a ``(n, k)`` price array giving :func:`price_windows`' ``(n + 1, k * h)`` block."""
    steps = np.minimum(np.arange(n + 1)[:, None, None] + np.arange(h)[None, None, :], n - 1)  # (T+1, 1, H)
    idx = (steps * k + np.arange(k)[None, :, None]).reshape(n + 1, k * h)
    idx.setflags(write=False)
    return idx


class FleetEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    A fleet of batteries (5 by default, differing in power, energy and efficiency) offers its power
    every hour in several markets (4 by default), each `up` (the fleet delivers: discharge) or `down`
    (it absorbs: charge), up to each asset's prequalified power in each market. Up markets pay their
    price for the energy delivered; down markets charge their price for the energy absorbed (a
    negative price pays the fleet to charge). Each reset draws a new day of prices from the seeded
    generator (the fleet's layout is fixed by `layout_seed`), or replays the fixed `scenario` given to
    the constructor. `batterygym.baselines.solve_optimal(env.unwrapped.scenario)` gives its optimum.

    ## Action Space

    `Box(-1, 1, (n_assets * n_markets,), float32)`, asset-major (`a[i * n_markets + m]`): the share of
    asset `i`'s prequalified power offered in market `m` (values <= 0 offer nothing). The env projects
    it onto the feasible set, per asset: if it offers both up and down, the larger side is kept and
    the other dropped; the kept side is scaled down uniformly to fit the asset's rating, SoC window
    and charge budget. A feasible action is left unchanged; `info["clipped_kw"]` says what was removed.

    ## Observation Space

    `Box(float32)` of shape `(3 N + 3 + M + N M + M H,)` for N assets, M markets, H = `lookahead`:

    | Block | Observation | Min | Max |
    |---|---|---|---|
    | N | state of charge per asset (share of current capacity) | 0 | 1 |
    | N | feasible discharge now / discharge rating, per asset | 0 | 1 |
    | N | feasible charge now / charge rating, per asset | 0 | 1 |
    | 3 | sin, cos of hour of day; share of the episode elapsed | -1 | 1 |
    | M | market direction (+1 up, -1 down) | -1 | 1 |
    | N M | prequalified power / rating in that direction, asset-major | 0 | 1 |
    | M H | price per market (EUR/kWh), now and the next H - 1 steps, market-major | price floor | price cap |

    Beyond the episode's end the price window repeats the last step's prices.

    ## Rewards

    The step's money in EUR: `sum dir[m] * price[t, m] / 1000 * x[i, m] * dt` (prices in EUR/MWh,
    allocations `x` in kW) minus the wear `degradation_cost_per_kwh * (charge + discharge) * dt` of
    every asset; the last step adds `terminal_value_eur_per_mwh / 1000 * (E_T - E_0)` over the fleet
    (0 by default). `info` carries each part and the allocation applied (`allocation_kw`, N x M).

    ## Starting State

    Every asset at SoC `soc0` (0.5) and SoH `soh0` (1.0), with its full charge budget.

    ## Episode End

    Terminated after the scenario's last step (24 hourly steps by default); `n_days` sets the length.
    The id registers no `max_episode_steps`; one passed to `gym.make` truncates the episode there.

    ## Arguments

    `gym.make("batterygym/Fleet-v0", lookahead=24, scenario=None, render_mode=None, **fleet)`:
    `scenario` fixes the episode (a `FleetScenario`, e.g. from `load_fleet_csv`); `fleet` are the
    fields of `batterygym.core.fleet_generator.FleetConfig` (`n_assets`, `n_markets`, `n_days`,
    `layout_seed`, `directions`, ...), plain values so the spec stays JSON-clean.

    ## Version History

    * v0: the id registers no `max_episode_steps`: the episode ends (`terminated`) after the scenario's
      last step (24 hourly steps by default, `n_days` for more); a `max_episode_steps` given to `gym.make`
      truncates it there. Actions of another shape than the action space's, or with NaN or inf, and
      unknown `reset` options are refused with a `ValueError`.
    * v0: a native vector env, `gym.make_vec("batterygym/Fleet-v0", n, vectorization_mode="vector_entry_point")`
      (`batterygym.envs.fleet_vector.FleetVectorEnv`), equal to `n` of these envs under `SyncVectorEnv`. A reset
      draws the same episode from a seed as before, faster.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        scenario: FleetScenario | None = None,
        lookahead: int = 24,
        render_mode: str | None = None,
        **fleet: Any,
    ) -> None:
        check_env_args(self, scenario, FleetScenario, lookahead, render_mode, fleet, "fleet")
        self.config = FleetConfig.from_kwargs(**fleet)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        self.render_mode = render_mode
        self._layout = fixed_layout(self.config) if scenario is None else None
        self.observation_space, self.action_space = fleet_spaces(self.config, scenario, lookahead)
        self.n_assets = scenario.n_assets if scenario is not None else self.config.n_assets
        self.n_markets = scenario.n_markets if scenario is not None else self.config.n_markets
        self.layout = obs_layout(self.n_assets, self.n_markets, lookahead)
        self.scenario: FleetScenario | None = None
        self.fleet: FleetState | None = None

    # ------------------------------------------------------------------ episode set-up
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_args(seed, options)
        super().reset(seed=seed)
        s = self.fixed_scenario or generate_fleet(self.np_random, self.config, self._layout)
        if s is not self.scenario:
            old = self.scenario
            low, high = self.observation_space.low, self.observation_space.high
            if (old is not None and old.assets is s.assets and old.prequalified_kw is s.prequalified_kw
                    and old.directions == s.directions and old.n_steps == s.n_steps and old.dt_h == s.dt_h
                    and old.start[10:] == s.start[10:]):  # the same layout and clock: only prices change
                # prices lie within the bounds by construction (the generator clips them to its floor and cap,
                # and the float32 bounds are the same products, rounded the same way): no clip needed
                self._x[:, self.layout["prices"]] = price_windows(s, self.lookahead)
            else:
                self._x = exogenous_rows(s, self.lookahead, low, high)
                self._inv_cap, self._inv_pd, self._inv_pc = inverse_ratings(s)
            self.scenario = s
            self.fleet = FleetState(s, like=self.fleet)
        else:
            self.fleet.reset()
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        f, n = self.fleet, self.n_assets
        obs = self._x[f.t].copy()
        e, soh = f.energy_kwh, f.soh
        # rounding may put a value a hair below 0 (a hair above 1 rounds to 1 in float32)
        obs[:3 * n] = ([max(e[i] * c / soh[i], 0.0) for i, c in enumerate(self._inv_cap)]
                       + [-lo * r for lo, r in zip(f.lo, self._inv_pd, strict=True)]
                       + [hi * r if hi > 0.0 else 0.0 for hi, r in zip(f.hi, self._inv_pc, strict=True)])
        return obs

    # ------------------------------------------------------------------ dynamics
    @functools.cached_property
    def _action_layout(self) -> str:
        n, k = self.n_assets, self.n_markets
        return f"{n * k} values ({n} assets x {k} markets, asset-major)"

    def step(self, action: np.ndarray):
        f = self.fleet
        if f is None:
            raise RuntimeError("call reset() before step()")
        if f.t >= f.s.n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        shares = action_values(action, self.action_space.shape, self._action_layout)
        out = f.step(shares)
        reward = out.revenue_eur - out.degradation_eur + out.terminal_eur
        info = {
            "allocation_kw": out.allocation_kw, "charge_kw": out.charge_kw, "discharge_kw": out.discharge_kw,
            "clipped_kw": out.clipped_kw, "revenue_eur": out.revenue_eur, "degradation_eur": out.degradation_eur,
            "terminal_eur": out.terminal_eur,
        }
        if self.render_mode == "human":
            print(self._text())
        return self._obs(), reward, f.t >= f.s.n_steps, False, info

    def idle_rewards(self) -> np.ndarray:
        """Per step, the reward the idle (zero) action earns in the current episode (core, from the scenario)."""
        if self.scenario is None:
            raise RuntimeError("call reset() before idle_rewards()")
        return idle_rewards(self.scenario)

    @property
    def state(self) -> dict[str, Any]:
        """The fleet's state now: what a rolling-horizon optimiser starts from."""
        f = self.fleet
        if f is None:
            return {"t": 0}
        return {"t": f.t, "energy_kwh": list(f.energy_kwh), "soh": list(f.soh), "budget_kwh": list(f.budget_kwh),
                "soc": [f.soc(i) for i in range(self.n_assets)]}

    # ------------------------------------------------------------------ rendering
    def _text(self) -> str:
        f = self.fleet
        socs = " ".join(f"{f.soc(i):.2f}" for i in range(self.n_assets))
        return f"t={f.t:3d} soc=[{socs}]"

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            if self.fleet is None or self.fleet.t == 0:
                return "batterygym Fleet: not stepped yet"
            return self._text()
        return None


def fleet_spaces(cfg: FleetConfig, scenario: FleetScenario | None, lookahead: int) -> tuple[spaces.Box, spaces.Box]:
    """Observation and action spaces of :class:`FleetEnv` with true bounds (prices: the generator's floor
    and cap, or the fixed scenario's own range)."""
    if scenario is not None:
        n, k = scenario.n_assets, scenario.n_markets
        p_lo = min(0.0, float(scenario.prices.min())) * EUR_PER_MWH_TO_KWH
        p_hi = max(0.0, float(scenario.prices.max())) * EUR_PER_MWH_TO_KWH
    else:
        n, k = cfg.n_assets, cfg.n_markets
        p_lo = cfg.price_floor_eur_per_mwh * EUR_PER_MWH_TO_KWH
        p_hi = cfg.price_cap_eur_per_mwh * EUR_PER_MWH_TO_KWH
    lay = obs_layout(n, k, lookahead)
    size = lay["prices"].stop
    low, high = np.zeros(size), np.ones(size)
    low[lay["time"]] = (-1.0, -1.0, 0.0)
    low[lay["direction"]] = -1.0
    low[lay["prices"]], high[lay["prices"]] = p_lo, p_hi
    obs = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    return obs, spaces.Box(-1.0, 1.0, shape=(n * k,), dtype=np.float32)
