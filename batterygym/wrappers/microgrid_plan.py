"""``MicrogridBSS-v0`` by look-ahead: each station pack charged in the hour that costs least against the risk
of a lost swap, the storage on the renewable surplus and the dearest deficits of the window.

:class:`MicrogridPlanner` reads the env's observation (the look-ahead of renewables, load, prices and the
*expected* swaps; no future beyond it) and the scenario's constants (capacities, ratings, fees), and every
hour returns an ordinary env action:

- **Station.** In each category the packs that are not full are replenished in order (fullest first, then
  the packs this hour's swaps may leave in the full slots). The ``m``-th is needed at the start of hour
  ``k`` when the hours ``0..k`` bring at least ``full + m`` requests (Poisson with the expected rates). It
  charges in the hour ``i`` of the window (or after it) that minimises the expected cost: the energy there
  (free up to the renewable surplus left by the packs before it, else the import price, plus wear and the
  fast extra) against a lost swap's money if it is needed before. A need in hour 1 is lost for sure; one
  that shows later is met by the next hours' re-plan, but only half the time (``LATER_RISK``). Energy left
  in the packs at the episode's end counts at the terminal value. A pack charges at 1C (the env snaps it
  to full), or at the standard 0.2C when it is in no hurry and the hours it then takes cost no more.
- **Storage** (the packs as one): the first hour of the best schedule over the window, by dynamic
  programming on a grid of stored energy: discharge covers the deficit left after the station (at the
  import price), charge takes the surplus for free and the grid at its price, wear on both, and the energy
  left at the window's end counts at the terminal value.

``knobs`` (:meth:`MicrogridPlanner.n_knobs` values in [-1, 1], 0 the defaults) shift the plan: per category the
weight of a lost swap (``exp(1.5 a)``), the value of the energy the storage keeps at the window's end
(``+0.1 a`` EUR/kWh) and a markup on its grid charging (``+0.05 a`` EUR/kWh).
:mod:`batterygym.wrappers.microgrid_knobs` lets an agent set them.
"""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

from batterygym.core.battery import share_of_power
from batterygym.envs.microgrid_bss import MicrogridBSSEnv

N_STORAGE_KNOBS = 2  # the kept energy's value, the grid charging markup
# the share of a need after hour 1 the hourly re-plan still misses: 0 trusts it fully, 1 plans open-loop
# (validation episodes, 60: 93.1 % of the optimum's gain at 0, 93.3 % at 0.5, 93.2 % at 1)
LATER_RISK = 0.5
STORAGE_STEP_KWH = 2.0  # the storage plan's grid of stored energy


def poisson_tail(mu: np.ndarray | float, x: int) -> np.ndarray:
    """``P(N >= x)`` for ``N ~ Poisson(mu)``, elementwise over ``mu``."""
    mu = np.asarray(mu, dtype=np.float64)
    if x <= 0:
        return np.ones_like(mu)
    term = np.exp(-mu)
    below = term.copy()
    for n in range(1, x):
        term = term * mu / n
        below += term
    return np.maximum(1.0 - below, 0.0)


def need_by_hour(mu: np.ndarray, need: int, given: int = 0) -> np.ndarray:
    """``T[k] = P(N_0 + ... + N_k >= need | N_0 >= given)`` for independent Poisson counts ``N_k ~ mu[k]``."""
    cum = np.cumsum(mu)
    if given <= 0:
        return poisson_tail(cum, need)
    m0 = float(mu[0])
    p_given = float(poisson_tail(m0, given))
    if p_given <= 1e-12:
        return np.zeros(mu.size)
    rest = cum - m0
    total = np.full(mu.size, float(poisson_tail(m0, max(given, need))))
    for n in range(given, need):
        total += math.exp(-m0) * m0 ** n / math.factorial(n) * poisson_tail(rest, need - n)
    return np.minimum(total / p_given, 1.0)


