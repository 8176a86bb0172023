"""``V2G-v0``'s native vector env: equal to ``num_envs`` scalar envs, across autoresets, and its bad input."""
from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from vector_check import assert_matches_scalar

import batterygym  # noqa: F401 - registers the ids
from batterygym.core.v2g import idle_rewards
from batterygym.core.v2g_generator import V2GConfig, generate_v2g
from batterygym.envs.v2g import V2GEnv
from batterygym.envs.v2g_vector import V2GVectorEnv

ENV_ID = "batterygym/V2G-v0"
MONEY = ("reg_up_eur", "reg_down_eur", "energy_eur", "driver_fee_eur", "degradation_eur", "clipped_kw", "power_kw",
         "reg_up_kw", "reg_down_kw")


def make(n: int = 3, **kwargs) -> V2GVectorEnv:
    return gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
@pytest.mark.parametrize(("seed", "kwargs"), [
    (0, dict(n_evs=5)),
    (17, dict(n_evs=3, lookahead=4)),
    ([5, 9, 2, 7], dict(n_evs=4)),
    (3, dict(n_evs=6, n_days=2, random_start=False)),
    (8, dict(n_evs=4, arrival_hours=(0, 3), departure_hours=(20, 24), required_soc=(0.95, 1.0), lookahead=30)),
])
def test_equals_the_scalar_envs_across_autoresets(seed, kwargs, mode):
    n = len(seed) if isinstance(seed, list) else 4
    days = kwargs.get("n_days", 1)
    out = assert_matches_scalar(ENV_ID, n, seed, 2 * 24 * days + 5, MONEY, autoreset_mode=mode, **kwargs)
    assert out["ended"] >= 2 * n  # every sub-env ended its episode at least twice


def test_a_fixed_scenario_and_max_episode_steps():
    s = generate_v2g(np.random.default_rng(5), V2GConfig(n_evs=4, n_days=2))
    out = assert_matches_scalar(ENV_ID, 3, 1, 100, MONEY, scenario=s)
    assert out["ended"] >= 6
    for mode in ("NextStep", "SameStep"):
        out = assert_matches_scalar(ENV_ID, 3, 2, 40, MONEY, autoreset_mode=mode, max_episode_steps=7, n_evs=3)
        assert out["ended"] >= 15  # truncated every 7 steps


def test_spaces_sizes_scenarios_and_idle_rewards():
    vec = make(3, n_evs=4, lookahead=5, n_days=2)
    scalar = V2GEnv(n_evs=4, lookahead=5, n_days=2)
    assert vec.single_observation_space == scalar.observation_space
    assert vec.single_action_space == scalar.action_space
    assert vec.batteries_per_env == 4 and vec.num_envs == 3
    vec.reset(seed=[4, 5, 6])
    scalar.reset(seed=5)
    got, want = vec.scenario(1), scalar.scenario
    for f in dataclasses.fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        assert np.array_equal(a, b) if isinstance(b, np.ndarray) else a == b, f.name
    np.testing.assert_allclose(vec.idle_rewards(1), idle_rewards(want), rtol=1e-12)
    rewards = []  # the idle rewards are what zero actions earn in that sub-env
    for _ in range(want.n_steps):
        _, r, *_ = vec.step(np.zeros(vec.action_space.shape, dtype=np.float32))
        rewards.append(r[1])
    np.testing.assert_allclose(rewards, vec.idle_rewards(1), rtol=1e-9, atol=1e-12)
    s = generate_v2g(np.random.default_rng(0), V2GConfig(n_evs=2))
    fixed = make(2, scenario=s)
    fixed.reset(seed=0)
    assert fixed.scenario(0) is s


def test_infos_have_the_scalar_shapes():
    vec = make(2, n_evs=3)
    vec.reset(seed=0)
    for _ in range(10):
        _, _, _, _, info = vec.step(np.full(vec.action_space.shape, 0.5, dtype=np.float32))
    assert info["power_kw"].shape == (2, 3) and info["reg_up_eur"].shape == (2,)
    assert info["_power_kw"].all() and info["clipped_kw"].dtype == np.float64


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(num_envs=0), ValueError, "num_envs must be a positive integer"),
    (dict(render_mode="ansi"), ValueError, "render_mode must be one of"),
    (dict(lookahead=0), ValueError, "lookahead must be a positive integer"),
    (dict(n_cars=3), TypeError, "unknown V2G option"),
    (dict(autoreset_mode="Later"), ValueError, "autoreset_mode must be one of"),
    (dict(max_episode_steps=0), ValueError, "max_episode_steps must be a positive integer"),
    (dict(num_envs=100_000, n_days=30), ValueError, "num_envs=100000 with n_days=30 and n_evs=100 needs about"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        V2GVectorEnv(**{"num_envs": 2, **kwargs})


def test_bad_scenario_actions_seeds_and_order():
    s = generate_v2g(np.random.default_rng(0), V2GConfig(n_evs=2))
    with pytest.raises(ValueError, match="either a scenario or V2G options"):
        V2GVectorEnv(2, scenario=s, n_evs=3)
    with pytest.raises(ValueError, match="scenario must be a V2GScenario"):
        V2GVectorEnv(2, scenario="day.csv")
    vec = V2GVectorEnv(2, n_evs=2)
    with pytest.raises(RuntimeError, match="call reset"):
        vec.step(np.zeros((2, 6), dtype=np.float32))
    with pytest.raises(RuntimeError, match="call reset"):
        vec.scenario(0)
    with pytest.raises(ValueError, match="seed must be"):
        vec.reset(seed=-1)
    with pytest.raises(ValueError, match="unknown reset option"):
        vec.reset(seed=0, options={"day": 3})
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 6\)"):
        vec.step(np.zeros((2, 5), dtype=np.float32))
    bad = np.zeros((2, 6), dtype=np.float32)
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match="actions must be finite, got nan in sub-env 1 at index"):
        vec.step(bad)
    with pytest.raises(ValueError, match=r"i must be a sub-env index in \[0, 2\), got 2"):
        vec.scenario(2)
