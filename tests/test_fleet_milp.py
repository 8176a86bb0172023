"""The fleet MILP: its plans replay exactly in the env, decomposition is exact, and the source's instance."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal
from batterygym.baselines.fleet import solve
from batterygym.baselines.rollout import Idle, heuristics_for, rollout
from batterygym.core.battery import BatteryParams
from batterygym.core.fleet import FleetScenario, simulate
from batterygym.core.fleet_generator import FleetConfig, fixed_layout, generate_fleet
from batterygym.envs.fleet import FleetEnv

REL = 1e-5


def replay(env: gym.Env, actions: np.ndarray, seed: int | None = None) -> float:
    it = iter(actions)
    return rollout(env, lambda _obs: next(it), seed=seed)[0]


@pytest.mark.parametrize("kwargs", [dict(), dict(terminal_value_eur_per_mwh=40.0, capacity_fade=True),
                                    dict(max_cycles_per_day=0.5, n_assets=3, n_markets=3),
                                    dict(n_days=2, dt_h=0.5, n_assets=2)])
def test_plans_replay_exactly_and_beat_the_heuristics(kwargs):
    cfg = FleetConfig(**kwargs)
    env = gym.make("batterygym/Fleet-v0", max_episode_steps=cfg.n_steps, **kwargs)
    for seed in (0, 5):
        env.reset(seed=seed)
        plan = solve_optimal(env.unwrapped.scenario)
        assert plan.status == "optimal" and plan.actions.dtype == np.float32
        assert plan.actions.shape == (cfg.n_steps, cfg.n_assets * cfg.n_markets)
        got = replay(env, plan.actions, seed)
        assert got == pytest.approx(plan.objective, rel=REL, abs=1e-6)
        assert plan.schedule["reward"].sum() == pytest.approx(plan.objective, rel=REL, abs=1e-6)
        for name, policy in heuristics_for(env).items():
            assert rollout(env, policy, seed=seed)[0] <= plan.objective + REL * abs(plan.objective), name


def test_decomposition_and_lazy_binaries_are_exact():
    """Per-asset models, one model of the fleet with lazy binaries, and one with every binary: one optimum."""
    cfg = FleetConfig(n_assets=3, n_markets=4)
    s = generate_fleet(np.random.default_rng(3), cfg, fixed_layout(cfg))
    per_asset = solve(s)
    whole = solve(s, decompose=False)
    full = solve(s, decompose=False, all_binaries=True)
    assert per_asset.details["models"] == 3 and whole.details["models"] == 1
    assert whole.objective == pytest.approx(per_asset.objective, rel=1e-7)
    assert full.objective == pytest.approx(per_asset.objective, rel=1e-7)
    assert full.details["binaries"] == 3 * 24


def source_instance() -> FleetScenario:
    """The source's 2-asset, 6-step instance (SOURCES.md section 2) with per-asset ratings instead of its
    fleet-wide cap: 10 MW / 20 MWh each, SoC 0.5, minimum 0.1 at every step, no losses, no wear."""
    asset = BatteryParams(capacity_kwh=20_000.0, p_charge_kw=10_000.0, p_discharge_kw=10_000.0, eta_charge=1.0,
                          eta_discharge=1.0, soc_min=0.1, soc_max=1.0, soc0=0.5, soh0=1.0,
                          degradation_cost_per_kwh=0.0, fade_per_cycle=0.0, max_cycles_per_day=None)
    prices = [[29.75, 5.67, 27.27, 47.77], [81.22, 48.00, 39.28, 83.61], [33.74, 64.82, 36.82, 95.72],
              [14.04, 87.01, 47.36, 80.09], [52.05, 67.89, 72.06, 58.20], [53.74, 75.86, 10.59, 47.36]]
    pq = np.array([[3, 3, 7, 9], [3, 5, 2, 4]]) * 1000.0
    return FleetScenario(assets=(asset, asset), directions=("up", "down", "down", "up"), prices=prices,
                         prequalified_kw=pq, start="2025-01-01T00:00")


def test_source_instance_with_per_asset_ratings():
    s = source_instance()
    plan = solve(s)
    # A simple feasible schedule, by hand: a0 sells its 8 MWh above the floor on m3 at t2 (9 MW prequalified),
    # a1 sells 4 MW on m3 (its prequalification) at t1 and t2:
    # 8 * 95.72 + 4 * 83.61 + 4 * 95.72 = 765.76 + 334.44 + 382.88 = 1483.08 EUR.
    x = np.zeros((6, 2, 4))
    x[2, 0, 3] = 8000.0
    x[1, 1, 3] = x[2, 1, 3] = 4000.0
    assert simulate(s, x)["reward"].sum() == pytest.approx(1483.08)
    assert plan.objective >= 1483.08
    # no asset ever sells more than the energy it holds above the floor plus what it bought
    sched = plan.schedule
    for a in ("a0", "a1"):
        assert sched[f"energy_kwh:{a}"].min() >= 2000.0 - 1e-6
    env = FleetEnv(scenario=s)
    assert replay(env, plan.actions) == pytest.approx(plan.objective, rel=REL)
    assert rollout(env, Idle(env))[0] == 0.0


def test_time_limit_and_wrong_type():
    s = source_instance()
    with pytest.raises(TypeError, match="FleetScenario"):
        solve("not a scenario")
    from batterygym.baselines.plan import SolverError

    with pytest.raises(SolverError):
        solve(s, time_limit=1e-9)
