"""The V2G core model: scenario validation, the projection (deliverable offers, SoC window, departure
requirement), the step's money, and the closed-form window against the shared battery model."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.battery import bounds_batch, coefficients, powers_of_shares, window_batch
from batterygym.core.v2g import (
    V2GBatch,
    V2GScenario,
    V2GState,
    cost_breakdown,
    departure_energy,
    ev_battery,
    idle_rewards,
    simulate,
)
from batterygym.core.v2g_generator import V2GConfig, generate_v2g

TOL = 1e-9


def scenario(n_days: int = 1, **kw) -> V2GScenario:
    base = dict(
        ev=ev_battery(), arrival_hour=np.array([[6, 8, 9]] * n_days), departure_hour=np.array([[17, 16, 19]] * n_days),
        arrival_soc=np.array([[0.2, 0.5, 0.9]] * n_days), required_soc=np.array([[0.99, 0.8, 0.5]] * n_days),
        energy_price=40.0 + 20.0 * np.sin(np.arange(24 * n_days) / 3.0),
        reg_up_price=np.where(np.arange(24 * n_days) % 5 == 0, 0.0, 90.0),
        reg_down_price=np.full(24 * n_days, 27.0),
    )
    return V2GScenario(**{**base, **kw})


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("change", "message"), [
    (dict(ev="leaf"), "ev must be a BatteryParams"),
    (dict(ev=dataclasses.replace(ev_battery(), fade_per_cycle=1e-4)), "no capacity fade"),
    (dict(arrival_hour=np.array([[6, 8]])), r"departure_hour has shape \(1, 3\), arrival_hour has \(1, 2\)"),
    (dict(arrival_hour=np.array([6, 8, 9])), r"must have shape \(n_days, n_evs\)"),
    (dict(arrival_hour=np.array([[6.5, 8, 9]])), "arrival_hour of EV 0 on day 0 must be a whole hour"),
    (dict(departure_hour=np.array([[17, 25, 19]])), "departure_hour of EV 1 on day 0 must be a whole hour in 0..24"),
    (dict(departure_hour=np.array([[17, 8, 19]])), r"EV 1 on day 0 leaves \(hour 8\) before it arrives \(hour 8\)"),
    (dict(arrival_soc=np.array([[0.2, np.nan, 0.9]])), "arrival_soc of EV 1 on day 0 is not finite"),
    (dict(required_soc=np.array([[0.99, 1.2, 0.5]])), r"required_soc of EV 1 on day 0 must be in \[0.0, 1.0\]"),
    (dict(arrival_hour=np.array([[15, 8, 9]])), "EV 0 on day 0 cannot meet its departure requirement"),
    (dict(energy_price=np.ones(23)), "energy_price has 23 values, expected 24"),
    (dict(reg_up_price=np.r_[np.ones(23), np.nan]), "reg_up_price has a non-finite value nan at step 23"),
    (dict(reg_down_price=np.r_[np.ones(23), -1.0]), "reg_down_price must be non-negative"),
    (dict(expected_up=1.0), r"expected_up must be in \(0, 1\)"),
    (dict(expected_down=0.0), "expected_down must be positive"),
    (dict(driver_fee_eur_per_kwh=-0.01), "driver_fee_eur_per_kwh must be non-negative"),
    (dict(start="someday"), "start must be an ISO date"),
])
def test_bad_scenarios_are_rejected_naming_field_and_value(change, message):
    with pytest.raises(ValueError, match=message):
        scenario(**change)


def test_unreachable_requirement_says_how_much_is_missing():
    with pytest.raises(ValueError, match=r"needs 0.99 at hour 17, 18.960 kWh more, but its charger delivers at most "
                                         r"12.960 kWh in 2 h"):
        scenario(arrival_hour=np.array([[15, 8, 9]]))


@pytest.mark.parametrize(("kw", "message"), [
    (dict(n_evs=0), "n_evs must be a positive integer"),
    (dict(arrival_hours=(9, 6)), "low <= high"),
    (dict(departure_hours=(8, 19)), "must start after the last arrival hour"),
    (dict(arrival_soc=(0.1, 1.5)), "arrival_soc must lie in"),
    (dict(required_soc=(0.99, 0.99), arrival_soc=(0.0, 0.5), charger_kw=1.0), "could not reach"),
    (dict(efficiency=1.5), "eta_charge must be in"),
])
def test_bad_configs_are_rejected(kw, message):
    with pytest.raises(ValueError, match=message):
        V2GConfig(**kw)


def test_unknown_option_is_named():
    with pytest.raises(TypeError, match=r"unknown V2G option\(s\) \['evs'\]"):
        V2GConfig.from_kwargs(evs=3)


# ------------------------------------------------------------------------------------------ the step
@settings(max_examples=60, deadline=None)
@given(soc=st.floats(0.0, 1.0), soh=st.floats(0.5, 1.0), fade=st.floats(0.0, 0.01), calendar=st.floats(0.0, 0.01),
       soc_min=st.floats(0.0, 0.4), eta_c=st.floats(0.5, 1.0), eta_d=st.floats(0.5, 1.0), dt=st.floats(0.1, 2.0))
def test_window_is_the_shared_battery_bounds_without_power_limits(soc, soh, fade, calendar, soc_min, eta_c, eta_d,
                                                                     dt):
    """Inside next step's SoC window, window_batch is bounds_batch with unlimited power and no budget."""
    b = dataclasses.replace(ev_battery(), soc_min=soc_min, soc0=soc_min, soc_max=0.95, fade_per_cycle=fade,
                            calendar_fade_per_day=calendar, eta_charge=eta_c, eta_discharge=eta_d)
    k = coefficients(b, dt)
    s_idle = soh - k.calendar
    lo_e, hi_e = k.e_floor * s_idle, k.e_ceiling * s_idle
    e = np.clip(np.array([lo_e + soc * (hi_e - lo_e)]), lo_e, hi_e)  # inside the window, rounding included
    lo, hi = bounds_batch(k, e, soh, np.inf, np.inf)
    floor, head = window_batch(k, e, soh)
    np.testing.assert_array_equal(floor, lo)
    np.testing.assert_array_equal(head, hi)


