"""The MicrogridBSS native vector env and core's batched step: equal to the scalar env and step."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_check import assert_matches_scalar

from batterygym.core.microgrid import MONEY, idle_rewards
from batterygym.core.microgrid_batch import MicrogridBatchState, MicrogridEpisodes
from batterygym.core.microgrid_generator import (
    LOAD_SHAPE,
    MicrogridConfig,
    _operational_times,
    fixed_storage,
    generate_episodes,
    generate_microgrid,
)
from batterygym.core.microgrid_state import MicrogridState
from batterygym.envs.microgrid_vector import MicrogridBSSVectorEnv

ID = "batterygym/MicrogridBSS-v0"


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
@pytest.mark.parametrize(("seed", "kwargs"), [
    (0, {}),
    ([3, 9, 4], {"off_grid": True}),
    (11, {"import_limit_kw": 470.0}),  # the deficit scaling
    (5, {"layout_seed": None, "n_days": 2}),  # storage drawn every episode
    (2, {"n_packs": (1, 0, 2, 5), "swaps_per_day": 120.0}),  # lost swaps, an empty category
])
def test_equals_the_scalar_envs_across_autoresets(mode, seed, kwargs):
    n = 3 if isinstance(seed, list) else 4
    got = assert_matches_scalar(ID, n, seed, 55, MONEY, autoreset_mode=mode, **kwargs)
    assert got["ended"] >= n  # every sub-env ended an episode and started another


def test_a_fixed_scenario_max_episode_steps_and_no_storage():
    s = generate_microgrid(np.random.default_rng(4), MicrogridConfig(n_days=2))
    got = assert_matches_scalar(ID, 3, 1, 60, MONEY, scenario=s, max_episode_steps=20)
    assert got["ended"] >= 6
    got = assert_matches_scalar(ID, 2, 7, 30, MONEY, n_storage=0, spread=2.0, autoreset_mode="SameStep")
    assert got["ended"] >= 2


def test_spaces_batteries_idle_rewards_and_scenarios():
    vec = gym.make_vec(ID, 3, vectorization_mode="vector_entry_point", off_grid=True)
    scalar = gym.make(ID, off_grid=True)
    assert vec.single_observation_space == scalar.observation_space
    assert vec.single_action_space == scalar.action_space
    assert vec.batteries_per_env == 12 + 4
    vec.reset(seed=8)
    zero = np.zeros(vec.action_space.shape)
    rewards = [vec.step(zero)[1] for _ in range(24)]
    for i in range(3):
        got = np.array([r[i] for r in rewards])
        np.testing.assert_allclose(got, idle_rewards(vec.scenario(i)), rtol=1e-9, atol=1e-9)
    s = vec.scenario(1)
    scalar.reset(seed=9)
    assert s.start == scalar.unwrapped.scenario.start
    np.testing.assert_array_equal(s.swap_soc, scalar.unwrapped.scenario.swap_soc)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="num_envs"):
        MicrogridBSSVectorEnv(num_envs=0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        MicrogridBSSVectorEnv(num_envs=2, autoreset_mode="Sometimes")
    with pytest.raises(ValueError, match="max_episode_steps"):
        MicrogridBSSVectorEnv(num_envs=2, max_episode_steps=0)
    with pytest.raises(ValueError, match="render_mode"):
        MicrogridBSSVectorEnv(num_envs=2, render_mode="human")
    with pytest.raises(ValueError, match="lookahead"):
        MicrogridBSSVectorEnv(num_envs=2, lookahead=0)
    with pytest.raises(TypeError, match="unknown microgrid option"):
        MicrogridBSSVectorEnv(num_envs=2, colour="red")
    s = generate_microgrid(np.random.default_rng(0), MicrogridConfig())
    with pytest.raises(ValueError, match="either a scenario"):
        MicrogridBSSVectorEnv(num_envs=2, scenario=s, n_days=2)
    env = MicrogridBSSVectorEnv(num_envs=2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(env.action_space.shape))
    with pytest.raises(RuntimeError, match="reset"):
        env.scenario(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((2, 3)))
    bad = np.zeros(env.action_space.shape)
    bad[1, 13] = np.nan
    with pytest.raises(ValueError, match="sub-env 1 at index \\(13,\\)"):
        env.step(bad)
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"x": 1})
    with pytest.raises(ValueError, match="differs"):
        MicrogridEpisodes.of([s, generate_microgrid(np.random.default_rng(0), MicrogridConfig(off_grid=True))])


# ---------------------------------------------------------------------- core: batched step = scalar step
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), off_grid=st.booleans(), fresh_storage=st.booleans(),
       limit=st.sampled_from([470.0, 600.0]), spread=st.sampled_from([1.0, 1.5, 3.0]))
def test_the_batched_step_is_the_scalar_step_row_by_row(seed, off_grid, fresh_storage, limit, spread):
    """Random episodes and requests (some beyond [-1, 1], some rows idle for a step): every outcome, energy,
    state of health and bound equals :class:`MicrogridState`'s."""
    cfg = MicrogridConfig(off_grid=off_grid, import_limit_kw=limit, layout_seed=None if fresh_storage else 0,
                          swaps_per_day=60.0)
    rngs = [np.random.default_rng(seed + i) for i in range(4)]
    ep = generate_episodes(rngs, cfg, fixed_storage(cfg))
    batch = MicrogridBatchState(4, ep.shared, cfg.n_steps, cfg.n_storage)
    batch.start(np.arange(4), batch.tables(ep))
    scalars = [MicrogridState(ep.scenario(i)) for i in range(4)]
    rng = np.random.default_rng(seed)
    n_act = scalars[0].s.action_dim
    for _ in range(cfg.n_steps + 3):
        a = rng.uniform(-spread, spread, (4, n_act))
        a[rng.random((4, n_act)) < 0.2] = 0.0
        active = (rng.random(4) < 0.85) & np.array([g.t < g.s.n_steps for g in scalars])
        out = batch.step(a, active)
        for i in np.flatnonzero(active):
            want = scalars[i].step(a[i].tolist())
            for key in ("served", "lost", "station_kw", "storage_kw"):
                np.testing.assert_allclose(getattr(out, key)[i], getattr(want, key), rtol=1e-9, atol=1e-9,
                                           err_msg=key)
            for key in (*MONEY, "grid_kw", "unserved_kw", "curtailed_kw", "clipped_kw", "reward"):
                assert getattr(out, key)[i] == pytest.approx(getattr(want, key), rel=1e-9, abs=1e-9), key
        for i, g in enumerate(scalars):
            assert batch.t[i] == g.t
            np.testing.assert_allclose(batch.energy_kwh[i], g.energy_kwh, rtol=1e-12, atol=1e-9)
            np.testing.assert_array_equal(batch.energy_kwh[i] == batch.q, np.array(g.energy_kwh) == batch.q)
            np.testing.assert_allclose(batch.storage_kwh[i], g.storage_kwh, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(batch.soh[i], g.soh, rtol=1e-12)
            np.testing.assert_allclose(batch.lo[i], g.lo, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(batch.hi[i], g.hi, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------- the batched generator
def _one_by_one(rng: np.random.Generator, shape: float, total: float) -> np.ndarray:
    times, x = [], 0.0
    while True:
        x += rng.gamma(shape, 1.0 / shape)
        if x >= total:
            return np.array(times)
        times.append(x)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([0.3, 1.0, 2.5]),
       total=st.floats(0.5, 80.0), batch=st.sampled_from([None, 1, 3, 17]))
def test_arrivals_in_batches_draw_what_one_by_one_draws_draw(seed, shape, total, batch):
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    np.testing.assert_array_equal(_operational_times(a, shape, total, batch), _one_by_one(b, shape, total))
    assert a.random() == b.random()  # both generators end in the same state


@pytest.mark.parametrize("kwargs", [{}, {"layout_seed": None}, {"random_start": False, "n_days": 3}])
def test_a_batch_of_episodes_is_each_generators_own_episode(kwargs):
    cfg = MicrogridConfig(**kwargs)
    storage = fixed_storage(cfg)
    batch = generate_episodes([np.random.default_rng(s) for s in range(1100, 2300)], cfg, storage)  # many values
    for i in (0, 517, 1199):
        one = generate_microgrid(np.random.default_rng(1100 + i), cfg, storage)
        two = batch.scenario(i)
        for name in ("slot_e0_kwh", "pv_kw", "wind_kw", "load_kw", "tariff_eur_per_kwh", "swap_hour",
                     "swap_category", "swap_soc", "res_kw", "deficit_limit_kw"):
            np.testing.assert_array_equal(getattr(two, name), getattr(one, name), err_msg=name)
        assert (two.start, two.storage, two.terminal_value_eur_per_kwh) == (
            one.start, one.storage, one.terminal_value_eur_per_kwh)
    again = MicrogridEpisodes.of([batch.scenario(i) for i in range(3)])
    np.testing.assert_array_equal(again.swap_soc, batch.swap_soc[:batch.swap_offsets[3]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_generator_draws_what_numpys_samplers_draw(seed):
    """The generator draws uniforms, normals and categories through cheaper calls; they are the values
    ``Generator.uniform``, ``normal`` and ``choice`` give (what a seed meant before)."""
    cfg = MicrogridConfig()
    s = generate_microgrid(np.random.default_rng(seed), cfg, fixed_storage(cfg))
    rng = np.random.default_rng(seed)
    rng.integers(0, 92 - cfg.n_days + 1)
    q = np.repeat(np.array(cfg.pack_kwh), cfg.n_packs)
    full = rng.random(q.shape[0]) < cfg.full_at_start
    np.testing.assert_array_equal(s.slot_e0_kwh, np.where(full, q, np.round(rng.uniform(0.2, 0.8, q.shape[0]) * q, 3)))
    rng.weibull(cfg.pv_weibull_shape, 24)
    rng.weibull(cfg.wind_weibull_shape, 24)
    noise = np.clip(rng.normal(0.0, cfg.load_noise, 24), -3 * cfg.load_noise, 3 * cfg.load_noise)
    load = np.minimum(np.round(cfg.load_peak_kw * np.array(LOAD_SHAPE) * (1.0 + noise), 3),
                      cfg.load_cap_kw)
    np.testing.assert_array_equal(s.load_kw, load)
    assert _operational_times(rng, cfg.gamma_shape, float(cfg.plan.cum[-1])).shape[0] == s.n_requests
    cat = rng.choice(len(cfg.categories), size=s.n_requests, p=np.array(cfg.demand_shares))
    np.testing.assert_array_equal(s.swap_category, cat)
