"""``batterygym/Fleet-v0``: Gymnasium/SB3 API, seeding, observation bounds, the projection and its money."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines.rollout import heuristics_for, rollout
from batterygym.core.fleet import idle_rewards, simulate
from batterygym.core.fleet_generator import FleetConfig, fixed_layout, generate_fleet
from batterygym.envs.fleet import FleetEnv

ENV_ID = "batterygym/Fleet-v0"
INFO_KEYS = {"allocation_kw", "charge_kw", "discharge_kw", "clipped_kw", "revenue_eur", "degradation_eur",
             "terminal_eur"}


def test_registered_defaults_and_checkers():
    env = gym.make(ENV_ID)
    assert env.spec.max_episode_steps is None and env.spec.to_json()  # the env ends its own 24-step day
    base = env.unwrapped
    assert (base.n_assets, base.n_markets) == (5, 4)
    assert env.action_space.shape == (20,) and env.action_space.dtype == np.float32
    assert env.observation_space.shape == (15 + 3 + 4 + 20 + 4 * 24,)
    check_env(base, skip_render_check=True)
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(gym.make(ENV_ID, n_assets=3, n_markets=2, lookahead=6).unwrapped, warn=False)


@pytest.mark.parametrize("kwargs", [dict(), dict(n_assets=2, n_markets=5, lookahead=3, n_days=2),
                                    dict(layout_seed=None), dict(terminal_value_eur_per_mwh=30.0)])
def test_random_episodes_stay_inside_the_spaces_and_settle_exactly(kwargs):
    n_days = kwargs.get("n_days", 1)
    env = gym.make(ENV_ID, max_episode_steps=24 * n_days, **kwargs)
    env.action_space.seed(3)
    for seed in (0, 1):
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs) and info == {}
        total, xs = 0.0, []
        while True:
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
            assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
            assert set(info) == INFO_KEYS
            total += reward
            xs.append(info["allocation_kw"])
            if terminated:
                break
        assert len(xs) == 24 * n_days
        record = simulate(env.unwrapped.scenario, np.array(xs))
        assert record["reward"].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)


def test_zero_action_is_idle_and_full_action_is_projected():
    env = FleetEnv()
    env.reset(seed=2)
    s = env.scenario
    _, reward, _, _, info = env.step(np.zeros(20, dtype=np.float32))
    assert reward == 0.0 and not info["allocation_kw"].any()
    _, _, _, _, info = env.step(np.ones(20, dtype=np.float32))  # every market, both sides: the larger is kept
    x = info["allocation_kw"]
    up, dn = x[:, s.is_up].sum(axis=1), x[:, ~s.is_up].sum(axis=1)
    pq_up, pq_dn = s.prequalified_kw[:, s.is_up].sum(axis=1), s.prequalified_kw[:, ~s.is_up].sum(axis=1)
    assert ((up > 0) == (pq_up >= pq_dn) & (pq_up > 0)).all() and not ((up > 0) & (dn > 0)).any()
    assert (up <= s.discharge_limit_kw + 1e-9).all() and (dn <= s.charge_limit_kw + 1e-9).all()
    assert info["clipped_kw"] > 0


@pytest.mark.parametrize("kwargs", [dict(), dict(terminal_value_eur_per_mwh=30.0, max_cycles_per_day=0.5)])
def test_idle_rewards_are_the_zero_actions_rewards(kwargs):
    env = gym.make(ENV_ID, **kwargs)
    env.reset(seed=4)
    paid, done = [], False
    while not done:
        _, reward, done, _, _ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        paid.append(reward)
    assert idle_rewards(env.unwrapped.scenario).tolist() == paid


def test_seeding_and_fixed_scenarios():
    env = FleetEnv()
    a, _ = env.reset(seed=7)
    scen = env.scenario
    b, _ = env.reset(seed=7)
    assert np.array_equal(a, b) and np.array_equal(scen.prices, env.scenario.prices)
    env.reset(seed=8)
    assert not np.array_equal(scen.prices, env.scenario.prices)
    fixed = FleetEnv(scenario=scen)
    c, _ = fixed.reset(seed=123)
    assert np.array_equal(a, c) and fixed.scenario is scen
    fixed.step(fixed.action_space.sample())
    d, _ = fixed.reset()
    assert np.array_equal(a, d) and fixed.fleet.t == 0


def test_observation_layout_reads_back():
    env = FleetEnv(lookahead=3)
    obs, _ = env.reset(seed=1)
    s, lay = env.scenario, env.layout
    assert obs[lay["soc"]] == pytest.approx([b.soc0 for b in s.assets])
    assert obs[lay["direction"]].tolist() == s.sign.tolist()
    prices = obs[lay["prices"]].reshape(s.n_markets, 3)
    assert prices == pytest.approx(s.prices[:3].T / 1000, rel=1e-6)
    env.fleet.t = 23
    last = env._obs()[lay["prices"]].reshape(s.n_markets, 3)
    assert last == pytest.approx(np.repeat(s.prices[23][:, None] / 1000, 3, axis=1), rel=1e-6)  # held at the end


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    (dict(lookahead=0), ValueError, "lookahead must be a positive integer"),
    (dict(render_mode="rgb"), ValueError, "render_mode must be one of"),
    (dict(n_assets=0), ValueError, "n_assets must be a positive integer"),
    (dict(bogus=1), TypeError, "unknown fleet option"),
    (dict(scenario="x"), ValueError, "scenario must be a FleetScenario"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        FleetEnv(**kwargs)


def test_bad_actions_and_call_order():
    env = FleetEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(20, dtype=np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.full(20, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="20 values"):
        env.step(np.zeros(19, dtype=np.float32))
    for _ in range(24):
        env.step(np.zeros(20, dtype=np.float32))
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(np.zeros(20, dtype=np.float32))


def test_a_scenario_with_other_sizes_than_the_spaces_is_refused():
    cfg = FleetConfig(n_assets=3)
    other = generate_fleet(np.random.default_rng(0), cfg, fixed_layout(cfg))
    env = FleetEnv(scenario=other)
    env.reset()
    assert env.action_space.shape == (12,)


def test_rule_heuristic_earns_between_idle_and_the_optimum():
    from batterygym.baselines import solve_optimal

    env = gym.make(ENV_ID)
    rungs = heuristics_for(env)
    assert list(rungs) == ["idle", "rule"]
    for seed in (0, 3):
        rule, _ = rollout(env, rungs["rule"], seed=seed)
        env.reset(seed=seed)
        optimum = solve_optimal(env.unwrapped.scenario).objective
        assert 0.0 < rule <= optimum + 1e-6


def test_render_modes(capsys):
    env = FleetEnv(render_mode="ansi")
    env.reset(seed=0)
    assert "not stepped" in env.render()
    env.step(np.zeros(20, dtype=np.float32))
    assert env.render().startswith("t=  1")
    human = FleetEnv(render_mode="human")
    human.reset(seed=0)
    human.step(np.zeros(20, dtype=np.float32))
    assert "soc=" in capsys.readouterr().out
