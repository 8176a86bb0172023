"""The industrial step, scalar and batched: ``IndustrialState`` and ``IndustrialBatch`` agree (powers, money,
next state, observation slots), and so do their building blocks (``settle_step``/``settle_batch``, the AR(1)
noise of one series and of many, one generated episode and a batch of them); ``idle_rewards`` is what the env
pays for zero actions."""
from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import site_battery

import batterygym  # noqa: F401 - registers the ids
from batterygym.core import BatteryParams, IndustrialScenario
from batterygym.core.industrial import idle_power, idle_rewards, settle_batch, settle_step
from batterygym.core.industrial_generator import (
    IndustrialSiteConfig,
    ar1,
    generate_industrial,
    generate_industrial_batch,
)
from batterygym.core.industrial_state import IndustrialBatch, IndustrialState, arrays_of_episodes
from batterygym.envs.industrial import IndustrialEnv

FIELDS = ("battery_kw", "clipped_kw", "import_kw", "export_kw", "energy_eur", "demand_eur", "degradation_eur",
          "terminal_eur")


def site(draw, n: int, dt: float) -> IndustrialScenario:
    """One random site of ``n`` steps of ``dt`` hours, with random billing periods."""
    allow_export = draw(st.booleans())
    floats = lambda lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))  # noqa: E731
    load = floats(0.0, 500.0)
    pv = floats(0.0, 300.0) if draw(st.booleans()) else None
    price = floats(-0.1 if allow_export else 0.0, 0.5)
    export = price - floats(0.0, 0.2) if allow_export else None
    net = load - (pv if pv is not None else 0.0)
    battery = site_battery(draw, calendar_fade=1e-3, min_cycles=1e-3)
    jumps = draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    period = np.concatenate([[0], np.cumsum(jumps)]).astype(np.int64)
    try:
        return IndustrialScenario(
            load_kw=load, price_import=price, pv_kw=pv, price_export=export, battery=battery,
            connection_kw=max(1.0, float(np.abs(net).max())) + draw(st.floats(0.0, 500.0)),
            demand_charge_eur_per_kw=draw(st.floats(0.0, 20.0)), allow_export=allow_export,
            initial_peak_kw=draw(st.floats(0.0, 200.0)), billing_period=period,
            billing_share=np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=int(period[-1]) + 1,
                                                 max_size=int(period[-1]) + 1))), dt_h=dt)
    except ValueError as exc:  # only the calendar-fade site checks may reject these draws
        assert "calendar fade" in str(exc)
        assume(False)


@st.composite
def sites(draw, count: int = 3) -> list[IndustrialScenario]:
    n, dt = draw(st.integers(2, 12)), draw(st.sampled_from([0.5, 1.0, 2.0]))
    return [site(draw, n, dt) for _ in range(count)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios=sites(), action_seed=st.integers(0, 2**32 - 1), state_seed=st.integers(0, 2**32 - 1))
