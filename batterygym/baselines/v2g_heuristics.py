"""Rule-based policies of ``V2G-v0``: uncoordinated charging, and a flat-charging regulation seller."""
from __future__ import annotations

import gymnasium as gym
import numpy as np

from batterygym.core.battery import shares_of_powers
from batterygym.core.v2g import V2GScenario
from batterygym.envs.v2g import V2GEnv


class _V2GPolicy:
    """Reads the blocks of :class:`V2GEnv`'s observation; the EVs' ratings come from the env's config."""

    def __init__(self, env: gym.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, V2GEnv):
            raise TypeError(f"{type(self).__name__} needs a V2GEnv, got {type(base).__name__}")
        self.env = base
        self.lay = base.layout
        self.n = base.n_evs

    def _ev(self):
        s = self.env.scenario
        return s.ev if s is not None else self.env.config.battery()

    def _charging_share(self, needed_kwh: np.ndarray, hours: np.ndarray | float) -> np.ndarray:
        """The power share that stores ``needed_kwh`` in ``hours`` of charging (capped at the full rating)."""
        b = self._ev()
        power_kw = needed_kwh / (b.eta_charge * hours)
        return np.minimum(shares_of_powers(power_kw, b.p_charge_kw, b.p_discharge_kw), 1.0)


class ChargeOnArrival(_V2GPolicy):
    """What uncoordinated charging does: full power from arrival until the driver's energy is in, no
    regulation offered (the rung every smarter policy is measured against)."""

    name = "charge_on_arrival"

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        b = self._ev()
        needed_kwh = obs[self.lay["needed"]].astype(np.float64) * b.capacity_kwh
        share = self._charging_share(needed_kwh, V2GScenario.dt_h)  # all of it in this step
        action = np.zeros((self.n, 3), dtype=np.float32)
        action[:, 0] = share * obs[self.lay["present"]]
        return action.ravel()


class V2GRule(_V2GPolicy):
    """Charge what the driver needs evenly over the hours left, and offer all the regulation capacity
    the projection lets through with that: a flat, low charging power leaves headroom both ways.

    Per plugged car: net power = energy needed / (efficiency x hours left); reg-up offered in hours
    where its price is positive, reg-down likewise (the env keeps what is deliverable, up first).
    """

    name = "rule"

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        b = self._ev()
        lay = self.lay
        present = obs[lay["present"]]
        needed_kwh = obs[lay["needed"]].astype(np.float64) * b.capacity_kwh
        hours = np.maximum(obs[lay["hours_left"]].astype(np.float64) * 24.0, 1.0)
        action = np.zeros((self.n, 3), dtype=np.float32)
        action[:, 0] = self._charging_share(needed_kwh, hours) * present
        action[:, 1] = present * float(obs[lay["reg_up_price"]][0] > 0)
        action[:, 2] = present * float(obs[lay["reg_down_price"]][0] > 0)
        return action.ravel()
