"""V2G-v0 as a Gymnasium env: spaces, seeding, the departure guarantee through the env, bad actions."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import batterygym  # noqa: F401 - registers the ids
from batterygym.core.v2g import idle_rewards
from batterygym.core.v2g_generator import V2GConfig, generate_v2g
from batterygym.envs.v2g import V2GEnv, obs_layout


def test_passes_gymnasiums_checker_and_has_true_bounds():
    env = gym.make("batterygym/V2G-v0")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space.shape == (300,) and env.action_space.dtype == np.float32
    lay = obs_layout(100, 24)
    assert env.observation_space.shape == (lay["reg_down_price"].stop,) == (4 * 100 + 3 + 3 * 24,)


def test_random_episodes_stay_in_the_observation_space_and_end_on_time():
    env = gym.make("batterygym/V2G-v0", n_evs=10, n_days=2, max_episode_steps=48)
    env.action_space.seed(0)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        steps = 0
        while True:
            assert env.observation_space.contains(obs)
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert isinstance(reward, float) and np.isfinite(reward)
            assert {"power_kw", "reg_up_kw", "reg_down_kw", "clipped_kw", "reg_up_eur"} <= set(info)
            steps += 1
            if terminated or truncated:
                break
        assert terminated and steps == 48


def test_seeding_is_reproducible_and_seeds_differ():
    env = gym.make("batterygym/V2G-v0", n_evs=5)
    a, _ = env.reset(seed=3)
    s3 = env.unwrapped.scenario
    b, _ = env.reset(seed=3)
    assert np.array_equal(a, b) and np.array_equal(s3.arrival_hour, env.unwrapped.scenario.arrival_hour)
    env.reset(seed=4)
    assert not np.array_equal(s3.energy_price, env.unwrapped.scenario.energy_price)


def test_observation_reports_presence_soc_and_need():
    env = gym.make("batterygym/V2G-v0", n_evs=4)
    env.reset(seed=1)
    base = env.unwrapped
    s, lay = base.scenario, base.layout
    for _ in range(10):
        obs, *_ = env.step(np.zeros(12, dtype=np.float32))
    t = base.evs.t
    np.testing.assert_array_equal(obs[lay["present"]], s.present[t])
    e = base.evs.energy_kwh
    np.testing.assert_allclose(obs[lay["soc"]], np.where(s.present[t], e / 24.0, 0.0), atol=1e-6)
    np.testing.assert_allclose(obs[lay["needed"]], np.maximum(s.required_now_kwh[t] - e, 0) / 24.0, atol=1e-6)
    np.testing.assert_allclose(obs[lay["hours_left"]], s.hours_left[t] / 24.0, atol=1e-6)
    np.testing.assert_allclose(obs[lay["energy_price"]][0], s.energy_price[t] / 1000, rtol=1e-6)


def test_idle_policy_still_meets_every_departure():
    env = gym.make("batterygym/V2G-v0", n_evs=20, required_soc=[0.95, 1.0])
    env.reset(seed=2)
    base = env.unwrapped
    s = base.scenario
    for t in range(s.n_steps):
        env.step(-np.ones(60, dtype=np.float32))  # discharge as hard as allowed
        leaving = s.departure_step[0] == t + 1
        assert (base.evs.energy_kwh[leaving] >= s.required_energy_kwh[0, leaving] - 1e-9).all()


def test_fixed_scenario_replays_and_options_conflict():
    s = generate_v2g(np.random.default_rng(0), V2GConfig(n_evs=3))
    env = V2GEnv(scenario=s)
    env.reset(seed=1)
    assert env.scenario is s
    env.reset(seed=2)
    assert env.scenario is s
    with pytest.raises(ValueError, match="either a scenario or V2G options"):
        V2GEnv(scenario=s, n_evs=3)
    with pytest.raises(ValueError, match="scenario must be a V2GScenario"):
        V2GEnv(scenario="day.csv")


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(lookahead=0), ValueError, "lookahead must be a positive integer"),
    (dict(render_mode="rgb_array"), ValueError, "render_mode must be one of"),
    (dict(n_cars=3), TypeError, "unknown V2G option"),
])
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        V2GEnv(**kwargs)


def test_bad_actions_and_order():
    env = V2GEnv(n_evs=2)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(np.zeros(6, dtype=np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="6 values"):
        env.step(np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.full(6, np.nan, dtype=np.float32))
    for _ in range(24):
        env.step(np.zeros(6, dtype=np.float32))
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(np.zeros(6, dtype=np.float32))


def test_render_ansi():
    env = V2GEnv(n_evs=2, render_mode="ansi")
    env.reset(seed=0)
    assert "not stepped" in env.render()
    for _ in range(8):
        env.step(np.zeros(6, dtype=np.float32))
    assert "plugged=" in env.render()


def test_idle_rewards_are_the_envs_rewards_under_zero_actions():
    env = V2GEnv(n_evs=15, n_days=2, required_soc=(0.9, 1.0))
    env.reset(seed=7)
    rewards = [env.step(np.zeros(45, dtype=np.float32))[1] for _ in range(env.scenario.n_steps)]
    np.testing.assert_allclose(idle_rewards(env.scenario), rewards, rtol=1e-9, atol=1e-12)
    assert min(rewards) < 0.0  # the forced charging is paid for


def test_same_seed_same_observations_after_a_fast_reset():
    env = V2GEnv(n_evs=6)
    first = [env.reset(seed=11)[0]] + [env.step(np.full(18, 0.4, dtype=np.float32))[0] for _ in range(24)]
    env.reset(seed=12)
    again = [env.reset(seed=11)[0]] + [env.step(np.full(18, 0.4, dtype=np.float32))[0] for _ in range(24)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