def test_batch_steps_as_the_scalar_state(scenarios, action_seed, state_seed):
    """Random sites, random states inside each battery's window, random actions (some beyond [-1, 1], some at the
    rails): every step of the batch gives each scalar state's powers, money, next state and observation slots."""
    rng, srng = np.random.default_rng(action_seed), np.random.default_rng(state_seed)
    states = [IndustrialState(s) for s in scenarios]
    batch = IndustrialBatch(len(scenarios), scenarios[0].n_steps, scenarios[0].dt_h)
    batch.load(np.arange(len(scenarios)), scenarios)
    for i, (s, state) in enumerate(zip(scenarios, states, strict=True)):  # a random state of each episode
        b = s.battery
        state.soh = b.soh0 * srng.uniform(0.9, 1.0)
        state.e = state.soh * b.capacity_kwh * srng.uniform(b.soc_min, b.soc_max)
        state.peak = srng.uniform(0.0, s.connection_kw)
        state.budget = s.charge_budget_kwh * srng.uniform(0.0, 1.0) if np.isfinite(s.charge_budget_kwh) else np.inf
        batch.e[i], batch.soh[i], batch.peak[i], batch.budget[i] = state.e, state.soh, state.peak, state.budget
    close = {"rtol": 1e-12, "atol": 1e-9}
    for _ in range(scenarios[0].n_steps):
        a = rng.choice([-1.3, -1.0, 0.0, 1.0, 1.4], size=len(scenarios)) if rng.random() < 0.3 \
            else rng.uniform(-1.2, 1.2, len(scenarios))
        out = batch.step(a)
        for i, state in enumerate(states):
            want = state.step(float(a[i]))
            got = [float(getattr(out, key)[i]) for key in FIELDS]
            np.testing.assert_allclose(got, want, **close)
            reward = -(want[4] + want[5] + want[6]) + want[7]
            np.testing.assert_allclose(out.reward[i], reward, **close)
            assert bool(out.terminated[i]) == state.done
            np.testing.assert_allclose([batch.e[i], batch.soh[i], batch.peak[i], batch.budget[i]],
                                       [state.e, state.soh, state.peak, state.budget], **close)
        slots = np.zeros((len(scenarios), 4), dtype=np.float32)
        batch.write_slots(slots)
        for i, state in enumerate(states):
            one = np.zeros(4, dtype=np.float32)
            state.write_slots(one)
            np.testing.assert_allclose(slots[i], one, rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="ended"):
        batch.step(np.zeros(len(scenarios)))


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=st.integers(1, 40), dt=st.sampled_from([0.25, 1.0, 3.0]))
def test_settle_batch_is_settle_step(data, n, dt):
    """Random nets, powers, prices, peaks and period openings: the batched money is the scalar's, episode by
    episode."""
    floats = lambda lo, hi: np.array(data.draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))  # noqa: E731
    net, p, peak = floats(-800.0, 800.0), floats(-300.0, 300.0), floats(0.0, 900.0)
    price = floats(-0.1, 0.5)
    export = price - floats(0.0, 0.2)
    rate = floats(0.0, 20.0)
    opens = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    wear = data.draw(st.floats(0.0, 0.05))
    got = settle_batch(net, p, price, export, rate, opens, peak, wear, dt)
    for t in range(n):  # a one-step scenario per episode, opening a period where the batch does
        s = IndustrialScenario(load_kw=[0.0, max(net[t], 0.0)], pv_kw=[0.0, max(-net[t], 0.0)],
                               price_import=[0.5, price[t]], price_export=[0.0, export[t]],
                               battery=BatteryParams(degradation_cost_per_kwh=wear),
                               connection_kw=2000.0, demand_charge_eur_per_kw=1.0,
                               billing_period=np.array([0, int(opens[t])]),
                               billing_share=np.array([1.0, rate[t]]) if opens[t] else np.array([rate[t]]), dt_h=dt)
        want = settle_step(s, 1, float(p[t]), float(peak[t]))
        np.testing.assert_allclose([float(x[t]) for x in got], want, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(x0=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=5), n=st.integers(1, 50), seed=st.integers(0, 2**31))
def test_ar1_of_many_series_is_ar1_of_each(x0, n, seed):
    eps = np.random.default_rng(seed).normal(size=(n, len(x0)))
    many = ar1(np.array(x0), eps)
    for j in range(len(x0)):
        np.testing.assert_array_equal(many[:, j], ar1(np.array(x0[j:j + 1]), eps[:, j:j + 1])[:, 0])
    assert many[0].tolist() == x0


def same_scenario(a: IndustrialScenario, b: IndustrialScenario) -> None:
    for f in dataclasses.fields(IndustrialScenario):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("site_kwargs", [{}, {"n_days": 40}, {"allow_export": False, "pv_kwp": 600.0, "n_days": 2},
                                         {"dt_h": 0.5, "n_days": 3, "random_start": False}, {"pv_kwp": 0.0}])
def test_a_batch_of_episodes_is_each_generator_s_episode(site_kwargs):
    """Episode j of a batch equals the scalar generator's episode from generator j, and the arrays the batch
    steps are its scenario's."""
    cfg = IndustrialSiteConfig(**site_kwargs)
    episodes = generate_industrial_batch([np.random.default_rng(s) for s in range(5)], cfg)
    arrays = arrays_of_episodes(episodes)
    for j in range(5):
        s = episodes.scenario(j)
        one = generate_industrial(np.random.default_rng(j), cfg)
        same_scenario(s, one)
        np.testing.assert_array_equal(s.hour_of_day, one.hour_of_day)
        rate, opens = one._billing_steps
        for got, want in ((arrays.net_kw[:, j], one.net_kw), (arrays.price_import[:, j], one.price_import),
                          (arrays.charge_max_kw[:, j], one.charge_limit_kw),
                          (arrays.discharge_max_kw[:, j], one.discharge_limit_kw),
                          (arrays.rate[:, j if arrays.rate.shape[1] > 1 else 0], rate),
                          (arrays.new_period[:, j if arrays.new_period.shape[1] > 1 else 0], opens)):
            np.testing.assert_array_equal(got, want)
        assert np.asarray(arrays.terminal_value)[j] == one.terminal_value_eur_per_kwh
        assert arrays.budget_kwh == one.charge_budget_kwh


