"""``Industrial-v0``'s native vector env equals that many scalar envs (``assert_matches_scalar``): seeds, both
autoreset modes, a fixed scenario, billing per month, truncation; and it refuses bad input by name."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from vector_check import assert_matches_scalar

import batterygym  # noqa: F401 - registers the ids
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.envs.industrial_vector import IndustrialVectorEnv

ENV_ID = "batterygym/Industrial-v0"
MONEY = ("energy_eur", "demand_eur", "degradation_eur", "terminal_eur", "battery_kw", "clipped_kw", "import_kw",
         "export_kw")


def make(n: int, **kwargs) -> IndustrialVectorEnv:
    return gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize(("n", "seed"), [(3, 0), (4, 11), (5, [7, 3, 3, 40, 2])])
@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_matches_scalar_envs_across_autoresets(n, seed, mode):
    """One-day episodes, 80 steps: every sub-env ends and restarts three times (drawing its next episodes)."""
    out = assert_matches_scalar(ENV_ID, n, seed, 80, MONEY, action_seed=n, autoreset_mode=mode, n_days=1)
    assert out["ended"] == 3 * n


@pytest.mark.parametrize("kwargs", [{"allow_export": False, "pv_kwp": 600.0, "lookahead": 5},
                                    {"dt_h": 0.5, "max_cycles_per_day": None, "lookahead": 1},
                                    {"max_cycles_per_day": 0.2, "spikes_per_week": 40.0},
                                    {"soc0": 0.9, "calendar_fade_per_day": 2e-3}])  # the zero action discharges
def test_matches_scalar_envs_on_other_sites(kwargs):
    out = assert_matches_scalar(ENV_ID, 3, 5, 100, MONEY, action_seed=2, n_days=1, **kwargs)
    assert out["ended"] >= 3


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_a_fixed_scenario_is_replayed_by_every_sub_env(mode):
    s = generate_industrial(np.random.default_rng(8), IndustrialSiteConfig(n_days=1))
    out = assert_matches_scalar(ENV_ID, 3, 1, 60, MONEY, autoreset_mode=mode, scenario=s)
    assert out["ended"] == 6
    env = make(3, scenario=s)
    env.reset(seed=0)
    assert all(x is s for x in env.unwrapped.scenarios)


def test_billing_per_month():
    """A 40-day episode is billed per calendar month: the sub-envs cross a month's end (a new peak) as the
    scalar envs do."""
    steps = 40 * 24
    out = assert_matches_scalar(ENV_ID, 3, [2, 5, 9], steps + 5, MONEY, n_days=40)
    assert out["ended"] == 3
    env = make(3, n_days=40)
    env.reset(seed=[2, 5, 9])
    assert all(s.n_periods >= 2 for s in env.unwrapped.scenarios)


def test_max_episode_steps_truncates():
    out = assert_matches_scalar(ENV_ID, 4, 3, 50, MONEY, n_days=2, max_episode_steps=20)
    assert out["ended"] == 8
    env = make(2, n_days=2, max_episode_steps=20)
    env.reset(seed=0)
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(np.zeros((2, 1), dtype=np.float32))
    assert truncated.all() and not terminated.any()


def test_spaces_and_infos_are_the_scalar_env_s():
    env = make(3, lookahead=6)
    one = gym.make(ENV_ID, lookahead=6)
    assert env.single_observation_space == one.observation_space
    assert env.single_action_space == one.action_space
    assert env.unwrapped.batteries_per_env == 1
    obs, _ = env.reset(seed=1)
    assert obs.dtype == np.float32 and obs.shape == (3, 9 + 3 * 6)
    _, reward, _, _, info = env.step(np.full((3, 1), 0.5, dtype=np.float32))
    assert set(MONEY) <= set(info) and all(info[f"_{k}"].all() for k in MONEY)
    parts = info["energy_eur"] + info["demand_eur"] + info["degradation_eur"] - info["terminal_eur"]
    np.testing.assert_allclose(parts, -reward, rtol=1e-12)


def test_scenarios_are_each_sub_env_s_episode():
    env = make(3, n_days=2)
    env.reset(seed=[4, 5, 6])
    for i, seed in enumerate((4, 5, 6)):
        one = gym.make(ENV_ID, n_days=2)
        one.reset(seed=seed)
        np.testing.assert_array_equal(env.unwrapped.scenario(i).load_kw, one.unwrapped.scenario.load_kw)
        assert env.unwrapped.scenario(i).start == one.unwrapped.scenario.start


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3"])
def test_bad_num_envs(bad):
    with pytest.raises(ValueError, match=rf"num_envs must be a positive integer, got {bad!r}"):
        IndustrialVectorEnv(num_envs=bad)


def test_bad_actions_are_refused_by_name():
    env = make(3, n_days=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must have shape \(3, 1\).*got \(3,\)"):
        env.step(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"actions must have shape \(3, 1\).*got \(2, 1\)"):
        env.step(np.zeros((2, 1), dtype=np.float32))
    a = np.zeros((3, 1), dtype=np.float32)
    a[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"actions must be finite, got nan in sub-env 1"):
        env.step(a)
    a[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"actions must be finite, got inf in sub-env 1"):
        env.step(a)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"lookahead must be a positive integer, got 0"):
        IndustrialVectorEnv(num_envs=2, lookahead=0)
    with pytest.raises(ValueError, match=r"pv_kwpp"):
        IndustrialVectorEnv(num_envs=2, pv_kwpp=3.0)
    s = generate_industrial(np.random.default_rng(0), IndustrialSiteConfig(n_days=1))
    with pytest.raises(ValueError, match=r"either a scenario or site options"):
        IndustrialVectorEnv(num_envs=2, scenario=s, n_days=3)
    with pytest.raises(ValueError, match=r"unknown reset option"):
        IndustrialVectorEnv(num_envs=2).reset(options={"x": 1})
    with pytest.raises(RuntimeError, match=r"reset"):
        IndustrialVectorEnv(num_envs=2).step(np.zeros((2, 1), dtype=np.float32))


@pytest.mark.parametrize("fixed", [False, True])
def test_sub_envs_at_different_steps_observe_as_scalar_envs(fixed):
    """The vector env keeps its sub-envs at one step; its batch and observation also serve episodes at
    different steps (stepping only some of them), matching scalar envs stepped as often."""
    kwargs = {"scenario": generate_industrial(np.random.default_rng(8), IndustrialSiteConfig(n_days=1))} if fixed \
        else {"n_days": 1}
    env = IndustrialVectorEnv(num_envs=3, lookahead=4, **kwargs)
    env.reset(seed=[1, 2, 3])
    ones = [gym.make(ENV_ID, lookahead=4, **kwargs) for _ in range(3)]
    for i, one in enumerate(ones):
        one.reset(seed=i + 1)
    rng = np.random.default_rng(0)
    for k in range(20):
        active = rng.random(3) < 0.6
        a = rng.uniform(-1, 1, 3).astype(np.float32)
        step = env._batch.step(a.astype(np.float64), active)
        obs = env._observe()
        for i in np.flatnonzero(active):
            _, r, *_ = ones[i].step(a[i:i + 1])
            np.testing.assert_allclose(step.reward[i], r, rtol=1e-12)
        for i, one in enumerate(ones):
            want = one.unwrapped._obs()
            np.testing.assert_allclose(obs[i], want, rtol=1e-6, atol=1e-7, err_msg=f"step {k}, sub-env {i}")
        assert (step.reward[~active] == 0).all()