@settings(max_examples=60, deadline=None)
@given(a=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=8), rating=st.floats(0.0, 50.0),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_one_rating_both_ways_maps_shares_as_the_general_form(a, rating, dtype):
    x = np.array(a, dtype=dtype)
    got = powers_of_shares(x, rating, rating)
    want = x * np.where(x > 0.0, rating, rating)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def check_deliverable(s: V2GScenario, e: np.ndarray, out, present: np.ndarray) -> None:
    """P1, P2, E1, E2 and the SoC window hold for the applied (q, r_up, r_dn); absent cars do nothing."""
    b, xu, xd = s.ev, s.expected_up, s.expected_down
    q, ru, rd = out.power_kw, out.reg_up_kw, out.reg_down_kw
    p = q - xd * rd + xu * ru
    emax, emin = b.soc_max * b.capacity_kwh, b.soc_min * b.capacity_kwh
    assert (ru >= 0).all() and (rd >= 0).all()
    assert (p - ru >= -b.p_discharge_kw - TOL).all() and (p + rd <= b.p_charge_kw + TOL).all()
    assert (e + b.eta_charge * (p + xd * rd) <= emax + TOL).all()
    assert (e + (p - xu * ru) / b.eta_discharge >= emin - TOL).all()
    assert (q[~present] == 0).all() and (ru[~present] == 0).all() and (rd[~present] == 0).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.0, 2.0))
