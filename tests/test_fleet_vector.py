"""``Fleet-v0``'s native vector env: equal to ``num_envs`` scalar envs, across autoresets, and its bad input."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from vector_check import assert_matches_scalar

import batterygym  # noqa: F401 - registers the ids
from batterygym.core.fleet import idle_rewards
from batterygym.core.fleet_generator import FleetConfig, fixed_layout, generate_fleet
from batterygym.envs.fleet import FleetEnv
from batterygym.envs.fleet_vector import FleetVectorEnv

ENV_ID = "batterygym/Fleet-v0"
MONEY = ("revenue_eur", "degradation_eur", "terminal_eur", "clipped_kw", "allocation_kw")


def make(n: int = 3, **kwargs) -> FleetVectorEnv:
    return gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
@pytest.mark.parametrize(("seed", "kwargs"), [
    (0, dict()),
    (11, dict()),
    ([5, 9, 2, 7], dict()),
    (3, dict(layout_seed=None)),
    (4, dict(n_assets=3, n_markets=5, lookahead=3, n_days=2)),
    (8, dict(terminal_value_eur_per_mwh=30.0, max_cycles_per_day=0.5, capacity_fade=True, dt_h=0.5)),
    (6, dict(directions=("up", "up", "down", "down"), layout_seed=None, n_assets=2)),
])
def test_equals_the_scalar_envs_across_autoresets(seed, kwargs, mode):
    n = len(seed) if isinstance(seed, list) else 4
    steps = 3 * FleetConfig(**{k: v for k, v in kwargs.items() if k != "lookahead"}).n_steps + 4
    out = assert_matches_scalar(ENV_ID, n, seed, steps, MONEY, autoreset_mode=mode, **kwargs)
    assert out["ended"] >= 2 * n  # every sub-env ended its episode at least twice


def test_a_fixed_scenario_and_max_episode_steps():
    cfg = FleetConfig(n_assets=4, n_markets=3)
    s = generate_fleet(np.random.default_rng(5), cfg, fixed_layout(cfg))
    out = assert_matches_scalar(ENV_ID, 3, 1, 60, MONEY, scenario=s)
    assert out["ended"] >= 6
    for mode in ("NextStep", "SameStep"):
        out = assert_matches_scalar(ENV_ID, 3, 2, 40, MONEY, autoreset_mode=mode, max_episode_steps=7)
        assert out["ended"] >= 15  # truncated every 7 steps


def test_spaces_sizes_charge_discharge_and_idle_rewards():
    vec = make(3, n_assets=3, n_markets=2, lookahead=4)
    scalar = FleetEnv(n_assets=3, n_markets=2, lookahead=4)
    assert vec.single_observation_space == scalar.observation_space
    assert vec.single_action_space == scalar.action_space
    assert vec.batteries_per_env == 3 and vec.num_envs == 3
    obs, _ = vec.reset(seed=[4, 5, 6])
    scalar.reset(seed=5)
    assert np.array_equal(vec.scenario(1).prices, scalar.scenario.prices)
    assert vec.scenario(1).start == scalar.scenario.start and vec.scenario(1).assets == scalar.scenario.assets
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = rng.uniform(-1, 1, vec.action_space.shape).astype(np.float32)
        _, _, _, _, info = vec.step(a)
        _, _, _, _, want = scalar.step(a[1])
        np.testing.assert_allclose(info["charge_kw"][1], want["charge_kw"], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(info["discharge_kw"][1], want["discharge_kw"], rtol=1e-12, atol=1e-9)
    vec.reset(seed=7)
    rewards = []
    for _ in range(vec.n_steps):
        _, r, _, _, _ = vec.step(np.zeros(vec.action_space.shape, dtype=np.float32))
        rewards.append(r)
    for i in range(3):
        idle = vec.idle_rewards(i)
        assert idle.tolist() == [r[i] for r in rewards]
        assert idle.tolist() == idle_rewards(vec.scenario(i)).tolist()


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(num_envs=0), ValueError, "num_envs must be a positive integer"),
    (dict(render_mode="human"), ValueError, "render_mode must be one of"),
    (dict(lookahead=0), ValueError, "lookahead must be a positive integer"),
    (dict(bogus=1), TypeError, "unknown fleet option"),
    (dict(n_assets=0), ValueError, "n_assets must be a positive integer"),
    (dict(scenario="x"), ValueError, "scenario must be a FleetScenario"),
    (dict(max_episode_steps=0), ValueError, "max_episode_steps must be a positive integer"),
    (dict(autoreset_mode="Sometimes"), ValueError, "autoreset_mode must be one of"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        FleetVectorEnv(**{"num_envs": 2, **kwargs})


def test_bad_actions_resets_and_call_order():
    vec = make(2)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((2, 20), dtype=np.float32))
    with pytest.raises(RuntimeError, match="reset"):
        vec.scenario(0)
    with pytest.raises(ValueError, match="unknown reset option"):
        vec.reset(options={"x": 1})
    with pytest.raises(ValueError, match="seed must be"):
        vec.reset(seed=-1)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 20\)"):
        vec.step(np.zeros((2, 19), dtype=np.float32))
    bad = np.zeros((2, 20), dtype=np.float32)
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"actions must be finite, got nan in sub-env 1 at index \(3,\)"):
        vec.step(bad)


def test_sub_envs_at_different_steps():
    """Sub-envs restarted at different times (each its own step index) still equal their scalar envs."""
    vec = make(3)
    envs = [FleetEnv() for _ in range(3)]
    vec.reset(seed=[1, 2, 3])
    for e, s in zip(envs, [1, 2, 3], strict=True):
        e.reset(seed=s)
    rng = np.random.default_rng(4)
    for k in range(12):
        if k in (3, 7):  # sub-env k % 3 starts its next episode now, from its own generator
            i = k % 3
            vec._restart(np.arange(3) == i)
            envs[i].reset()
        a = rng.uniform(-1, 1, vec.action_space.shape).astype(np.float32)
        obs, reward, _, _, _ = vec.step(a)
        for i, e in enumerate(envs):
            o, r, _, _, _ = e.step(a[i])
            np.testing.assert_allclose(obs[i], o, rtol=1e-6, atol=1e-6)
            assert reward[i] == pytest.approx(r, rel=1e-9, abs=1e-9)
    assert len(set(vec._batch.t.tolist())) > 1
