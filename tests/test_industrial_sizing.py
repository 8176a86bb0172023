"""The sizing MILP: an analytical case, no fixed size beats it, its objective is the plain cost, exact replay."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
import pytest
from gymnasium.utils.seeding import np_random

from batterygym.baselines.industrial import Sizing, build_model
from batterygym.baselines.industrial import solve as solve_dispatch
from batterygym.baselines.sizing import annual_cost, sizing_scenario, solve_sizing
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.battery import BatteryParams
from batterygym.core.finance import Finance
from batterygym.core.industrial import IndustrialScenario, simulate
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.envs.industrial import IndustrialEnv


def _site(days: int = 7, seed: int = 0, **cfg) -> IndustrialScenario:
    rng, _ = np_random(seed)
    s = generate_industrial(rng, IndustrialSiteConfig(n_days=days, **cfg))
    # energy left at the end is worth more than any price: every dispatch ends as full as it started,
    # so the dispatch MILP's schedules are feasible for the sizing (which asks E_T >= E_0)
    return replace(s, terminal_value_eur_per_kwh=1.0, charge_budget_kwh=None)


def _solve_model(m: pyo.ConcreteModel) -> float:
    return solve_exclusive(m, [m.batteries], what="test sizing").objective


@pytest.mark.parametrize(("a", "b", "built"), [(0.2, 0.3, True), (0.6, 0.5, False)])
def test_analytical_two_step_case(a: float, b: float, built: bool) -> None:
    """Charge at price 0.1, serve a load of L at price 1.1 (no export, lossless, no fade): each kWh
    of capacity with a kW of power saves 1.0 and costs a + b, so it is built to L iff a + b < 1."""
    load = 40.0
    battery = BatteryParams(capacity_kwh=100.0, p_charge_kw=100.0, p_discharge_kw=100.0, eta_charge=1.0,
                            eta_discharge=1.0, soc_min=0.0, soc_max=1.0, soc0=0.0, soh0=1.0, soh_end_of_life=0.5,
                            degradation_cost_per_kwh=0.0, fade_per_cycle=0.0, max_cycles_per_day=None)
    s = IndustrialScenario(load_kw=np.array([0.0, load]), price_import=np.array([0.1, 1.1]), battery=battery,
                           connection_kw=100.0, allow_export=False, terminal_value_eur_per_kwh=0.0)
    m = build_model(s, Sizing(max_capacity_kwh=100.0, max_power_kw=100.0, capital_per_kwh=a, capital_per_kw=b))
    cost = _solve_model(m)
    want_size = load if built else 0.0
    assert m.cap.value == pytest.approx(want_size, abs=1e-6)
    assert m.pw.value == pytest.approx(want_size, abs=1e-6)
    assert cost == pytest.approx(1.1 * load - want_size * (1.0 - a - b), rel=1e-9)


def test_no_fixed_size_beats_the_sizing() -> None:
    """Brute force: each size of a grid dispatched by the dispatch MILP costs at least the sizing optimum."""
    s = _site(7)
    finance = Finance()
    sol = solve_sizing(s, finance, max_capacity_kwh=3000.0, max_power_kw=800.0)
    assert sol.capacity_kwh > 0
    best = sol.annual_cost_eur
    costs = []
    for cap in (250.0, 500.0, 1000.0, 2000.0, 3000.0):
        for pw in (100.0, 200.0, 400.0, 800.0):
            fixed = sizing_scenario(s, cap, pw)
            plan = solve_dispatch(fixed)
            assert plan.schedule["energy_kwh"].iloc[-1] >= fixed.battery.e0_kwh - 1e-6
            costs.append(annual_cost(fixed, finance, cap, pw, plan.schedule))
    assert min(costs) >= best * (1 - 1e-7)
    # and the same model with the size fixed at neighbours inside the bounds is no better either
    for fc, fp in ((0.8, 1.0), (1.0, 0.8), (0.9, 1.1)):
        cap, pw = min(sol.capacity_kwh * fc, 3000.0), min(sol.power_kw * fp, 800.0)
        near = solve_sizing(s, finance, fixed_capacity_kwh=cap, fixed_power_kw=pw, always_build=True)
        assert near.annual_cost_eur >= best * (1 - 1e-7)


def test_objective_is_the_plain_annual_cost_and_the_plan_replays_exactly() -> None:
    """Over 35 days (two billing periods) the MILP's annual cost equals the plain computation on its
    schedule, and the chosen size, fixed in a scenario, replays the plan exactly in the env."""
    s = _site(35)
    assert s.n_periods == 2
    finance = Finance(discount_rate=0.05)
    sol = solve_sizing(s, finance)
    assert sol.scenario is not None and sol.scenario.battery.capacity_kwh == sol.capacity_kwh
    plain = annual_cost(sol.scenario, finance, sol.capacity_kwh, sol.power_kw, sol.plan.schedule)
    assert plain == pytest.approx(sol.annual_cost_eur, rel=1e-6)
    env = IndustrialEnv(scenario=sol.scenario)
    env.reset(seed=0)
    total = 0.0
    for a in sol.plan.actions:
        _, r, term, _, _ = env.step(a)
        total += r
    assert term
    assert total == pytest.approx(sol.plan.objective, rel=1e-9, abs=1e-9)


def test_harder_cycling_costs_pack_life() -> None:
    """When the pack wears out within the horizon its throughput is priced: a shorter pack life
    (fewer cycles to end of life) makes the optimiser cycle less."""
    s = _site(14)
    finance = Finance(horizon_years=20.0)
    long = solve_sizing(replace(s, battery=replace(s.battery, fade_per_cycle=0.2 / 6000)), finance,
                        fixed_capacity_kwh=500.0, fixed_power_kw=200.0, always_build=True)
    short = solve_sizing(replace(s, battery=replace(s.battery, fade_per_cycle=0.2 / 300)), finance,
                         fixed_capacity_kwh=500.0, fixed_power_kw=200.0, always_build=True)
    thr = [float(x.plan.schedule["battery_kw"].abs().sum()) for x in (long, short)]
    assert thr[1] < thr[0]


def test_capex_budget_and_bounds() -> None:
    s = _site(7)
    finance = Finance()
    budget = 60_000.0
    sol = solve_sizing(s, finance, capex_budget_eur=budget)
    assert finance.capex(sol.capacity_kwh, sol.power_kw, s.battery.soh0) <= budget * (1 + 1e-7)
    capped = solve_sizing(s, finance, max_capacity_kwh=300.0, max_power_kw=90.0)
    assert capped.capacity_kwh <= 300.0 + 1e-6 and capped.power_kw <= 90.0 + 1e-6
    with pytest.raises(ValueError, match="capex_budget_eur"):
        solve_sizing(s, finance, capex_budget_eur=finance.fixed_cost_eur / 2)
    with pytest.raises(ValueError, match="max_capacity_kwh"):
        solve_sizing(s, finance, max_capacity_kwh=-1.0)


def test_no_battery_when_it_cannot_pay() -> None:
    s = _site(7)
    sol = solve_sizing(s, Finance(fixed_cost_eur=5e7))
    assert sol.capacity_kwh == 0.0 and sol.scenario is None and sol.plan is None
    assert sol.candidate_capacity_kwh > 0
    idle = simulate(s, np.zeros(s.n_steps))
    bill = float(idle["energy_eur"].sum() + idle["demand_eur"].sum())
    assert sol.annual_cost_eur * s.days / 365.25 == pytest.approx(bill, rel=1e-9)
    assert math.isfinite(sol.annual_cost_no_battery_eur)
