"""The V2G MILP: plans replay exactly in the env, days decouple, and no rung beats the optimum."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal
from batterygym.baselines.rollout import heuristics_for, rollout
from batterygym.baselines.v2g import solve
from batterygym.core.v2g import V2GScenario, departure_energy
from batterygym.core.v2g_generator import V2GConfig, generate_quarter, generate_v2g

REL = 1e-5


def replay(env: gym.Env, actions: np.ndarray, seed: int | None = None) -> float:
    it = iter(actions)
    return rollout(env, lambda _obs: next(it), seed=seed)[0]


@pytest.mark.parametrize("kwargs", [dict(n_evs=30), dict(n_evs=10, n_days=2, required_soc=(0.99, 0.99)),
                                    dict(n_evs=8, arrival_soc=(0.0, 1.0), required_soc=(0.0, 1.0))])
def test_plans_replay_exactly_and_beat_the_heuristics(kwargs):
    cfg = V2GConfig(**kwargs)
    env = gym.make("batterygym/V2G-v0", max_episode_steps=cfg.n_steps, **kwargs)
    for seed in (0, 7):
        env.reset(seed=seed)
        s = env.unwrapped.scenario
        plan = solve_optimal(s)
        assert plan.status == "optimal" and plan.actions.dtype == np.float32
        assert plan.actions.shape == (cfg.n_steps, 3 * cfg.n_evs)
        assert env.action_space.contains(plan.actions[0])
        assert replay(env, plan.actions, seed) == pytest.approx(plan.objective, rel=REL, abs=1e-6)
        assert plan.schedule["reward"].sum() == pytest.approx(plan.objective, rel=REL, abs=1e-6)
        assert (departure_energy(s, plan.actions) >= s.required_energy_kwh - 1e-9).all()
        for name, policy in heuristics_for(env).items():
            assert rollout(env, policy, seed=seed)[0] <= plan.objective + REL * abs(plan.objective), name


def test_random_policies_never_beat_the_optimum():
    env = gym.make("batterygym/V2G-v0", n_evs=12)
    env.reset(seed=4)
    plan = solve_optimal(env.unwrapped.scenario)
    env.action_space.seed(1)
    for _ in range(5):
        got = rollout(env, lambda _obs: env.action_space.sample(), seed=4)[0]
        assert got <= plan.objective + REL * abs(plan.objective)


def test_lazy_binaries_reach_the_full_milps_optimum():
    s = generate_v2g(np.random.default_rng(3), V2GConfig(n_evs=6))
    lazy, full = solve(s), solve(s, all_binaries=True)
    assert full.details["binaries"] == sum(int(s.present[:, i].sum()) for i in range(s.n_evs))
    assert lazy.objective == pytest.approx(full.objective, rel=1e-7, abs=1e-7)


def test_days_decouple():
    s = generate_quarter(seed=5, n_evs=6, n_days=2)
    both = solve(s).objective
    days = []
    for d in range(2):
        sl = slice(24 * d, 24 * (d + 1))
        days.append(V2GScenario(
            ev=s.ev, arrival_hour=s.arrival_hour[d:d + 1], departure_hour=s.departure_hour[d:d + 1],
            arrival_soc=s.arrival_soc[d:d + 1], required_soc=s.required_soc[d:d + 1],
            energy_price=s.energy_price[sl], reg_up_price=s.reg_up_price[sl], reg_down_price=s.reg_down_price[sl]))
    assert both == pytest.approx(sum(solve(d).objective for d in days), rel=1e-7)


def test_optimum_sells_capacity_and_the_rule_comes_close():
    env = gym.make("batterygym/V2G-v0", n_evs=20)
    env.reset(seed=1)
    plan = solve_optimal(env.unwrapped.scenario)
    rungs = {name: rollout(env, p, seed=1)[0] for name, p in heuristics_for(env).items()}
    assert plan.schedule["reg_up_eur"].sum() > 0 and plan.schedule["reg_down_eur"].sum() > 0
    assert rungs["rule"] > rungs["charge_on_arrival"]
    assert rungs["rule"] > rungs["idle"]


def test_rejects_other_scenarios_and_says_when_time_runs_out():
    with pytest.raises(TypeError, match="expected a V2GScenario"):
        solve("not a scenario")
    s = generate_v2g(np.random.default_rng(0), V2GConfig(n_evs=3, n_days=3))
    with pytest.raises(Exception, match="time limit"):
        solve(s, time_limit=1e-9)
