"""A year of microgrid days with the packs carried from day to day, and its cash flows.

:func:`run_year` draws one ``MicrogridBSS-v0`` day per day of the run (the env's generator, one seed per
day), starts it from the packs the previous day left (:mod:`batterygym.core.microgrid_life`), dispatches
it with the source's rule or with the day's optimum (the MILP), and applies the life cycle between days.
:func:`appraise_year` turns the run into yearly cash flows with :class:`~batterygym.core.finance.Finance`
and :func:`~batterygym.core.finance.appraise` (the suite's one NPV, IRR and payback code).

*Standalone* is the source's station alone: a configuration of the same env with no PV, no wind, no
storage and no residents (:data:`STANDALONE`), buying all its energy from the grid.

Cash, per year (a run shorter than a year is scaled to 365 days): revenue from swaps and from residents'
energy, less the grid's energy, new packs bought to replace retired ones, and O&M (a share of capex).
The reward's other terms are not cash and are reported beside it: the lost-swap penalty and the value of
lost load (shaping), the wear terms (the packs' ageing, paid here as replacements), and the terminal
credit (energy carried to the next day).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from batterygym.core.finance import Finance, appraise, cash_flows
from batterygym.core.microgrid import MONEY, MicrogridScenario, cost_breakdown, simulate
from batterygym.core.microgrid_generator import MicrogridConfig, fixed_storage, generate_microgrid
from batterygym.core.microgrid_life import LifeCounts, LifeParams, PackLife, day_scenario, end_of_day, start_life

MODES = ("integrated", "standalone")
POLICIES = ("rule", "milp")
STANDALONE = {"pv_kwp": 0.0, "wind_rated_kw": 0.0, "n_storage": 0, "load_peak_kw": 0.0}
CASH_REVENUE = {"swaps_eur": "swap_revenue_eur", "residents_eur": "resident_revenue_eur"}
NON_CASH = ("lost_penalty_eur", "unserved_cost_eur", "pack_wear_eur", "fast_charge_eur", "storage_wear_eur",
            "terminal_eur")
# the schedule columns a year keeps (cost_breakdown's inputs; the same every day)
_KEEP = (*MONEY, "reward", "load_kw", "unserved_kw", "station_kw", "storage_charge_kw", "storage_discharge_kw",
         "res_used_kw", "grid_kw", "curtailed_kw")


def mode_config(cfg: MicrogridConfig, mode: str) -> MicrogridConfig:
    """The config of ``mode``: ``cfg`` itself (integrated) or ``cfg`` without plants, storage and residents."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "standalone":
        return dataclasses.replace(cfg, **STANDALONE)
    if cfg.pv_kwp + cfg.wind_rated_kw <= 0.0:
        raise ValueError(f"pv_kwp = {cfg.pv_kwp!r} and wind_rated_kw = {cfg.wind_rated_kw!r}: the integrated "
                         "mode needs renewables (the standalone mode has none)")
    return cfg


@dataclass(frozen=True)
class YearRun:
    """What a run of days did: money and energy totals, the packs' life, and the solves' status."""

    mode: str
    policy: str
    discharge_order: str | None
    days: int
    config: MicrogridConfig
    totals: dict[str, float]
    counts: LifeCounts
    station_soh: np.ndarray  # (days + 1, slots): each slot's SoH at the start of each day, and at the end
    storage_soh: np.ndarray  # (days + 1, places): each storage place's SoH (NaN: empty)
    depletion_days: tuple[int, ...] = ()  # the day (0-based) after which each storage pack was spent
    unproven_days: int = 0  # days whose MILP stopped at its time limit
    worst_gap: float = 0.0
    daily_profit_eur: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _rule_schedule(s: MicrogridScenario, discharge_order: str) -> pd.DataFrame:
    from batterygym.baselines.microgrid_heuristics import MicrogridRule
    from batterygym.envs.microgrid_bss import MicrogridBSSEnv

    env = MicrogridBSSEnv(scenario=s)
    rule = MicrogridRule(env, discharge_order=discharge_order)
    obs, _ = env.reset(seed=0)
    actions = []
    for _ in range(s.n_steps):
        a = rule(obs)
        actions.append(a)
        obs, *_ = env.step(a)
    return simulate(s, np.array(actions, dtype=np.float64))


