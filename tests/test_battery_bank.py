"""BatteryBank steps many batteries with exactly the scalar model's equations."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.battery import BatteryBank, BatteryParams, power_bounds, step_battery

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