@pytest.mark.parametrize("dt", [0.25, 1 / 3, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0, 24.0])
def test_generated_clock_is_the_timestamps_clock(dt):
    """A generated scenario carries its hour and weekday series; they are the ones its timestamps give."""
    s = generate_industrial(np.random.default_rng(int(dt * 7)), IndustrialSiteConfig(n_days=9, dt_h=dt))
    stamps = pd.date_range(s.start, periods=s.n_steps, freq=pd.Timedelta(hours=dt))
    np.testing.assert_array_equal(s.hour_of_day, (stamps.hour + stamps.minute / 60.0).to_numpy(dtype=np.float64))
    np.testing.assert_array_equal(s.day_of_week, stamps.day_of_week.to_numpy(dtype=np.float64))


def test_from_arrays_needs_every_field():
    s = generate_industrial(np.random.default_rng(0), IndustrialSiteConfig(n_days=1))
    values = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
    del values["start"]
    with pytest.raises(ValueError, match=r"missing \['start'\]"):
        IndustrialScenario.from_arrays(**values)


def test_a_site_the_scenario_refuses_is_refused_by_the_batch():
    """An export price above the off-peak price: the scenario's own check, raised at the batch's draw."""
    cfg = IndustrialSiteConfig(n_days=2, export_price=0.12)
    with pytest.raises(ValueError, match=r"price_export \(0\.12\) exceeds price_import"):
        generate_industrial(np.random.default_rng(0), cfg)
    with pytest.raises(ValueError, match=r"price_export \(0\.12\) exceeds price_import"):
        generate_industrial_batch([np.random.default_rng(s) for s in range(3)], cfg)


# ------------------------------------------------------------------------------------------ idle rewards
def zero_action_rewards(s: IndustrialScenario) -> np.ndarray:
    env = IndustrialEnv(scenario=s)
    env.reset(seed=0)
    out = []
    while not env.state["t"] == s.n_steps:
        out.append(env.step(np.zeros(1, dtype=np.float32))[1])
    return np.array(out)


@pytest.mark.parametrize("site_kwargs", [{}, {"n_days": 40}, {"allow_export": False, "pv_kwp": 700.0, "n_days": 3},
                                         {"dt_h": 0.5, "n_days": 2}])
def test_idle_rewards_are_the_env_s_under_zero_actions(site_kwargs):
    for seed in (0, 1):
        s = generate_industrial(np.random.default_rng(seed), IndustrialSiteConfig(**site_kwargs))
        np.testing.assert_allclose(idle_rewards(s), zero_action_rewards(s), rtol=1e-12, atol=1e-9)


def test_idle_rewards_with_a_forced_discharge():
    """A full battery under calendar fade: its ceiling falls under the stored energy, so even the zero action
    discharges (a little every step) and the last step's credit is negative."""
    cfg = IndustrialSiteConfig(n_days=3, soc0=0.9, calendar_fade_per_day=2e-3)
    s = generate_industrial(np.random.default_rng(3), cfg)
    power = idle_power(s)
    assert (power < 0).all()
    rewards = idle_rewards(s)
    np.testing.assert_allclose(rewards, zero_action_rewards(s), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios=sites(count=1))
def test_idle_rewards_on_random_sites(scenarios):
    s = scenarios[0]
    np.testing.assert_allclose(idle_rewards(s), zero_action_rewards(s), rtol=1e-9, atol=1e-9)


def test_idle_rewards_through_the_vector_env():
    vec = gym.make_vec("batterygym/Industrial-v0", num_envs=2, vectorization_mode="vector_entry_point", n_days=1)
    vec.reset(seed=4)
    for i in range(2):
        s = vec.unwrapped.scenario(i)
        np.testing.assert_array_equal(vec.unwrapped.idle_rewards(i), idle_rewards(s))