def test_random_requests_are_projected_onto_the_deliverable_set(seed, scale):
    rng = np.random.default_rng(seed)
    s = generate_v2g(rng, V2GConfig(n_evs=6, n_days=2))
    state = V2GState(s)
    emax = s.ev.soc_max * s.ev.capacity_kwh
    for t in range(s.n_steps):
        e = state.energy_kwh.copy()
        out = state.step(rng.uniform(-scale, scale, (s.n_evs, 3)))
        check_deliverable(s, e, out, s.present[t])
        present = s.present[t]
        assert (state.energy_kwh[present] >= -TOL).all() and (state.energy_kwh[present] <= emax + TOL).all()
        assert out.clipped_kw >= -TOL


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_departure_requirement_is_always_met(seed):
    rng = np.random.default_rng(seed)
    s = generate_v2g(rng, V2GConfig(n_evs=8, n_days=2, required_soc=(0.5, 1.0)))
    actions = rng.uniform(-1.0, 1.0, (s.n_steps, s.n_evs * 3))
    actions[:, 0::3] = rng.choice([-1.0, 0.0, 1.0], size=(s.n_steps, s.n_evs))  # discharge as hard as it can
    got = departure_energy(s, actions)
    assert (got >= s.required_energy_kwh - 1e-9).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_deliverable_request_is_left_unchanged(seed):
    """Projecting what the projection applied changes nothing: it is the identity on the feasible set."""
    rng = np.random.default_rng(seed)
    s = generate_v2g(rng, V2GConfig(n_evs=5))
    a, b = V2GState(s), V2GState(s)
    for _ in range(s.n_steps):
        out = a.step(rng.uniform(-1.0, 1.0, (s.n_evs, 3)))
        q = out.power_kw
        again = np.stack([np.where(q >= 0, q / s.ev.p_charge_kw, q / s.ev.p_discharge_kw),
                          out.reg_up_kw / s.swing_kw, out.reg_down_kw / s.swing_kw], axis=1)
        out2 = b.step(again)
        np.testing.assert_allclose(out2.power_kw, q, atol=1e-9)
        np.testing.assert_allclose(out2.reg_up_kw, out.reg_up_kw, atol=1e-9)
        np.testing.assert_allclose(out2.reg_down_kw, out.reg_down_kw, atol=1e-9)
        assert out2.clipped_kw == pytest.approx(0.0, abs=1e-8)


def test_money_of_a_step():
    s = scenario()
    state = V2GState(s)
    for _ in range(9):
        state.step(np.zeros((3, 3)))
    e = state.energy_kwh.copy()
    out = state.step(np.array([[0.5, 0.2, 0.1], [-0.25, 0.0, 0.3], [0.0, 1.0, 0.0]]))
    t = 9
    q, ru, rd = out.power_kw, out.reg_up_kw, out.reg_down_kw
    assert out.reg_up_eur == pytest.approx(s.reg_up_price[t] / 1000 * ru.sum())
    assert out.reg_down_eur == pytest.approx(s.reg_down_price[t] / 1000 * rd.sum())
    assert out.energy_eur == pytest.approx(s.energy_price[t] / 1000 * q.sum())
    assert out.driver_fee_eur == pytest.approx(0.01 * q.sum())
    assert out.degradation_eur == pytest.approx(s.ev.degradation_cost_per_kwh * np.abs(q).sum())
    b = s.ev
    expected_e = e + np.where(q > 0, q * b.eta_charge, q / b.eta_discharge)
    np.testing.assert_allclose(state.energy_kwh, expected_e)
    assert q[0] == pytest.approx(0.5 * b.p_charge_kw) and q[1] == pytest.approx(-0.25 * b.p_discharge_kw)


def test_absent_chargers_ignore_their_slice():
    s = scenario()
    a, b = V2GState(s), V2GState(s)
    rng = np.random.default_rng(0)
    for t in range(s.n_steps):
        act = rng.uniform(-1, 1, (3, 3))
        other = act.copy()
        other[~s.present[t]] = rng.uniform(-1, 1, (int((~s.present[t]).sum()), 3))
        o1, o2 = a.step(act), b.step(other)
        assert o1.reward == o2.reward and o1.clipped_kw == pytest.approx(o2.clipped_kw)


def test_simulate_and_breakdown_add_up():
    s = scenario(n_days=2)
    rng = np.random.default_rng(1)
    actions = rng.uniform(-1, 1, (s.n_steps, 9))
    df = simulate(s, actions)
    state, total = V2GState(s), 0.0
    for t in range(s.n_steps):
        total += state.step(actions[t].reshape(3, 3)).reward
    assert df["reward"].sum() == pytest.approx(total)
    br = cost_breakdown(df)
    assert br["profit_eur"] == pytest.approx(br["reg_up_eur"] + br["reg_down_eur"] - br["energy_cost_eur"]
                                             + br["driver_fee_eur"] - br["degradation_eur"])
    assert br["total_cost_eur"] == pytest.approx(-br["profit_eur"])
    assert list(df["plugged"][:6]) == [0] * 6 and df["plugged"].iloc[10] == 3
    with pytest.raises(ValueError, match="actions must have shape"):
        simulate(s, actions[:, :6])


def test_step_after_the_end_raises():
    s = scenario()
    state = V2GState(s)
    for _ in range(s.n_steps):
        state.step(np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="episode has ended"):
        state.step(np.zeros((3, 3)))


