"""BatteryBank steps many batteries with exactly the scalar model's equations."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.battery import (
    BatteryBank,
    BatteryParams,
    bounds_batch,
    bounds_of,
    coefficients,
    power_bounds,
    power_of_share,
    powers_of_shares,
    share_of_power,
    shares_of_powers,
    step_battery,
)

battery = st.builds(
    BatteryParams,
    capacity_kwh=st.floats(1, 1000),
    p_charge_kw=st.floats(0, 500),
    p_discharge_kw=st.floats(0, 500),
    eta_charge=st.floats(0.5, 1),
    eta_discharge=st.floats(0.5, 1),
    soh0=st.floats(0.5, 1),
    calendar_fade_per_day=st.sampled_from([0.0, 1e-4, 0.01]),
    fade_per_cycle=st.floats(0, 1e-3),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(battery, min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_bank_matches_the_scalar_model(params, seed):
    rng = np.random.default_rng(seed)
    bank = BatteryBank.of(params)
    e = np.array([rng.uniform(p.soc_min, p.soc_max) * p.soh0 * p.capacity_kwh for p in params])
    soh = bank.soh0()
    cmax, dmax, budget = rng.uniform(0, 300, bank.n), rng.uniform(0, 300, bank.n), rng.uniform(0, 200, bank.n)
    lo, hi = bank.bounds(e, soh, 0.5, cmax, dmax, budget)
    power = rng.uniform(lo, hi)
    e_next, soh_next = bank.step(e, soh, power, 0.5)
    for i, p in enumerate(params):
        lo_i, hi_i = power_bounds(p, e[i], soh[i], 0.5, cmax[i], dmax[i], budget[i])
        assert lo[i] == pytest.approx(lo_i, rel=1e-12, abs=1e-12)
        assert hi[i] == pytest.approx(hi_i, rel=1e-12, abs=1e-12)
        e_i, soh_i = step_battery(p, e[i], soh[i], power[i], 0.5)
        assert e_next[i] == pytest.approx(e_i, rel=1e-12, abs=1e-12)
        assert soh_next[i] == pytest.approx(soh_i, rel=1e-12, abs=1e-15)


def test_an_empty_bank_is_refused():
    with pytest.raises(ValueError, match="BatteryParams"):
        BatteryBank.of([])


@settings(max_examples=60, deadline=None)
@given(st.lists(battery, min_size=1, max_size=6), st.integers(0, 2**32 - 1), st.sampled_from([0.25, 1.0, 1.5]))
def test_bounds_batch_is_bounds_of_bit_for_bit_also_at_the_edges(params, seed, dt):
    """The batched bounds equal the scalar ones exactly, also at the floor, the ceiling (and above it by
    rounding or calendar fade), with no budget left and with zero ratings."""
    rng = np.random.default_rng(seed)
    bank = BatteryBank.of(params)
    cap = bank.capacity_kwh * bank.soh0()
    edges = np.array([bank.soc_min[0], bank.soc_max[0], bank.soc_max[0] + 1e-13, 0.5])
    share = np.where(rng.random(bank.n) < 0.5, rng.choice(edges, bank.n), rng.uniform(0.0, 1.0, bank.n))
    e = np.clip(share, 0.0, 1.0) * cap
    soh = bank.soh0()
    cmax = rng.choice([0.0, 50.0, 1e4], bank.n)
    dmax = rng.choice([0.0, 50.0, 1e4], bank.n)
    budget = rng.choice([0.0, 1.0, np.inf], bank.n)
    k_all = bank.coefficients(dt)
    lo, hi = bounds_batch(k_all, e, soh, cmax, dmax, budget)
    for i, p in enumerate(params):
        lo_i, hi_i = bounds_of(coefficients(p, dt), float(e[i]), float(soh[i]), float(cmax[i]), float(dmax[i]),
                               float(budget[i]))
        assert (lo[i], hi[i]) == (lo_i, hi_i)
        assert lo_i <= hi_i


RATING = st.one_of(st.just(0.0), st.floats(1e-3, 500.0))


@given(st.floats(-1.0, 1.0), RATING, RATING)
def test_share_maps_scalar_batched_and_inverse(a, p_charge, p_discharge):
    p = power_of_share(a, p_charge, p_discharge)
    assert powers_of_shares(np.array([a]), p_charge, p_discharge)[0] == p
    back = share_of_power(p, p_charge, p_discharge)
    assert shares_of_powers(np.array([p]), p_charge, p_discharge)[0] == back
    if p != 0.0:  # a share that asks for power comes back from it, on the same side
        assert back == pytest.approx(a, rel=1e-12)
        assert (p > 0) == (a > 0)
    else:
        assert back == 0.0
    assert abs(p) <= (p_charge if a > 0 else p_discharge)