class MicrogridPlanner:
    """The look-ahead plan of ``MicrogridBSS-v0``'s observation, and the env action that carries it out."""

    def __init__(self, env: gym.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, MicrogridBSSEnv):
            raise TypeError(f"MicrogridPlanner needs a MicrogridBSSEnv, got {type(base).__name__}")
        self.env = base
        self.lay = base.layout
        self.n_knobs = base.n_categories + N_STORAGE_KNOBS
        cfg = base.config  # the arriving SoC's mean: min + (max - min) a / (a + b) of its Beta(a, b)
        self.arriving_soc = cfg.soc_arrive_min + (cfg.soc_arrive_max - cfg.soc_arrive_min) * cfg.soc_beta_a / (
            cfg.soc_beta_a + cfg.soc_beta_b)

    # ------------------------------------------------------------------ the window
    def _window(self, obs: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
        """``(t, W, free surplus kW, deficit cost EUR/kWh, residual net load kW)`` over the window's ``W`` hours."""
        base, lay = self.env, self.lay
        s = base.scenario
        if s is None:
            raise RuntimeError("reset the env before asking for its plan")
        t = int(round(float(obs[lay["time"]][2]) * s.n_steps))
        width = max(1, min(base.lookahead, s.n_steps - t))
        res = obs[lay["res"]][:width].astype(np.float64) * s.res_scale_kw
        load = obs[lay["load"]][:width].astype(np.float64) * base.obs_spec.load_scale
        price = obs[lay["price"]][:width].astype(np.float64)
        if s.off_grid:  # a deficit sheds residents' load: its tariff and the value of lost load
            price = price + s.voll_eur_per_kwh
        net = load - res
        return t, width, np.maximum(-net, 0.0), price, net

    # ------------------------------------------------------------------ station
    def _station(self, obs: np.ndarray, knobs: np.ndarray, t: int, width: int, free: np.ndarray,
                 price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The slots' shares now and the station's planned draw (kW) per hour of the window."""
        s, lay, h = self.env.scenario, self.lay, self.env.lookahead
        n_c = s.n_categories
        ends = t + width >= s.n_steps
        v_end = s.terminal_value_eur_per_kwh * s.pack_eta if ends else 0.0
        full = obs[lay["full"]]
        soc = obs[lay["slot_soc"]].astype(np.float64)
        demand = obs[lay["demand"]].astype(np.float64).reshape(n_c, h)[:, :width]
        shares = np.zeros(s.n_slots)
        draw = np.zeros(width)
        free = free.copy()
        mean_price = float(price.mean())
        packs = []  # (need profile T, slot, energy kWh, chance the pack is there, loss EUR, capacity kWh)
        for c in range(n_c):
            slots = s.category_slots[c]
            if not slots:
                continue
            q = s.pack_kwh[c]
            n_full = int(round(float(full[c]) * len(slots)))
            waiting = sorted((j for j in slots if soc[j] < 1.0), key=lambda j: -soc[j])
            arriving = [j for j in slots if soc[j] >= 1.0]
            gap = (1.0 - self.arriving_soc) * q
            loss = math.exp(1.5 * float(knobs[c])) * (s.swap_fee_eur + s.lost_swap_penalty_eur
                             + gap * (s.swap_price_eur_per_kwh - mean_price / s.pack_eta))
            for m, j in enumerate(waiting, start=1):
                need = need_by_hour(demand[c], n_full + m)
                packs.append((need, j, (1.0 - soc[j]) * q / s.pack_eta, 1.0, loss, q))
            for i, j in enumerate(arriving, start=1):
                p_exists = float(poisson_tail(float(demand[c, 0]), i))
                if p_exists < 1e-4:
                    break
                need = need_by_hour(demand[c], n_full + len(waiting) + i, given=i)
                packs.append((need, j, gap / s.pack_eta, p_exists, loss, q))
        packs.sort(key=lambda p: -(p[0][1] if width > 1 else p[0][0]))
        # the mean price of hours 1..i-1 (charging just before a need that shows after this hour)
        before = np.zeros(width + 1)
        if width > 2:
            before[2:width] = np.cumsum(price[1:width - 1]) / np.arange(1, width - 1)
        before[width] = float(price[1:].mean()) if width > 1 else 0.0
        for need, j, energy, exists, loss, q in packs:
            fast = max(0.0, energy - s.standard_c_rate * q)  # the part above 0.2C when it charges in one hour
            wear = s.pack_wear_eur_per_kwh * energy + s.fast_extra_eur_per_kwh * fast
            paid = price * np.maximum(energy - free, 0.0) + wear - (1.0 - need[-1]) * v_end * energy
            t1 = float(need[1]) if width > 1 else 0.0
            # options 1..W: charge in hour i (W: not in the window), needed by then with chance need_at
            need_at = np.append(need[1:], need[-1] if width > 1 else 0.0)
            paid_at = np.append(paid[1:], 0.0 if ends else float(np.min(paid[1:], initial=paid[0])))
            later = LATER_RISK * (need_at - t1)  # a need that shows after hour 1 is still lost this often
            cost = np.empty(width + 1)
            cost[0] = paid[0]
            cost[1:] = ((t1 + later) * loss + (need_at - t1 - later) * before[1:] * energy
                        + (1.0 - need_at) * paid_at)
            best = int(np.argmin(cost))
            if best == width:
                continue
            slow = s.standard_c_rate * q
            hours = math.ceil(energy / slow - 1e-9) if slow > 0.0 else width + 1
            rate = np.where(free[:hours] >= slow * exists, 0.0, price[:hours])  # EUR/kWh at the standard rate
            if (best == 0 and hours <= width and t1 * loss < s.fast_extra_eur_per_kwh * fast
                    and bool(np.all(rate[1:] <= rate[0]))):
                # the coming hours, at most as dear, charge it at the standard rate, without the fast extra
                draw[:hours] += slow * exists
                free[:hours] = np.maximum(free[:hours] - slow * exists, 0.0)
                shares[j] = s.standard_c_rate / s.max_c_rate
                continue
            used = energy * exists
            draw[best] += used
            free[best] = max(0.0, free[best] - used)
            if best == 0:
                shares[j] = 1.0
        return shares, draw

    # ------------------------------------------------------------------ storage
    def _storage(self, obs: np.ndarray, knobs: np.ndarray, t: int, width: int, price: np.ndarray,
                 net: np.ndarray) -> np.ndarray:
        """The storage packs' shares now: the first hour of the best schedule of the packs as one (dynamic
        programming on a grid of stored energy, ``STORAGE_STEP_KWH``), against the residual net load ``net``."""
        s, lay = self.env.scenario, self.lay
        packs = s.storage
        st_soc = obs[lay["storage_soc"]].astype(np.float64)
        soh = obs[lay["storage_soh"]].astype(np.float64)
        usable = np.array([soh[k] * b.capacity_kwh for k, b in enumerate(packs)])
        eta_c = float(np.mean([b.eta_charge for b in packs]))
        eta_d = float(np.mean([b.eta_discharge for b in packs]))
        lo = np.array([b.soc_min for b in packs]) * usable
        hi = np.array([b.soc_max for b in packs]) * usable
        stored = np.clip(st_soc * usable, lo, hi)
        p_ch = np.array([b.p_charge_kw for b in packs])
        p_dis = np.array([b.p_discharge_kw for b in packs])
        wear = float(np.mean([b.degradation_cost_per_kwh for b in packs]))
        value = s.terminal_value_eur_per_kwh + 0.1 * float(knobs[-2])  # EUR per stored kWh left at the window's end
        markup = 0.05 * float(knobs[-1])  # EUR per kWh charged from the grid
        step = STORAGE_STEP_KWH
        now = float(stored.sum())
        below = int((now - lo.sum()) // step)
        above = int((hi.sum() - now) // step)
        levels = now + step * np.arange(-below, above + 1)
        diff = levels[None, :] - levels[:, None]  # stored energy change, from row to column
        charge = np.where(diff > 0.0, diff / eta_c, 0.0)  # kW from the bus
        discharge = np.where(diff < 0.0, -diff * eta_d, 0.0)  # kW to the bus
        allowed = (charge <= p_ch.sum() + 1e-9) & (discharge <= p_dis.sum() + 1e-9)
        deficit, surplus = np.maximum(net, 0.0), np.maximum(-net, 0.0)
        worth = levels * value
        first = None
        for k in range(width - 1, -1, -1):
            bought = np.maximum(charge - surplus[k], 0.0)
            gain = price[k] * np.minimum(discharge, deficit[k]) - (price[k] + markup) * bought \
                - wear * (charge + discharge)
            total = np.where(allowed, gain + worth[None, :], -np.inf)
            if k == 0:
                first = total[below]
            else:
                worth = total.max(axis=1)
        j = int(np.argmax(first))
        power = np.zeros(len(packs))
        if charge[below, j] > 0.0:
            power = self._split(float(charge[below, j]), p_ch, (hi - stored) / eta_c)
        elif discharge[below, j] > 0.0:
            power = -self._split(float(discharge[below, j]), p_dis, (stored - lo) * eta_d)
        if s.off_grid:  # never import for the storage: a deficit would shed load
            power = np.minimum(power, max(0.0, -float(net[0])))
        shares = np.array([share_of_power(float(p), b.p_charge_kw, b.p_discharge_kw) for p, b in zip(power, packs,
                                                                                                      strict=True)])
        return np.clip(shares, -1.0, 1.0)

    @staticmethod
    def _split(total: float, rating: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """``total`` kW over the packs, each up to its rating and the energy it can move in the hour, in
        proportion to that energy."""
        limit = np.minimum(rating, energy)
        avail = float(limit.sum())
        if total <= 0.0 or avail <= 0.0:
            return np.zeros(rating.size)
        return limit * min(1.0, total / avail)

    # ------------------------------------------------------------------ the action
    def action(self, obs: np.ndarray, knobs: np.ndarray | None = None) -> np.ndarray:
        """The env action of this hour under ``knobs`` (``n_knobs`` values, clipped to [-1, 1]; None: all 0)."""
        k = np.zeros(self.n_knobs) if knobs is None else np.clip(
            np.asarray(knobs, dtype=np.float64).reshape(self.n_knobs), -1.0, 1.0)
        t, width, free, price, net = self._window(obs)
        s = self.env.scenario
        slots, draw = self._station(obs, k, t, width, free, price)
        out = np.zeros(s.n_slots + s.n_storage, dtype=np.float32)
        out[: s.n_slots] = slots
        if s.n_storage:
            out[s.n_slots:] = self._storage(obs, k, t, width, price, net + draw)
        return out