# ------------------------------------------------------------------------------------------ batched and idle
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_envs=st.integers(1, 4), n_days=st.integers(1, 2), scale=st.floats(0.0, 1.5),
       lags=st.lists(st.integers(0, 30), min_size=4, max_size=4))
def test_the_batched_step_is_the_scalar_step(seed, n_envs, n_days, scale, lags):
    """V2GBatch on n episodes (started at different steps, some idle at times) equals n V2GStates."""
    rng = np.random.default_rng(seed)
    cfg = V2GConfig(n_evs=5, n_days=n_days, arrival_hours=(0, 9), departure_hours=(16, 24))
    scenarios = [generate_v2g(rng, cfg) for _ in range(n_envs)]
    s0 = scenarios[0]
    batch = V2GBatch(s0.ev, n_envs, n_days, 5, s0.expected_up, s0.expected_down, s0.driver_fee_eur_per_kwh,
                     s0.wear_eur_per_kwh)
    states = [V2GState(s) for s in scenarios]
    started = np.zeros(n_envs, dtype=bool)
    for t in range(s0.n_steps + max(lags[:n_envs])):
        for i in np.flatnonzero(~started & (np.array(lags[:n_envs]) == t)):  # start episode i now
            s = scenarios[i]
            batch.start(np.array([i]), s.arrival_hour[None], s.departure_hour[None], s.arrival_energy_kwh[None],
                        s.required_energy_kwh[None], s.reg_up_value[None], s.reg_down_value[None],
                        s.net_energy_cost[None])
            started[i] = True
        active = started & (batch.t < s0.n_steps) & (rng.random(n_envs) < 0.9)
        a = rng.uniform(-scale, scale, (n_envs, 5, 3))
        e_before = batch.energy_kwh.copy()
        out = batch.step(a, active)
        for i in range(n_envs):
            if not active[i]:
                np.testing.assert_array_equal(batch.energy_kwh[i], e_before[i])
                continue
            want = states[i].step(a[i])
            np.testing.assert_allclose(batch.energy_kwh[i], states[i].energy_kwh, rtol=1e-12, atol=1e-12)
            for k, field in enumerate(want):
                np.testing.assert_allclose(out[k][i], field, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(out.reward[i], want.reward, rtol=1e-12, atol=1e-12)
            assert batch.t[i] == states[i].t
            now = scenarios[i].present[batch.t[i]] if batch.t[i] < s0.n_steps else np.zeros(5, dtype=bool)
            np.testing.assert_array_equal(batch.present[i], now)


@pytest.mark.parametrize(("n_days", "kw"), [(1, {}), (3, dict(required_soc=(0.9, 1.0))),
                                            (2, dict(arrival_hours=(0, 2), departure_hours=(22, 24)))])
def test_idle_rewards_are_what_zero_actions_earn(n_days, kw):
    s = generate_v2g(np.random.default_rng(n_days), V2GConfig(n_evs=12, n_days=n_days, **kw))
    state = V2GState(s)
    got = [state.step(np.zeros((s.n_evs, 3))).reward for _ in range(s.n_steps)]
    idle = idle_rewards(s)
    assert idle.shape == (s.n_steps,) and (idle < 0).any()  # forced charging costs money
    np.testing.assert_allclose(idle, got, rtol=1e-9, atol=1e-12)
    fixed = scenario(n_days=2)
    state = V2GState(fixed)
    got = [state.step(np.zeros((3, 3))).reward for _ in range(fixed.n_steps)]
    np.testing.assert_allclose(idle_rewards(fixed), got, rtol=1e-9, atol=1e-12)


def test_per_step_arrays_are_the_plug_in_hours():
    s = scenario(n_days=2)
    t = np.arange(s.n_steps)[:, None]
    arr, dep = np.repeat(s.arrival_step, 24, axis=0), np.repeat(s.departure_step, 24, axis=0)
    present = (t >= arr) & (t < dep)
    np.testing.assert_array_equal(s.present, present)
    np.testing.assert_array_equal(s.arriving, t == arr)
    np.testing.assert_array_equal(s.hours_left, np.where(present, dep - t, 0))
    req = np.repeat(s.required_energy_kwh, 24, axis=0)
    floor = req - s.ev.eta_charge * s.ev.p_charge_kw * (dep - t - 1)
    np.testing.assert_allclose(s.floor_next_kwh, np.where(present, floor, -np.inf))
    assert not s.present.flags.writeable and not s.floor_next_kwh.flags.writeable