def run_year(cfg: MicrogridConfig, *, days: int = 365, policy: str = "rule", discharge_order: str | None = "uniform",
             seed: int = 0, life: LifeParams | None = None, time_limit: float = 60.0, mode: str = "integrated",
             progress: Callable[[Iterable[int]], Iterable[int]] | None = None) -> YearRun:
    """Run ``days`` one-day episodes of ``mode_config(cfg, mode)`` with the packs carried between them.

    ``policy`` "rule" (:class:`~batterygym.baselines.microgrid_heuristics.MicrogridRule` in
    ``discharge_order``) or "milp" (each day's optimum; its storage order is its own, so
    ``discharge_order`` must be None). Day ``d`` draws its weather, load and swaps from child ``d + 1`` of
    ``SeedSequence(seed)``; child 0 draws the station packs' initial SoH.
    """
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if policy == "rule" and discharge_order is None:
        discharge_order = "uniform"
    if policy == "milp" and discharge_order is not None:
        raise ValueError(f"discharge_order {discharge_order!r}: the rule's option; the optimum chooses its own order")
    life = life or LifeParams()
    cfg = dataclasses.replace(mode_config(cfg, mode), n_days=1, terminal_value=True)
    price = cfg.storage_price_eur_per_kwh
    seeds = np.random.SeedSequence(seed).spawn(days + 1)
    first = generate_microgrid(np.random.default_rng(seeds[1]), cfg, fixed_storage(cfg))
    state: PackLife = start_life(first, np.random.default_rng(seeds[0]), life, price)
    n_places = state.places
    station_soh = [np.array(state.slot_soh)]
    storage_soh = [_places(state)]
    frames, daily = [], []
    unproven, worst_gap = 0, 0.0
    depletion_days: list[int] = [-1] * state.counts.depleted  # spent before the first day
    for d in (progress or (lambda x: x))(range(days)):
        drawn = first if d == 0 else generate_microgrid(np.random.default_rng(seeds[d + 1]), cfg, state.storage)
        s = day_scenario(drawn, state)
        if policy == "rule":
            schedule = _rule_schedule(s, discharge_order)
        else:
            from batterygym.baselines.microgrid_bss import solve

            plan = solve(s, time_limit=time_limit)
            schedule = plan.schedule
            if plan.status != "optimal":
                unproven += 1
                worst_gap = max(worst_gap, float(plan.mip_gap))
        spent = state.counts.depleted
        state = end_of_day(s, state, schedule)
        depletion_days += [d] * (state.counts.depleted - spent)
        station_soh.append(np.array(state.slot_soh))
        storage_soh.append(_places(state, n_places))
        frames.append(schedule[list(_KEEP) + [c for c in schedule.columns if c.startswith(("requests:", "served:"))]])
        daily.append(float(schedule["reward"].sum()))
    totals = cost_breakdown(pd.concat(frames, ignore_index=True))
    totals["storage_discharge_mwh"] = sum(float(f["storage_discharge_kw"].sum()) for f in frames) / 1000.0
    return YearRun(mode, policy, discharge_order, days, cfg, totals, state.counts, np.array(station_soh),
                   np.array(storage_soh), tuple(depletion_days), unproven, worst_gap, np.array(daily))


def _places(state: PackLife, n: int | None = None) -> np.ndarray:
    out = np.full(state.places if n is None else n, np.nan)
    out[:len(state.storage)] = [b.soh0 for b in state.storage]
    return out


def capex_of(cfg: MicrogridConfig, finance: Finance) -> dict[str, float]:
    """The up-front cost by item of ``cfg``'s plants, station and storage (the storage of its layout)."""
    storage = fixed_storage(cfg) or ()
    q = np.repeat(np.array(cfg.pack_kwh), cfg.n_packs)
    return finance.microgrid_capex(
        pv_kwp=cfg.pv_kwp, wind_kw=cfg.wind_rated_kw, charger_kw=float(np.sum(q)) * 1.0,
        station_pack_kwh=float(np.sum(q)), storage_remaining_kwh=sum(b.soh0 * b.capacity_kwh for b in storage),
        storage_kw=sum(b.p_charge_kw for b in storage))


def appraise_year(run: YearRun, finance: Finance, years: float) -> dict[str, Any]:
    """The run's investment case: capex, yearly cash by stream and term, profit, paybacks, NPV, IRR, and the
    source's shares and pack counts (the keys of ``economics microgrid --json``)."""
    scale = 365.0 / run.days
    t = run.totals
    capex_items = capex_of(run.config, finance)
    capex = math.fsum(capex_items.values())
    revenue = {k: scale * t[v] for k, v in CASH_REVENUE.items()}
    packs = scale * finance.new_pack_eur_per_kwh * run.counts.bought_kwh
    om = finance.om_share_per_year * capex
    costs = {"grid_eur": scale * t["grid_cost_eur"], "new_packs_eur": packs, "om_eur": om}
    operating = math.fsum(revenue.values()) - costs["grid_eur"] - packs
    a = appraise(dataclasses.replace(finance, horizon_years=float(years)), capex, operating, float(years),
                 scale * 1000.0 * t["storage_discharge_mwh"])
    profit = operating - om
    return {
        "capex_eur": capex, "capex_by_item_eur": capex_items,
        "annual_revenue_eur": revenue, "annual_cost_eur": costs,
        "annual_non_cash_eur": {k: scale * t[k] for k in NON_CASH},
        "annual_profit_eur": profit, "simple_payback_years": a.simple_payback_years,
        "discounted_payback_years": a.discounted_payback_years, "npv_eur": a.npv_eur, "irr": a.irr,
        "cash_flows_eur": [float(x) for x in cash_flows(capex, profit, years, finance.salvage_share * capex)],
        "storage_share": t["storage_share"], "renewable_share": t["renewable_share"],
        "swaps_served_share": t["swaps_served_share"], "swaps_served": t["swaps_served"],
        "swaps_requested": t["swaps_requested"],
        "depleted_packs": run.counts.depleted, "depletion_days": list(run.depletion_days),
        "retired_packs": run.counts.retired,
        "transferred_packs": run.counts.transferred, "empty_place_days": run.counts.empty_place_days,
        "grid_mwh": scale * t["grid_mwh"], "days": run.days, "years": years, "policy": run.policy,
        "discharge_order": run.discharge_order, "unproven_days": run.unproven_days, "worst_gap": run.worst_gap,
    }

