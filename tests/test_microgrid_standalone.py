"""The standalone station (no PV, no wind, no storage, no residents): a configuration of the same env."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from vector_check import assert_matches_scalar

import batterygym  # noqa: F401
from batterygym.baselines import solve_optimal
from batterygym.core.microgrid_generator import MicrogridConfig

ENV_ID = "batterygym/MicrogridBSS-v0"
STANDALONE = {"pv_kwp": 0.0, "wind_rated_kw": 0.0, "n_storage": 0, "load_peak_kw": 0.0}
MONEY = ("swap_revenue_eur", "lost_penalty_eur", "grid_cost_eur", "pack_wear_eur", "fast_charge_eur")


def test_standalone_is_a_valid_env_with_no_renewables_storage_or_residents():
    env = gym.make(ENV_ID, **STANDALONE)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    s = env.unwrapped.scenario
    assert s.n_storage == 0 and float(s.res_kw.max()) == 0.0 and float(s.load_kw.max()) == 0.0
    assert np.isfinite(obs).all() and env.observation_space.contains(obs)
    assert env.action_space.shape == (s.n_slots,)


def test_a_standalone_day_by_hand():
    """Every kWh the station draws comes from the grid; the money is the swaps' minus the grid's and the wear."""
    env = gym.make(ENV_ID, **STANDALONE)
    env.reset(seed=1)
    s = env.unwrapped.scenario
    rng = np.random.default_rng(0)
    for t in range(s.n_steps):
        _, reward, terminated, _, info = env.step(rng.uniform(-0.2, 1.0, env.action_space.shape).astype(np.float32))
        station = sum(info["station_kw"])
        assert info["grid_kw"] == pytest.approx(station, abs=1e-9)
        assert info["curtailed_kw"] == 0.0 and info["unserved_kw"] == 0.0 and info["resident_revenue_eur"] == 0.0
        assert info["grid_cost_eur"] == pytest.approx(s.grid_price_eur_per_kwh[t] * station, rel=1e-12, abs=1e-12)
        assert info["pack_wear_eur"] == pytest.approx(s.pack_wear_eur_per_kwh * station, rel=1e-12, abs=1e-12)
        fast = sum(max(p - std, 0.0) for p, std in zip(info["station_kw"], s.slot_standard_kw, strict=True))
        assert info["fast_charge_eur"] == pytest.approx(s.fast_extra_eur_per_kwh * fast, rel=1e-12, abs=1e-12)
        by_hand = (info["swap_revenue_eur"] - info["lost_penalty_eur"] - info["grid_cost_eur"]
                   - info["pack_wear_eur"] - info["fast_charge_eur"] + info["terminal_eur"])
        assert reward == pytest.approx(by_hand, rel=1e-12, abs=1e-9)
        if terminated:
            break
    assert t == s.n_steps - 1


def test_the_standalone_optimum_replays_and_the_vector_env_equals_the_scalar_envs():
    env = gym.make(ENV_ID, **STANDALONE)
    env.reset(seed=2)
    plan = solve_optimal(env.unwrapped.scenario)
    env.reset(seed=2)
    paid = sum(env.step(a)[1] for a in plan.actions)
    assert paid == pytest.approx(plan.objective, rel=1e-6, abs=1e-6)
    assert_matches_scalar(ENV_ID, 3, 4, 30, MONEY, **STANDALONE)


@pytest.mark.parametrize("field", ["pv_kwp", "wind_rated_kw", "load_peak_kw"])
def test_negative_plant_or_load_is_still_refused(field):
    with pytest.raises(ValueError, match=rf"{field} must be non-negative, got -1.0"):
        MicrogridConfig(**{field: -1.0})
