"""Rule-based policy of ``Fleet-v0``: per asset, sell in the top price hours and buy back in the cheapest."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

from batterygym.core.battery import power_of_share, share_of_power
from batterygym.envs.fleet import FleetEnv


class FleetRule:
    """Per asset, sell in the top price hours and buy back in the cheapest ones.

    Each step, per asset, from the observation's price window (the rest of the episode when it is
    shorter than the look-ahead): its best up price (highest among the up markets it is prequalified
    in) and its best down price (lowest among its down markets), and ``k`` = the hours its rating
    takes to empty or fill its SoC window.
    1. If the best up price now is among the window's ``k`` highest and beats what selling costs in
       wear, it discharges: the highest-priced up markets first, up to what it can deliver now.
    2. Else if the best down price now is among the window's ``k`` lowest and buying now, losing the
       round trip and paying the wear twice, still sells for less than the window's best up price,
       it charges: the cheapest down markets first, up to what it can absorb now.
    3. Else it stays idle.
    """

    name = "rule"

    def __init__(self, env: gym.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, FleetEnv):
            raise TypeError(f"FleetRule needs a FleetEnv, got {type(base).__name__}")
        self.env = base
        self.lay = base.layout
        self._fleet_key: object = None

    def _setup(self) -> None:
        """Per-asset constants of the episode's fleet (recomputed only when the layout changes)."""
        s = self.env.scenario
        key = (s.assets, id(s.prequalified_kw))
        if key == self._fleet_key:
            return
        self._fleet_key = key
        self._ups = [np.flatnonzero(s.is_up & (s.prequalified_kw[i] > 0)) for i in range(s.n_assets)]
        self._dns = [np.flatnonzero(~s.is_up & (s.prequalified_kw[i] > 0)) for i in range(s.n_assets)]
        self._hours = [max(1, math.ceil((b.soc_max - b.soc_min) * b.soh0 * b.capacity_kwh
                                        / max(b.p_charge_kw, b.p_discharge_kw, 1e-9) - 1e-9)) for b in s.assets]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        base = self.env
        s = base.scenario
        self._setup()
        n, k, h = s.n_assets, s.n_markets, base.lookahead
        t = int(round(float(obs[self.lay["time"]][2]) * s.n_steps))
        width = max(1, min(h, s.n_steps - t))
        prices = obs[self.lay["prices"]].astype(np.float64).reshape(k, h)[:, :width] * 1000.0  # EUR/MWh
        room_d = obs[self.lay["discharge_room"]]
        room_c = obs[self.lay["charge_room"]]
        action = np.zeros((n, k), dtype=np.float32)
        for i, b in enumerate(s.assets):
            ups, dns, hours = self._ups[i], self._dns[i], self._hours[i]
            wear = b.degradation_cost_per_kwh * 1000.0  # EUR/MWh
            best_up = prices[ups].max(axis=0) if ups.size else None
            best_dn = prices[dns].min(axis=0) if dns.size else None
            if best_up is not None and room_d[i] > 0:
                top = np.sort(best_up)[::-1][min(hours, width) - 1]
                if best_up[0] >= top and best_up[0] > wear:
                    # the room is the share of the rating it can discharge now: that share's power, in kW
                    deliver = -power_of_share(-float(room_d[i]), b.p_charge_kw, b.p_discharge_kw)
                    self._fill(action[i], ups, prices[:, 0], deliver, i, highest=True)
                    continue
            if best_dn is not None and room_c[i] > 0 and best_up is not None:
                low = np.sort(best_dn)[min(hours, width) - 1]
                round_trip = b.eta_charge * b.eta_discharge
                if best_dn[0] <= low and best_dn[0] / round_trip + 2 * wear < best_up.max():
                    absorb = power_of_share(float(room_c[i]), b.p_charge_kw, b.p_discharge_kw)
                    self._fill(action[i], dns, prices[:, 0], absorb, i, highest=False)
        return action.ravel()

    def _fill(self, row: np.ndarray, markets: np.ndarray, price_now: np.ndarray, power_kw: float, i: int,
              highest: bool) -> None:
        """Offer ``power_kw`` in ``markets``, best price first, as shares of each prequalification (the
        market's rating for the asset)."""
        pq = self.env.scenario.prequalified_kw[i]
        order = markets[np.argsort(-price_now[markets] if highest else price_now[markets], kind="stable")]
        left = power_kw
        for m in order:
            if left <= 0:
                break
            rating = float(pq[m])
            take = min(rating, left)
            row[m] = min(share_of_power(take, rating, rating), 1.0)
            left -= take
