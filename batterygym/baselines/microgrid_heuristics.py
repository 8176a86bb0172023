"""Rule-based policies of ``MicrogridBSS-v0``: the source's operating rule (Marchesano et al. 2023) and a
look-ahead plan of the station's charging and the storage."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

from batterygym.core.battery import power_of_share, share_of_power
from batterygym.envs.microgrid_bss import MicrogridBSSEnv

DISCHARGE_ORDERS = ("uniform", "uneven")


class MicrogridRule:
    """Renewables first, then storage, then the grid; packs charged for the next hour's expected swaps.

    Each hour, from the observation (and the scenario's static constants: capacities, ratings):
    1. Station, per category: the packs short = ``ceil(expected swaps this hour and next - full packs)``.
       That many packs that are not full, the fullest first, charge fast (1C); the other packs charge
       at the standard 0.2C. A full slot's value applies to the pack a swap leaves there: 1C if the
       category is short by more than its packs that are not full, else 0.2C.
    2. Storage: if the import price now is the lowest of the look-ahead window (and some later hour
       is dearer), every pack charges in standard mode (0.2C of its nominal capacity), the source's
       night charging from the grid. Otherwise the net demand (load + the station's expected
       charging - renewables) is met by discharging the packs in ``discharge_order`` ("uniform":
       highest SoH first, spreading wear; "uneven": lowest SoH first), each up to its rating and
       the energy above its floor; a renewable surplus charges them in the same order.
    Off-grid (our extension: the source is grid-connected) a deficit sheds residents' load, so there is
    no night charging, and packs not needed for the next hours' swaps charge only from the surplus.
    """

    name = "rule"

    def __init__(self, env: gym.Env, discharge_order: str = "uniform") -> None:
        base = env.unwrapped
        if not isinstance(base, MicrogridBSSEnv):
            raise TypeError(f"MicrogridRule needs a MicrogridBSSEnv, got {type(base).__name__}")
        if discharge_order not in DISCHARGE_ORDERS:
            raise ValueError(f"discharge_order must be one of {DISCHARGE_ORDERS}, got {discharge_order!r}")
        self.env = base
        self.discharge_order = discharge_order
        self.lay = base.layout

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        base, lay = self.env, self.lay
        s = base.scenario
        h = base.lookahead
        n_c, n_s = s.n_categories, s.n_slots
        action = np.zeros(n_s + s.n_storage, dtype=np.float32)
        full = obs[lay["full"]]
        soc = obs[lay["slot_soc"]].astype(np.float64)
        demand = obs[lay["demand"]].astype(np.float64).reshape(n_c, h)
        station_kw = 0.0
        # off-grid, a deficit sheds residents' load: standard charging only from the renewable surplus
        surplus = math.inf
        if s.off_grid:
            res = float(obs[lay["res"]][0]) * s.res_scale_kw
            surplus = max(0.0, res - float(obs[lay["load"]][0]) * base.obs_spec.load_scale)
        for c in range(n_c):
            slots = s.category_slots[c]
            if not slots:
                continue
            q = s.pack_kwh[c]
            kw_max = s.max_c_rate * q  # a slot's rating: its share 1 is fast (1C) charging
            std = share_of_power(s.standard_c_rate * q, kw_max, kw_max)
            n_full = int(round(float(full[c]) * len(slots)))
            expected = float(demand[c, 0] + (demand[c, 1] if h > 1 else demand[c, 0]))
            short = max(0, math.ceil(expected - n_full - 1e-9))
            waiting = sorted((j for j in slots if soc[j] < 1.0), key=lambda j: -soc[j])
            for rank, j in enumerate(waiting):
                rate = 1.0 if rank < short else std
                draw = min(power_of_share(rate, kw_max, kw_max), (1.0 - soc[j]) * q / s.pack_eta)
                if rank >= short:  # not needed for the next hours' swaps: only what the surplus covers
                    draw = min(draw, max(0.0, surplus - station_kw))
                    rate = share_of_power(draw, kw_max, kw_max)
                action[j] = rate
                station_kw += draw
            for j in slots:
                if soc[j] >= 1.0:
                    action[j] = 1.0 if short > len(waiting) else std
        if s.n_storage:
            self._storage(obs, action, n_s, station_kw)
        return action

    def _storage(self, obs: np.ndarray, action: np.ndarray, n_s: int, station_kw: float) -> None:
        base, lay, s = self.env, self.lay, self.env.scenario
        price = obs[lay["price"]]
        t = int(round(float(obs[lay["time"]][2]) * s.n_steps))
        width = max(1, min(base.lookahead, s.n_steps - t))
        window = price[:width]
        st_soc = obs[lay["storage_soc"]].astype(np.float64)
        soh = obs[lay["storage_soh"]].astype(np.float64)
        packs = s.storage
        order = sorted(range(len(packs)), key=lambda k: -soh[k] if self.discharge_order == "uniform" else soh[k])
        if not s.off_grid and price[0] <= window.min() and window.max() > price[0]:
            for k, b in enumerate(packs):
                if st_soc[k] < b.soc_max and b.p_charge_kw > 0:
                    standard_kw = s.standard_c_rate * b.capacity_kwh
                    action[n_s + k] = min(1.0, share_of_power(standard_kw, b.p_charge_kw, b.p_discharge_kw))
            return
        res = float(obs[lay["res"]][0]) * s.res_scale_kw
        load = float(obs[lay["load"]][0]) * base.obs_spec.load_scale
        net = load + station_kw - res
        for k in order:
            b = packs[k]
            usable = soh[k] * b.capacity_kwh
            if net > 0 and b.p_discharge_kw > 0:
                room = max(0.0, (st_soc[k] - b.soc_min) * usable * b.eta_discharge)
                d = min(net, b.p_discharge_kw, room)
                action[n_s + k] = share_of_power(-d, b.p_charge_kw, b.p_discharge_kw)
                net -= d
            elif net < 0 and b.p_charge_kw > 0:
                room = max(0.0, (b.soc_max - st_soc[k]) * usable / b.eta_charge)
                c = min(-net, b.p_charge_kw, room)
                action[n_s + k] = share_of_power(c, b.p_charge_kw, b.p_discharge_kw)
                net += c


class MicrogridLookahead:
    """Each station pack charged in the hour of the look-ahead that costs least against the risk of a lost swap,
    the storage scheduled over the window (:class:`batterygym.wrappers.microgrid_plan.MicrogridPlanner`)."""

    name = "lookahead"

    def __init__(self, env: gym.Env) -> None:
        from batterygym.wrappers.microgrid_plan import MicrogridPlanner

        self.planner = MicrogridPlanner(env)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.planner.action(obs)
