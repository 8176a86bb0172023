"""Rolling-horizon MPC: the setting's own MILP on windows from the env's state."""
from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401
from batterygym.agents import eval_seeds
from batterygym.baselines.industrial_mpc import IndustrialMPC
from batterygym.baselines.mpc import mpc_class
from batterygym.benchmarks.regret import evaluate_policies

ENV = "batterygym/Industrial-v0"
DAY = {"n_days": 1, "max_episode_steps": 24}


def test_mpc_over_the_whole_episode_is_optimal():
    # a window that always reaches the episode's end re-solves the rest of the same problem
    df = evaluate_policies({"mpc": functools.partial(IndustrialMPC, horizon=24)}, ENV, eval_seeds(1), DAY)
    assert df["regret"].iloc[0] == pytest.approx(0.0, abs=1e-4 * abs(df["optimum"].iloc[0]))


def test_noisy_forecasts_cost_money_and_are_reproducible():
    specs = {"noisy": functools.partial(IndustrialMPC, horizon=12, forecast_noise=0.3, noise_seed=1),
             "noisy_again": functools.partial(IndustrialMPC, horizon=12, forecast_noise=0.3, noise_seed=1),
             "perfect": functools.partial(IndustrialMPC, horizon=12)}
    df = evaluate_policies(specs, ENV, eval_seeds(1), DAY).set_index("policy")
    assert df.loc["noisy", "return"] == df.loc["noisy_again", "return"]
    assert (df["regret"] >= 0).all()


def test_window_starts_from_the_env_state():
    env = gym.make(ENV, **DAY)
    env.reset(seed=eval_seeds(1)[0])
    mpc = IndustrialMPC(env, horizon=6, forecast_noise=0.2)
    for _ in range(5):
        env.step(np.array([0.7], dtype=np.float32))
    w = mpc.window()
    base = env.unwrapped
    assert w.n_steps == 6
    assert w.battery.e0_kwh == pytest.approx(base.state["energy_kwh"], rel=1e-9)
    assert w.initial_peak_kw == base.state["peak_kw"]
    np.testing.assert_array_equal(w.price_import, base.scenario.price_import[5:11])
    assert w.load_kw[0] == base.scenario.load_kw[5]  # the current step is known; later ones are forecasts
    assert not np.array_equal(w.load_kw[1:], base.scenario.load_kw[6:11])


def test_mpc_class_lookup_and_bad_options():
    env = gym.make(ENV)
    assert mpc_class(env) is IndustrialMPC
    with pytest.raises(ValueError, match="horizon"):
        IndustrialMPC(env, horizon=0)
    with pytest.raises(ValueError, match="forecast_noise"):
        IndustrialMPC(env, forecast_noise=-1)
