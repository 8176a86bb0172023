"""``batterygym/MicrogridBSS-v0``: a microgrid with PV, wind, residents, a battery swapping station and
second-life storage (Marchesano et al. 2023)."""
from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from batterygym.core.microgrid import DT_H, MicrogridScenario, idle_rewards
from batterygym.core.microgrid_generator import MicrogridConfig, fixed_storage, generate_microgrid
from batterygym.core.microgrid_life import PackLife, advance, day_scenario
from batterygym.core.microgrid_state import MicrogridState
from batterygym.envs._args import action_values, check_env_args, check_reset_args

N_TIME = 3  # hour sin/cos, episode progress


def obs_layout(n_categories: int, n_slots: int, n_storage: int, lookahead: int) -> dict[str, slice]:
    """Where each block of the observation lies (see :class:`MicrogridBSSEnv`)."""
    c, h = n_categories, lookahead
    sizes = {"full": c, "charging": c, "slot_soc": n_slots, "storage_soc": n_storage, "storage_soh": n_storage,
             "time": N_TIME, "res": h, "load": h, "demand": c * h, "price": h}
    out, at = {}, 0
    for name, size in sizes.items():
        out[name] = slice(at, at + size)
        at += size
    return out


@functools.lru_cache(maxsize=16)
def _window_index(n: int, h: int) -> np.ndarray:
    idx = np.minimum(np.arange(n + 1)[:, None] + np.arange(h)[None, :], n - 1)
    idx.setflags(write=False)
    return idx


def _windows(x: np.ndarray, h: int) -> np.ndarray:
    """Rows t = 0..T of the next ``h`` values of ``x`` ``(..., T)`` (the last repeated beyond the end)."""
    return x[..., _window_index(x.shape[-1], h)]


class ObsSpec:
    """The observation of one microgrid env (:class:`MicrogridBSSEnv`'s table): its space, where each
    block lies and the scales of its series; the scalar and the vector env build observations with it."""

    def __init__(self, scenario: MicrogridScenario | None, cfg: MicrogridConfig, lookahead: int) -> None:
        if scenario is not None:
            self.n_categories, self.n_slots = scenario.n_categories, scenario.n_slots
            self.n_storage = scenario.n_storage
            self.load_scale = max(float(scenario.load_kw.max()), 1e-9)
            self.demand_max = max(float(scenario.expected_swaps.max()), 1e-9)
            self.price_max = max(float(scenario.grid_price_eur_per_kwh.max()), 1e-9)
        else:
            self.n_categories, self.n_slots, self.n_storage = len(cfg.categories), sum(cfg.n_packs), cfg.n_storage
            self.load_scale = max(cfg.load_cap_kw, 1e-9)  # no residents: the load share is 0
            self.demand_max = max(cfg.max_expected_swaps, 1e-9)
            self.price_max = max(cfg.max_price, 1e-9)
        self.lookahead = lookahead
        self.layout = obs_layout(self.n_categories, self.n_slots, self.n_storage, lookahead)
        size = self.layout["price"].stop
        low, high = np.zeros(size), np.ones(size)
        low[self.layout["time"]] = (-1.0, -1.0, 0.0)
        high[self.layout["demand"]] = self.demand_max
        high[self.layout["price"]] = self.price_max
        self.observation_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(self.n_slots + self.n_storage,), dtype=np.float32)
        self.n_state = self.layout["storage_soh"].stop
        # the series blocks' upper bounds (their lower bounds are 0), as (res, load, price) x 1 x 1
        self._series_high = np.array([1.0, 1.0, high[self.layout["price"].start]], dtype=np.float32)[:, None]

    def clock_rows(self, n: int, start: str, expected: np.ndarray) -> np.ndarray:
        """Observation rows t = 0..n with the clock and the expected swaps filled, the rest zero."""
        lay, h = self.layout, self.lookahead
        box = self.observation_space
        x = np.zeros((n + 1, box.shape[0]), dtype=np.float32)
        day_start = np.datetime64(start, "m")
        minutes = (day_start - day_start.astype("datetime64[D]")).astype(int)
        hours = (minutes / 60.0 + np.arange(n + 1)) % 24.0
        x[:, lay["time"]] = np.stack([np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24),
                                      np.arange(n + 1) / n], axis=1)
        demand = np.concatenate([_windows(expected[:, c], h) for c in range(expected.shape[1])], axis=1)
        x[:, lay["demand"]] = np.clip(demand, box.low[lay["demand"]], box.high[lay["demand"]])
        return x

    SERIES = ("res", "load", "price")

    def series_windows(self, res_share: np.ndarray, load_kw: np.ndarray, price: np.ndarray) -> np.ndarray:
        """The look-ahead windows ``(m, 3, T + 1, H)`` of episodes' series ``(m, T)`` (renewables as a share
        of their ratings, load in kW, price), scaled and clipped to the observation's bounds."""
        s = np.empty((res_share.shape[0], 3, res_share.shape[1]), dtype=np.float32)
        s[:, 0], s[:, 1], s[:, 2] = res_share, load_kw / self.load_scale, price  # to float32 as astype does
        np.minimum(np.maximum(s, 0.0, out=s), self._series_high, out=s)
        return _windows(s, self.lookahead)  # clipping before the windows clips every entry once

    def fill_series(self, x: np.ndarray, res_share: np.ndarray, load_kw: np.ndarray, price: np.ndarray) -> None:
        """Write the look-ahead windows of episodes ``(m, T)`` into their rows ``x`` ``(m, T + 1, size)``."""
        w = self.series_windows(res_share, load_kw, price)
        for k, name in enumerate(self.SERIES):
            x[:, :, self.layout[name]] = w[:, k]


class MicrogridBSSEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    A microgrid (after Marchesano et al., Energies 2023) with 500 kWp of PV, a 500 kW wind turbine, a
    residential load, a battery swapping station (packs of categories A-D: 24/40/52/75 kWh, 3/3/4/2
    packs) and a storage of 4 second-life packs (SoH 0.6-0.8), grid-connected with a time-of-use
    import price, or `off_grid`. Every hour, swap requests arrive (Gamma inter-arrival times,
    arriving SoC 20-80 %): each is served with a full pack of its category or lost. The agent sets
    each station pack's charging power and each storage pack's power; renewables are used first,
    the grid (or, off-grid, shedding residential load) covers the rest, a surplus is curtailed. Each
    reset draws a new day from the seeded generator, or replays the fixed `scenario`.
    `batterygym.baselines.solve_optimal(env.unwrapped.scenario)` gives its exact optimum.

    ## Action Space

    `Box(-1, 1, (S + K,), float32)` for S station slots (12) and K storage packs (4):
    - `a[j]`, slot `j` (category by category, ascending): the charging power of the pack the slot
      holds after this hour's swaps, as a share of 1C (`<= 0`: none; up to 0.2 is standard, above is
      fast charging). A full pack draws nothing. A charge that would end within 1e-3 kWh of full is
      snapped: to exactly full if it reaches half that gap and 1C allows it, else to 1e-3 kWh below.
    - `a[S + k]`, storage pack `k`: `> 0` charges that share of its power rating, `< 0` discharges,
      clipped to its SoC window.
    If the hour's deficit exceeds the import limit (off-grid: the load), every charge is scaled down
    by one factor to fit. A feasible action is left unchanged; `info["clipped_kw"]` says what was removed.

    The action is one charging power per slot, not per category: with a per-category power the env
    would need a rule to share it among the packs, and the MILP would have to follow that rule to the
    letter, or it would have freedoms the env lacks (regret could go negative). Per-slot power is the
    feasible set itself, so the env and the MILP share it exactly.

    ## Observation Space

    `Box(float32)` of shape `(2C + S + 2K + 3 + (3 + C) H,)` for C categories, H = `lookahead`:

    | Block | Observation | Min | Max |
    |---|---|---|---|
    | C | full packs per category / packs of the category | 0 | 1 |
    | C | packs not full (charging) per category / packs of the category | 0 | 1 |
    | S | each slot's pack energy / its capacity | 0 | 1 |
    | K | storage SoC (share of current capacity) | 0 | 1 |
    | K | storage SoH | 0 | 1 |
    | 3 | sin, cos of hour of day; share of the episode elapsed | -1 | 1 |
    | H | renewables available (PV + wind) / their ratings, now and the next H - 1 hours | 0 | 1 |
    | H | residential load / the largest load, same window | 0 | 1 |
    | C H | expected swap requests per hour per category (not the realised ones), category-major | 0 | max rate |
    | H | grid import price (EUR/kWh), same window | 0 | max price |

    The state blocks are before this hour's swaps. Beyond the episode's end the windows repeat the last hour.

    ## Rewards

    The hour's money in EUR (see `batterygym.core.microgrid`): swap revenue (3 EUR + 0.45 EUR/kWh
    the customer gains) minus 10 EUR per lost swap, the residents' tariff on the load served, minus
    the grid import, the value of lost load (off-grid, 3 EUR/kWh), pack charging wear, the fast
    charging extra and storage wear; the last hour adds the energy left in packs and storage against
    the start at the cheapest grid price. `info` carries each term, swaps served and lost per
    category, the powers applied and `clipped_kw`.

    ## Starting State

    Each station pack full with probability 0.75, else at 20-80 %; storage at 50 % SoC.

    ## Episode End

    Terminated after the scenario's last hour (24 by default); `n_days` sets the length.
    The id registers no `max_episode_steps`; one passed to `gym.make` truncates the episode there.

    ## Arguments

    `gym.make("batterygym/MicrogridBSS-v0", lookahead=12, scenario=None, render_mode=None, **microgrid)`:
    `scenario` fixes the episode (a `MicrogridScenario`); `microgrid` are the fields of
    `batterygym.core.microgrid_generator.MicrogridConfig` (`n_days`, `off_grid`, `n_packs`,
    `swaps_per_day`, `layout_seed`, ...), plain values so the spec stays JSON-clean.

    `reset(options={"packs": life})` starts the episode from carried packs (a
    `batterygym.core.microgrid_life.PackLife`: slot energies, station SoH, the storage in service); the last
    step's `info["packs"]` is then the state the next episode starts from, with the life cycle applied
    (station packs retired at SoH 0.8 and replaced, storage packs spent at 0.6, retired packs transferred):
    `start_life(env.unwrapped.scenario, rng)` after a first reset gives the first state.

    ## Version History

    * v0: the id registers no `max_episode_steps`: the episode ends (`terminated`) after the scenario's
      last step (24 hourly steps by default, `n_days` for more); a `max_episode_steps` given to `gym.make`
      truncates it there. Actions of another shape than the action space's, or with NaN or inf, and
      unknown `reset` options are refused with a `ValueError`.
    * v0, native vector env: `gym.make_vec(id, n, vectorization_mode="vector_entry_point")` steps `n`
      microgrids as arrays (`batterygym.envs.microgrid_vector`), equal to `n` of these envs. The storage
      bounds are the shared battery model's (`bounds_of`): a pack at its ceiling up to float rounding
      may stay idle instead of being forced into a discharge of about 1e-11 kW. Same seed, same episode.
    * v0, standalone station: `pv_kwp`, `wind_rated_kw` and `load_peak_kw` may be 0, so
      `gym.make(id, pv_kwp=0, wind_rated_kw=0, n_storage=0, load_peak_kw=0)` is the station alone, buying
      all its energy from the grid (its renewable and load observations are then 0).
    * v0, battery life cycle: the `packs` reset option carries the packs from one episode to the next
      (`batterygym economics microgrid` runs a year of days this way); without it nothing changes.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(self, scenario: MicrogridScenario | None = None, lookahead: int = 12,
                 render_mode: str | None = None, **microgrid: Any) -> None:
        check_env_args(self, scenario, MicrogridScenario, lookahead, render_mode, microgrid, "microgrid")
        self.config = MicrogridConfig.from_kwargs(**microgrid)
        self.fixed_scenario = scenario
        self.lookahead = lookahead
        self.render_mode = render_mode
        self._storage = fixed_storage(self.config) if scenario is None else None
        self.obs_spec = spec = ObsSpec(scenario, self.config, lookahead)
        self.n_categories, self.n_slots, self.n_storage = spec.n_categories, spec.n_slots, spec.n_storage
        self.layout = spec.layout
        self.observation_space, self.action_space = spec.observation_space, spec.action_space
        self._n_state = spec.n_state
        self.scenario: MicrogridScenario | None = None
        self.grid: MicrogridState | None = None
        self._packs: PackLife | None = None

    # ------------------------------------------------------------------ episode set-up
    def _exogenous(self, s: MicrogridScenario) -> np.ndarray:
        """Observation rows t = 0..T with the state blocks left at zero. The clock and the expected swaps of
        a generated day are the same every episode: they are reused from the last scenario when they match."""
        old = self.scenario
        if (old is not None and old.n_steps == s.n_steps and old.start[10:] == s.start[10:]
                and (old.expected_swaps is s.expected_swaps or np.array_equal(old.expected_swaps, s.expected_swaps))):
            x = self._x.copy()
        else:
            x = self.obs_spec.clock_rows(s.n_steps, s.start, s.expected_swaps)
        self.obs_spec.fill_series(x[None], (s.res_kw / s.res_scale_kw)[None], s.load_kw[None],
                              s.grid_price_eur_per_kwh[None])
        return x

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        check_reset_args(seed, options, known=("packs",))
        super().reset(seed=seed)
        s = self.fixed_scenario or generate_microgrid(self.np_random, self.config, self._storage)
        packs = (options or {}).get("packs")
        self._packs = packs
        if packs is not None:
            s = day_scenario(s, packs)
            if s.n_storage != self.n_storage:
                raise ValueError(f"packs has {s.n_storage} storage pack(s) in service, the env's spaces "
                                 f"{self.n_storage}: an empty storage place cannot enter these spaces")
            self._charged = [0.0] * s.n_slots
        if s is not self.scenario:
            self._x = self._exogenous(s)
            self.scenario = s
            old = self.grid
            self.grid = MicrogridState(s, like=old)
            if old is None or self.grid._consts is not old._consts:  # a new station or storage
                self._slot_category = list(s.slot_category)
                self._inv_q = [1.0 / q for q in s.slot_pack_kwh]
                self._inv_n = [1.0 / n if n else 0.0 for n in s.n_packs]
                self._inv_cap = [1.0 / b.capacity_kwh for b in s.storage]
        else:
            self.grid.reset()
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        g = self.grid
        s = g.s
        obs = self._x[g.t].copy()
        e, q = g.energy_kwh, g._q
        full = [0.0] * s.n_categories
        for j, c in enumerate(self._slot_category):
            if e[j] == q[j]:
                full[c] += 1.0
        inv_n = self._inv_n
        fr = [f * inv_n[c] for c, f in enumerate(full)]
        soc = []
        for k, ic in enumerate(self._inv_cap):
            v = g.storage_kwh[k] * ic / g.soh[k]
            soc.append(0.0 if v < 0.0 else (1.0 if v > 1.0 else v))
        obs[:self._n_state] = (fr + [(1.0 if n else 0.0) - f for n, f in zip(s.n_packs, fr, strict=True)]
                               + [x * iq for x, iq in zip(e, self._inv_q, strict=True)] + soc + g.soh)
        return obs

    # ------------------------------------------------------------------ dynamics
    @functools.cached_property
    def _action_layout(self) -> str:
        s, k = self.n_slots, self.n_storage
        return f"{s + k} values ({s} slots + {k} storage packs)"

    def step(self, action: np.ndarray):
        g = self.grid
        if g is None:
            raise RuntimeError("call reset() before step()")
        if g.t >= g.s.n_steps:
            raise RuntimeError("the episode has ended; call reset()")
        out = g.step(action_values(action, self.action_space.shape, self._action_layout))
        done = g.t >= g.s.n_steps
        info = {
            "served": out.served, "lost": out.lost, "station_kw": out.station_kw, "storage_kw": out.storage_kw,
            "grid_kw": out.grid_kw, "unserved_kw": out.unserved_kw, "curtailed_kw": out.curtailed_kw,
            "clipped_kw": out.clipped_kw, "swap_revenue_eur": out.swap_revenue_eur,
            "lost_penalty_eur": out.lost_penalty_eur, "resident_revenue_eur": out.resident_revenue_eur,
            "grid_cost_eur": out.grid_cost_eur, "unserved_cost_eur": out.unserved_cost_eur,
            "pack_wear_eur": out.pack_wear_eur, "fast_charge_eur": out.fast_charge_eur,
            "storage_wear_eur": out.storage_wear_eur, "terminal_eur": out.terminal_eur,
        }
        if self._packs is not None:
            self._charged = [c + p * DT_H for c, p in zip(self._charged, out.station_kw, strict=True)]
            if done:
                info["packs"] = advance(g.s, self._packs, self._charged, g.energy_kwh, g.storage_kwh, g.soh)
        if self.render_mode == "human":
            print(self._text(out))
        return self._obs(), float(out.reward), done, False, info

    def idle_rewards(self) -> np.ndarray:
        """Per step, the reward the idle (zero) action earns in the current episode (core, from the scenario)."""
        if self.scenario is None:
            raise RuntimeError("call reset() before idle_rewards()")
        return idle_rewards(self.scenario)

    @property
    def state(self) -> dict[str, Any]:
        """The microgrid's state now: slot energies, storage energy and SoH."""
        g = self.grid
        if g is None:
            return {"t": 0}
        return {"t": g.t, "slot_kwh": list(g.energy_kwh), "storage_kwh": list(g.storage_kwh), "soh": list(g.soh)}

    # ------------------------------------------------------------------ rendering
    def _text(self, out: Any = None) -> str:
        g = self.grid
        s = g.s
        full = "/".join(f"{s.categories[c]}{g.full_count(c)}" for c in range(s.n_categories))
        soc = " ".join(f"{g.storage_kwh[k] / (g.soh[k] * b.capacity_kwh):.2f}" for k, b in enumerate(s.storage))
        text = f"t={g.t:3d} full={full} storage=[{soc}]"
        if out is not None:
            text += (f" served={sum(out.served)} lost={sum(out.lost)} grid={out.grid_kw:.1f}kW "
                     f"reward={out.reward:.2f}")
        return text

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            if self.grid is None or self.grid.t == 0:
                return "batterygym MicrogridBSS: not stepped yet"
            return self._text()
        return None

