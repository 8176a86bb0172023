"""Regret against the optimum: rows, signs, and a loud failure when a policy beats the optimum."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym.baselines as baselines
from batterygym.agents import eval_seeds
from batterygym.baselines.industrial_heuristics import IndustrialRule
from batterygym.baselines.rollout import Idle
from batterygym.benchmarks.regret import RegretError, evaluate_policies, regret, summarize

ENV = "batterygym/Industrial-v0"


class ReplayOptimum:
    """A policy that replays the optimum of whatever episode its env is in (regret must be ~0)."""

    def __init__(self, env):
        self.env = env.unwrapped
        self.actions = None

    def __call__(self, obs):
        t = self.env.state["t"]
        if t == 0:
            self.actions = baselines.solve_optimal(self.env.scenario).actions
        return self.actions[t]


def test_regret_rows_for_a_heuristic():
    df = regret(IndustrialRule, ENV, seeds=eval_seeds(2))
    assert list(df["seed"]) == eval_seeds(2)
    assert (df["regret"] >= 0).all()
    np.testing.assert_allclose(df["regret"], df["optimum"] - df["return"], rtol=1e-12)
    gain = df["optimum"] - df["idle"]
    np.testing.assert_allclose(df["captured"], (df["return"] - df["idle"]) / gain, rtol=1e-12)
    assert ((df["captured"] > 0) & (df["captured"] < 1)).all()


def test_every_policy_form_is_accepted():
    env = gym.make(ENV)
    zero = np.zeros(1, dtype=np.float32)
    df = evaluate_policies({"class": Idle, "callable": lambda obs: zero, "instance": Idle(env)}, ENV,
                           seeds=eval_seeds(1))
    assert df["return"].nunique() == 1  # all three are the idle policy
    assert df["captured"].abs().max() < 1e-12
    with pytest.raises(TypeError, match="policy"):
        evaluate_policies({"bad": 42}, ENV, seeds=eval_seeds(1))


def test_replaying_the_optimum_has_zero_regret():
    df = regret(ReplayOptimum, ENV, seeds=eval_seeds(1))
    assert df["regret"].iloc[0] == pytest.approx(0.0, abs=1e-5 * abs(df["optimum"].iloc[0]))
    assert df["captured"].iloc[0] == pytest.approx(1.0, abs=1e-4)


def test_beating_the_optimum_fails_loudly(monkeypatch):
    real = baselines.solve_optimal

    def understated(scenario, **kw):
        plan = real(scenario, **kw)
        plan.objective -= 1000.0  # an optimum that is not one: the env and the MILP disagree
        plan.bound -= 1000.0
        return plan

    monkeypatch.setattr(baselines, "solve_optimal", understated)
    with pytest.raises(RegretError, match="disagree"):
        regret(IndustrialRule, ENV, seeds=eval_seeds(1))


def test_summary_has_one_row_per_policy():
    df = evaluate_policies({"idle": Idle, "rule": IndustrialRule}, ENV, seeds=eval_seeds(2))
    s = summarize(df)
    assert list(s["policy"]) == ["idle", "rule"]
    assert (s["episodes"] == 2).all()
    assert s.loc[s["policy"] == "rule", "mean_regret"].iloc[0] < s.loc[s["policy"] == "idle", "mean_regret"].iloc[0]


def test_a_return_within_the_solvers_bound_is_no_error(monkeypatch):
    """A policy may beat a plan that stopped short of optimal, but never the solver's own bound."""
    real = baselines.solve_optimal

    def incumbent(scenario, **kw):
        plan = real(scenario, **kw)
        plan.bound = plan.objective  # an honest bound
        plan.objective -= 50.0  # an incumbent 50 EUR short of it, as at a time limit
        return plan

    monkeypatch.setattr(baselines, "solve_optimal", incumbent)
    df = regret(ReplayOptimum, ENV, seeds=eval_seeds(1))
    assert df["regret"].iloc[0] == 0.0
    assert df["optimum_bound"].iloc[0] == pytest.approx(df["return"].iloc[0], rel=1e-9)


def test_an_sb3_model_keeps_its_vecnormalize_statistics_or_is_refused():
    """A model with its VecNormalize env acts on normalised observations; a bare one is refused."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from batterygym.benchmarks.regret import as_policy

    env = gym.make(ENV, n_days=1)
    venv = VecNormalize(DummyVecEnv([lambda: gym.make(ENV, n_days=1)]))
    venv.obs_rms.mean = np.full(venv.observation_space.shape, 0.25)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, device="cpu")
    policy = as_policy(model, env)
    assert np.allclose(policy._mean, 0.25)
    bare = PPO("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV, n_days=1)]), n_steps=16, batch_size=16, device="cpu")
    with pytest.raises(ValueError, match="VecNormalize"):
        as_policy(bare, env)


def test_an_optimum_stopped_at_its_limit_is_flagged_beside_the_number(monkeypatch):
    real = baselines.solve_optimal
    seen = {}

    def limited(scenario, **kw):
        seen.update(kw)
        plan = real(scenario)  # a solve that stops at a limit, without depending on the machine's speed
        if kw.get("time_limit", 60.0) < 1.0:
            plan.status, plan.mip_gap = "time_limit", 2e-3
        return plan

    monkeypatch.setattr(baselines, "solve_optimal", limited)
    with pytest.warns(UserWarning, match=r"time_limit, gap 0.20 %\), not proven optimal"):
        df = regret(IndustrialRule, ENV, seeds=eval_seeds(1), optimum_options={"time_limit": 0.01})
    assert seen["time_limit"] == 0.01
    assert list(df.columns[df.columns.get_loc("optimum"):][:3]) == ["optimum", "proven_optimal", "mip_gap"]
    assert not df["proven_optimal"].iloc[0] and df["mip_gap"].iloc[0] == 2e-3
    assert regret(IndustrialRule, ENV, seeds=eval_seeds(1))["proven_optimal"].all()
