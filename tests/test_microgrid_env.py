"""``batterygym/MicrogridBSS-v0``: Gymnasium/SB3 API, seeding, observation bounds, projection, the rule."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines.microgrid_heuristics import MicrogridRule
from batterygym.baselines.rollout import heuristics_for, rollout
from batterygym.core.microgrid import simulate
from batterygym.core.microgrid_generator import MicrogridConfig, generate_microgrid
from batterygym.envs.microgrid_bss import MicrogridBSSEnv

ENV_ID = "batterygym/MicrogridBSS-v0"
INFO_KEYS = {"served", "lost", "station_kw", "storage_kw", "grid_kw", "unserved_kw", "curtailed_kw", "clipped_kw",
             "swap_revenue_eur", "lost_penalty_eur", "resident_revenue_eur", "grid_cost_eur", "unserved_cost_eur",
             "pack_wear_eur", "fast_charge_eur", "storage_wear_eur", "terminal_eur"}


def test_registered_defaults_and_checkers():
    env = gym.make(ENV_ID)
    assert env.spec.max_episode_steps is None and env.spec.to_json()  # the env ends its own 24-step day
    assert env.action_space.shape == (16,) and env.action_space.dtype == np.float32
    assert env.observation_space.shape == (2 * 4 + 12 + 2 * 4 + 3 + (3 + 4) * 12,)
    check_env(env.unwrapped, skip_render_check=True)
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(gym.make(ENV_ID, off_grid=True, lookahead=3).unwrapped, warn=False)


@pytest.mark.parametrize("kwargs", [dict(), dict(n_days=2, lookahead=30), dict(off_grid=True),
                                    dict(layout_seed=None, n_storage=2, n_packs=(1, 2, 3, 1))])
def test_random_episodes_stay_inside_the_spaces_and_settle_exactly(kwargs):
    n_days = kwargs.get("n_days", 1)
    env = gym.make(ENV_ID, max_episode_steps=24 * n_days, **kwargs)
    env.action_space.seed(3)
    for seed in (0, 1):
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs) and info == {}
        total, actions = 0.0, []
        while True:
            action = env.action_space.sample()
            obs, reward, terminated, truncated, info = env.step(action)
            assert env.observation_space.contains(obs)
            assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
            assert set(info) == INFO_KEYS
            total += reward
            actions.append(action)
            if terminated:
                break
        assert len(actions) == 24 * n_days
        record = simulate(env.unwrapped.scenario, np.array(actions))
        assert record["reward"].sum() == pytest.approx(total, rel=1e-12)


def test_seeding_draws_the_same_episode_and_observation():
    env = gym.make(ENV_ID)
    a, _ = env.reset(seed=7)
    s7 = env.unwrapped.scenario
    b, _ = env.reset(seed=7)
    assert np.array_equal(a, b) and np.array_equal(s7.swap_soc, env.unwrapped.scenario.swap_soc)
    env.reset(seed=8)
    assert not np.array_equal(s7.load_kw, env.unwrapped.scenario.load_kw)
    # the storage layout is fixed by layout_seed; the day changes
    assert s7.storage == env.unwrapped.scenario.storage


def test_fixed_scenario_and_observation_blocks():
    s = generate_microgrid(np.random.default_rng(4), MicrogridConfig())
    env = MicrogridBSSEnv(scenario=s, lookahead=4)
    obs, _ = env.reset(seed=0)
    assert env.scenario is s
    lay = env.layout
    full = [sum(s.slot_e0_kwh[j] == s.slot_pack_kwh[j] for j in slots) / len(slots) for slots in s.category_slots]
    assert obs[lay["full"]] == pytest.approx(full)
    assert obs[lay["charging"]] == pytest.approx(1 - np.array(full))
    assert obs[lay["slot_soc"]] == pytest.approx(s.slot_e0_kwh / np.array(s.slot_pack_kwh))
    assert obs[lay["demand"]].reshape(4, 4)[:, 0] == pytest.approx(s.expected_swaps[0], rel=1e-6)
    assert obs[lay["price"]] == pytest.approx(s.grid_price_eur_per_kwh[:4], rel=1e-6)
    assert obs[lay["storage_soh"]] == pytest.approx([b.soh0 for b in s.storage], rel=1e-6)
    assert obs[lay["time"]][2] == 0.0


def test_zero_action_is_idle_and_feasible_actions_are_not_clipped():
    env = MicrogridBSSEnv()
    env.reset(seed=2)
    s = env.scenario
    _, _, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert info["clipped_kw"] == 0.0 and sum(info["station_kw"]) == 0.0 and info["storage_kw"] == [0.0] * 4
    # standard charging of packs that are not full, a small storage charge: nothing to clip
    a = np.zeros(env.action_space.shape, np.float32)
    for j in range(s.n_slots):
        if env.grid.energy_kwh[j] < s.slot_pack_kwh[j] - 10:
            a[j] = 0.1
    a[s.n_slots:] = 0.1
    _, _, _, _, info = env.step(a)
    assert info["clipped_kw"] < 1e-9


def test_bad_input_is_rejected():
    env = MicrogridBSSEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(16, np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.full(16, np.nan, np.float32))
    with pytest.raises(ValueError, match="16 values"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="lookahead"):
        MicrogridBSSEnv(lookahead=0)
    with pytest.raises(ValueError, match="render_mode"):
        MicrogridBSSEnv(render_mode="rgb_array")
    with pytest.raises(TypeError, match="unknown microgrid option"):
        MicrogridBSSEnv(n_slots=3)
    with pytest.raises(ValueError, match="either a scenario"):
        MicrogridBSSEnv(scenario=generate_microgrid(np.random.default_rng(0), MicrogridConfig()), n_days=2)
    with pytest.raises(ValueError, match="MicrogridScenario"):
        MicrogridBSSEnv(scenario="day.csv")
    for _ in range(24):
        env.step(np.zeros(16, np.float32))
    with pytest.raises(RuntimeError, match="ended"):
        env.step(np.zeros(16, np.float32))


def test_render_and_state():
    env = MicrogridBSSEnv(render_mode="ansi")
    env.reset(seed=1)
    assert "not stepped" in env.render()
    env.step(np.zeros(16, np.float32))
    assert env.render().startswith("t=  1")
    assert set(env.state) == {"t", "slot_kwh", "storage_kwh", "soh"}


def test_rule_reads_the_observation_and_beats_idle():
    env = gym.make(ENV_ID)
    rungs = heuristics_for(env)
    assert list(rungs) == ["idle", "rule", "lookahead"]
    for seed in (0, 1):
        idle = rollout(env, rungs["idle"], seed=seed)[0]
        for order in ("uniform", "uneven"):
            total, infos = rollout(env, MicrogridRule(env, discharge_order=order), seed=seed)
            assert total > idle
            served = sum(sum(i["served"]) for i in infos)
            assert served >= 0.8 * env.unwrapped.scenario.n_requests
    with pytest.raises(ValueError, match="discharge_order"):
        MicrogridRule(env, discharge_order="random")
    with pytest.raises(TypeError, match="MicrogridBSSEnv"):
        MicrogridRule(gym.make("batterygym/Fleet-v0"))
