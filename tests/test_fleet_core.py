"""The fleet's core model: scenario validation, the projection of a request, the step and the settlement."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.battery import BatteryBank, BatteryParams, bounds_of, coefficients, power_bounds, step_battery
from batterygym.core.fleet import FleetScenario, FleetState, cost_breakdown, idle_rewards, simulate
from batterygym.core.fleet_state import FleetBatch

TOL = 1e-9


def battery(**kw) -> BatteryParams:
    base = dict(capacity_kwh=4000.0, p_charge_kw=1000.0, p_discharge_kw=1000.0, eta_charge=0.95, eta_discharge=0.95,
                soc_min=0.1, soc_max=1.0, soc0=0.5, soh0=1.0, degradation_cost_per_kwh=0.01, fade_per_cycle=0.0,
                max_cycles_per_day=None)
    return BatteryParams(**{**base, **kw})


def scenario(**kw) -> FleetScenario:
    base = dict(assets=(battery(), battery(capacity_kwh=1000.0, p_charge_kw=500.0, p_discharge_kw=400.0)),
                directions=("up", "down", "up"),
                prices=np.array([[50.0, 30.0, 45.0], [80.0, 60.0, 90.0], [20.0, -5.0, 25.0]]),
                prequalified_kw=np.array([[600.0, 800.0, 700.0], [400.0, 500.0, 0.0]]))
    return FleetScenario(**{**base, **kw})


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("change", "message"), [
    (dict(assets=()), "assets must be a non-empty"),
    (dict(assets=(battery(), "b")), r"assets\[1\] must be a BatteryParams"),
    (dict(assets=(battery(calendar_fade_per_day=1e-4), battery())), "calendar_fade_per_day must be 0"),
    (dict(directions=("up", "sideways", "up")), r"directions\[1\] must be 'up' or 'down'"),
    (dict(directions="up"), "directions must be a non-empty sequence"),
    (dict(prices=np.ones((3, 2))), r"prices must have shape \(n_steps, 3\)"),
    (dict(prices=np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 3.0]])), "non-finite value nan at step 1, market 1"),
    (dict(prequalified_kw=np.ones((3, 3))), r"prequalified_kw must have shape \(2, 3\)"),
    (dict(prequalified_kw=np.array([[600.0, -1.0, 700.0], [0, 0, 0]])), r"prequalified_kw\[0, 1\] must be a finite"),
    (dict(prequalified_kw=np.array([[600.0, 800.0, 700.0], [500.0, 0, 0]])),
     r"prequalified_kw\[1, 0\] = 500.0 exceeds asset 1's p_discharge_kw = 400.0"),
    (dict(market_names=("a", "a", "b")), "market_names must be unique"),
    (dict(asset_names=("x",)), "asset_names must be 2 non-empty strings"),
    (dict(terminal_value_eur_per_mwh=-1.0), "terminal_value_eur_per_mwh must be non-negative"),
    (dict(start="yesterday"), "start must be an ISO timestamp"),
    (dict(dt_h=0.0), "dt_h must be positive"),
])
def test_bad_scenarios_are_rejected_naming_field_and_value(change, message):
    with pytest.raises(ValueError, match=message):
        scenario(**change)


def test_scenario_arrays_are_read_only_copies():
    pq = np.array([[600.0, 800.0, 700.0], [400.0, 500.0, 0.0]])
    s = scenario(prequalified_kw=pq)
    pq[0, 0] = 0.0
    assert s.prequalified_kw[0, 0] == 600.0
    with pytest.raises(ValueError):
        s.prices[0, 0] = 1.0


def test_value_per_kwh_follows_the_source_sign_convention():
    s = scenario()
    # up markets pay price / 1000 EUR per kWh delivered; down markets charge it per kWh absorbed
    assert s.value_eur_per_kwh[1].tolist() == pytest.approx([0.080, -0.060, 0.090])
    assert s.value_eur_per_kwh[2, 1] == pytest.approx(0.005)  # a negative down price pays for charging


# ------------------------------------------------------------------------------------------ projection
def test_hand_worked_step():
    s = scenario()
    state = FleetState(s)
    # asset 0 asks 0.5 of 600 up (m0) and 1.0 of 700 up (m2): 1000 kW, at its rating; asset 1 asks 800 down x 1.0
    # -> only its prequalified 500 kW on m1, and nothing else
    out = state.step([0.5, 0.0, 1.0, 0.0, 1.0, 0.0])
    assert out.allocation_kw.tolist() == [[300.0, 0.0, 700.0], [0.0, 500.0, 0.0]]
    # revenue: (50 * 300 + 45 * 700) / 1000 - 30 * 500 / 1000 = 15 + 31.5 - 15 = 31.5 EUR
    assert out.revenue_eur == pytest.approx(31.5)
    # wear: 0.01 * (1000 + 500) = 15 EUR
    assert out.degradation_eur == pytest.approx(15.0)
    assert out.clipped_kw == pytest.approx(0.0)
    # energies: 1000 - 1000 / 0.95 and 500 + 0.95 * 500
    assert state.energy_kwh == pytest.approx([2000.0 - 1000.0 / 0.95, 500.0 + 475.0])


def test_both_sides_keep_the_larger_and_drop_the_other():
    s = scenario()
    state = FleetState(s)
    out = state.step([0.5, 0.25, 0.0, 0.0, 0.0, 0.0])  # asset 0: 300 up vs 200 down -> up only
    assert out.allocation_kw[0].tolist() == [300.0, 0.0, 0.0]
    assert out.clipped_kw == pytest.approx(200.0)


def test_scaling_to_the_soc_floor_is_uniform():
    s = scenario(assets=(battery(soc0=0.2), battery(capacity_kwh=1000.0, p_charge_kw=500.0, p_discharge_kw=400.0)))
    state = FleetState(s)
    out = state.step([1.0, 0.0, 1.0, 0.0, 0.0, 0.0])  # asks 1300 kW up; 400 kWh above the floor
    limit = (0.2 - 0.1) * 4000.0 * 0.95  # kW: (e - soc_min * cap) * eta_d = 380
    assert out.allocation_kw[0, [0, 2]].sum() == pytest.approx(limit)
    assert out.allocation_kw[0, 0] / out.allocation_kw[0, 2] == pytest.approx(600.0 / 700.0)
    assert state.soc(0) == pytest.approx(0.1)


request = st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=6, max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(request, min_size=3, max_size=3), st.floats(0.1, 0.9), st.floats(0.0, 1e-3),
       st.sampled_from([None, 0.5, 2.0]))
def test_projection_invariants(requests, soc0, fade, cycles):
    """SoC never leaves its window, no asset charges and discharges at once, allocations stay within
    prequalification and rating, and the applied allocation is a fixed point (a feasible request is unchanged)."""
    assets = (battery(soc0=soc0, fade_per_cycle=fade, max_cycles_per_day=cycles),
              battery(capacity_kwh=1000.0, p_charge_kw=500.0, p_discharge_kw=400.0, soc0=1 - soc0, soc_min=0.05))
    s = scenario(assets=assets)
    state = FleetState(s)
    twin = FleetState(s)
    pq = s.prequalified_kw
    for req in requests:
        out = state.step(req)
        x = out.allocation_kw
        assert (x >= 0).all() and (x <= pq + TOL).all()
        up, dn = x[:, s.is_up].sum(axis=1), x[:, ~s.is_up].sum(axis=1)
        assert not ((up > 0) & (dn > 0)).any()
        assert (up <= s.discharge_limit_kw + TOL).all() and (dn <= s.charge_limit_kw + TOL).all()
        for i, b in enumerate(assets):
            cap = b.capacity_kwh * state.soh[i]
            assert b.soc_min * cap - 1e-7 <= state.energy_kwh[i] <= b.soc_max * cap + 1e-7
        again = twin.step(np.divide(x, pq, out=np.zeros_like(x), where=pq > 0).ravel().tolist())
        assert again.allocation_kw == pytest.approx(x, rel=1e-12, abs=1e-9)
        assert again.revenue_eur == pytest.approx(out.revenue_eur, rel=1e-12, abs=1e-9)
        assert twin.energy_kwh == pytest.approx(state.energy_kwh, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1e-3), st.floats(0.5, 1.0), st.floats(0.0, 5000.0), st.integers(0, 99))
def test_bounds_and_step_are_the_shared_battery_model(share, fade, eta, budget, seed):
    """FleetState's bounds are bounds_of with its layout's coefficients (power_bounds, BatteryBank.bounds), and its
    update is step_battery."""
    b = battery(fade_per_cycle=fade, eta_charge=eta, eta_discharge=eta, max_cycles_per_day=1.0)
    s = scenario(assets=(b, battery(capacity_kwh=1000.0, p_charge_kw=500.0, p_discharge_kw=400.0)))
    state = FleetState(s)
    rng = np.random.default_rng(seed)
    soh = float(rng.uniform(0.8, 1.0))
    e = (b.soc_min + share * (b.soc_max - b.soc_min)) * soh * b.capacity_kwh
    a = state._consts[0]
    lo, hi = bounds_of(a.k, e, soh, a.charge_max, a.discharge_max, budget)
    assert a.k == coefficients(b, s.dt_h)  # the shared coefficients, computed once per layout
    ref = power_bounds(b, e, soh, s.dt_h, float(s.charge_limit_kw[0]), float(s.discharge_limit_kw[0]), budget)
    assert (lo, hi) == pytest.approx(ref, rel=1e-12, abs=1e-9)
    bank_lo, bank_hi = BatteryBank.of([b]).bounds(np.array([e]), np.array([soh]), s.dt_h, s.charge_limit_kw[:1],
                                                   s.discharge_limit_kw[:1], np.array([budget]))
    assert (lo, hi) == pytest.approx((bank_lo[0], bank_hi[0]), rel=1e-12, abs=1e-9)
    state.energy_kwh[0], state.soh[0], state.budget_kwh[0], state.lo[0], state.hi[0] = e, soh, budget, lo, hi
    p = float(rng.uniform(lo, hi))
    req = [0.0] * 6
    if p > 0:
        req[1] = p / s.prequalified_kw[0, 1]
    else:
        req[0] = min(-p / s.prequalified_kw[0, 0], 1.0)
    out = state.step(req)
    applied = out.charge_kw[0] - out.discharge_kw[0]
    assert (state.energy_kwh[0], state.soh[0]) == pytest.approx(step_battery(b, e, soh, applied, s.dt_h), rel=1e-12)


# ------------------------------------------------------------------------------------------ settlement
def test_simulate_settles_what_the_state_paid_and_rejects_infeasible_schedules():
    s = scenario(terminal_value_eur_per_mwh=40.0)
    rng = np.random.default_rng(1)
    state = FleetState(s)
    xs, total = [], 0.0
    for _ in range(s.n_steps):
        out = state.step(rng.uniform(-1, 1, 6).tolist())
        xs.append(out.allocation_kw)
        total += out.revenue_eur - out.degradation_eur + out.terminal_eur
    df = simulate(s, np.array(xs))
    assert df["reward"].sum() == pytest.approx(total, rel=1e-12)
    parts = cost_breakdown(df)
    assert parts["profit_eur"] == pytest.approx(parts["revenue_eur"] - parts["degradation_eur"]
                                                + parts["terminal_credit_eur"])
    assert parts["total_cost_eur"] == -parts["profit_eur"]
    bad = np.array(xs)
    bad[0, 1, 2] = 10.0  # asset 1 is not prequalified in market 2
    with pytest.raises(ValueError, match="step 0, asset 1, market 2"):
        simulate(s, bad)
    both = np.zeros((3, 2, 3))
    both[1, 0, :2] = 100.0  # asset 0 up and down at once
    with pytest.raises(ValueError, match="step 1, asset 0"):
        simulate(s, both)
    with pytest.raises(ValueError, match="shape"):
        simulate(s, np.zeros((3, 3)))


def test_window_starts_from_the_given_state():
    s = scenario(assets=(battery(max_cycles_per_day=1.0), battery(capacity_kwh=1000.0, p_charge_kw=500.0,
                                                                   p_discharge_kw=400.0)))
    w = s.window(1, 5, [1500.0, 300.0], [0.99, 1.0], [800.0, float("inf")])
    assert w.n_steps == 2 and w.prices.tolist() == s.prices[1:].tolist()
    assert w.assets[0].e0_kwh == pytest.approx(1500.0) and w.charge_budget_kwh[0] == pytest.approx(800.0)
    assert dataclasses.replace(w.assets[1], soc0=0.5) == s.assets[1]


# ------------------------------------------------------------------------------------------ batched step
def test_idle_rewards_are_what_the_zero_action_earns():
    s = scenario(terminal_value_eur_per_mwh=40.0, assets=(battery(max_cycles_per_day=1.0), battery(
        capacity_kwh=1000.0, p_charge_kw=500.0, p_discharge_kw=400.0, fade_per_cycle=1e-3)))
    state = FleetState(s)
    paid = []
    for _ in range(s.n_steps):
        out = state.step([0.0] * 6)
        paid.append(out.revenue_eur - out.degradation_eur + out.terminal_eur)
    idle = idle_rewards(s)
    assert idle.shape == (s.n_steps,) and idle.tolist() == paid


def _fleet(draw, n_steps: int) -> FleetScenario:
    """A small random fleet: 1-3 assets, 1-4 markets, states and limits that make every projection case likely."""
    n_assets, n_markets = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    fraction = st.floats(0.0, 1.0)
    assets = []
    for _ in range(n_assets):
        p_c, p_d = draw(st.sampled_from([0.0, 300.0, 1000.0])), draw(st.sampled_from([0.0, 400.0, 1000.0]))
        soc_min = draw(st.floats(0.0, 0.3))
        assets.append(battery(capacity_kwh=draw(st.sampled_from([500.0, 2000.0])), p_charge_kw=p_c,
                              p_discharge_kw=p_d, soc_min=soc_min, soc0=draw(st.floats(soc_min, 1.0)),
                              eta_charge=draw(st.floats(0.7, 1.0)), eta_discharge=draw(st.floats(0.7, 1.0)),
                              fade_per_cycle=draw(st.sampled_from([0.0, 1e-3])),
                              max_cycles_per_day=draw(st.sampled_from([None, 0.3, 1.0]))))
    directions = [draw(st.sampled_from(["up", "down"])) for _ in range(n_markets)]
    # round prequalifications (ties between an asset's up and down totals are common) or any share of the rating
    amount = st.sampled_from([0.0, 100.0, 200.0, 300.0]).map(lambda kw: ("kw", kw)) | fraction.map(lambda f: ("f", f))
    pq = np.zeros((n_assets, n_markets))
    for i, b in enumerate(assets):
        for m, d in enumerate(directions):
            rating = b.p_discharge_kw if d == "up" else b.p_charge_kw
            kind, v = draw(amount)
            pq[i, m] = min(v, rating) if kind == "kw" else v * rating
    prices = np.array([[draw(st.floats(-100.0, 300.0)) for _ in range(n_markets)] for _ in range(n_steps)])
    return FleetScenario(assets=tuple(assets), directions=tuple(directions), prices=prices, prequalified_kw=pq,
                         terminal_value_eur_per_mwh=draw(st.sampled_from([0.0, 40.0])),
                         dt_h=draw(st.sampled_from([1.0, 0.5, 0.3])))


@st.composite
def batches(draw):
    """Rows of one size: the same fleet in every row or each its own, and requests with ties, zeros and overs."""
    n_steps, rows = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    first = _fleet(draw, n_steps)
    if draw(st.booleans()):
        scenarios = [first] * rows
    else:
        scenarios = [first]
        while len(scenarios) < rows:
            s = _fleet(draw, n_steps)
            if (s.n_assets, s.n_markets, s.dt_h) == (first.n_assets, first.n_markets, first.dt_h):
                scenarios.append(s)
            else:
                scenarios.append(first)
    k = first.n_assets * first.n_markets
    share = st.sampled_from([-0.5, 0.0, 0.25, 0.5, 1.0, 1.5]) | st.floats(-0.2, 1.2)
    requests = [[[draw(share) for _ in range(k)] for _ in scenarios] for _ in range(n_steps)]
    late = [draw(st.integers(0, n_steps - 1)) for _ in scenarios]  # a row starts that many steps late
    return scenarios, requests, late


@settings(max_examples=150, deadline=None)
@given(batches())
def test_the_batched_step_is_the_scalar_step(case):
    """FleetBatch, row by row, gives FleetState's allocation, charge and discharge, money and next state: the
    projection with its tie rule (up on a tie) and uniform scaling, across fleets, rows that start late
    (inactive rows stay put and earn nothing) and the last step's terminal credit."""
    scenarios, requests, late = case
    n, n_steps = len(scenarios), scenarios[0].n_steps
    batch = FleetBatch.of(scenarios)
    states = [FleetState(s) for s in scenarios]
    for step in range(n_steps + max(late)):
        active = np.array([late[r] <= step < late[r] + n_steps for r in range(n)])
        if not active.any():
            continue
        shares = np.array([requests[min(step - late[r], n_steps - 1)][r] if active[r] else [9.0] * len(
            requests[0][0]) for r in range(n)])
        out = batch.step(shares, active)
        for r, state in enumerate(states):
            if not active[r]:
                assert out.revenue_eur[r] == 0.0 and not out.allocation_kw[r].any()
                continue
            want = state.step(shares[r].tolist())
            np.testing.assert_allclose(out.allocation_kw[r], want.allocation_kw, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(out.charge_kw[r], want.charge_kw, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(out.discharge_kw[r], want.discharge_kw, rtol=1e-12, atol=1e-9)
            for field in ("revenue_eur", "degradation_eur", "terminal_eur", "clipped_kw"):
                assert getattr(out, field)[r] == pytest.approx(getattr(want, field), rel=1e-12, abs=1e-9), field
            assert batch.energy_kwh[:, r].tolist() == pytest.approx(state.energy_kwh, rel=1e-12, abs=1e-9)
            assert batch.soh[:, r].tolist() == pytest.approx(state.soh, rel=1e-12)
            assert batch.budget_kwh[:, r].tolist() == pytest.approx(state.budget_kwh, rel=1e-12, abs=1e-9)
            assert batch.lo[:, r].tolist() == pytest.approx(state.lo, rel=1e-12, abs=1e-9)
            assert batch.hi[:, r].tolist() == pytest.approx(state.hi, rel=1e-12, abs=1e-9)
            assert int(batch.t[r]) == state.t


def test_the_batched_step_refuses_bad_input():
    s = scenario()
    batch = FleetBatch.of([s, s])
    with pytest.raises(ValueError, match=r"shares must have shape \(2, 6\)"):
        batch.step(np.zeros((2, 5)))
    for _ in range(s.n_steps):
        batch.step(np.zeros((2, 6)))
    with pytest.raises(RuntimeError, match="row 0's episode has ended"):
        batch.step(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"scenario has \(2, 3, 2\)"):
        batch.set_fleet([0], s.window(0, 2, [b.e0_kwh for b in s.assets], [1.0, 1.0], [0.0, 0.0]))
    with pytest.raises(ValueError, match="prices must have shape"):
        batch.set_prices([0], np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="n_assets must be a positive integer"):
        FleetBatch(2, 0, 3, 3, 1.0)
    with pytest.raises(ValueError, match="dt_h must be a positive number"):
        FleetBatch(2, 1, 3, 3, 0.0)
    with pytest.raises(RuntimeError, match="every row needs a fleet"):
        FleetBatch(2, 2, 3, 3, 1.0).restart([0])


def test_with_prices_keeps_the_fleet_and_checks_the_prices():
    s = scenario()
    other = s.with_prices(s.prices + 1.0, "2025-03-01T00:00")
    assert other.assets is s.assets and other.prequalified_kw is s.prequalified_kw and other.start == "2025-03-01T00:00"
    assert np.array_equal(other.prices, s.prices + 1.0) and not other.prices.flags.writeable
    assert np.allclose(other.value_eur_per_kwh, s.sign * (s.prices + 1.0) / 1000)
    fields = {f.name for f in dataclasses.fields(FleetScenario)} - {"prices", "start"}
    assert all(getattr(other, f) is getattr(s, f) or getattr(other, f) == getattr(s, f) for f in fields)
    with pytest.raises(ValueError, match=r"prices must have shape \(3, 3\)"):
        s.with_prices(np.zeros((2, 3)), s.start)
    with pytest.raises(ValueError, match="non-finite value inf at step 1, market 2"):
        bad = s.prices.copy()
        bad[1, 2] = np.inf
        s.with_prices(bad, s.start)
    with pytest.raises(ValueError, match="start must be an ISO timestamp"):
        s.with_prices(s.prices, "soon")
