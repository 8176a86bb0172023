"""The V2G generator: seeded, drivers within the source's hours, prices matching the source's statistics."""
from __future__ import annotations

import numpy as np
import pytest

from batterygym.core.v2g_generator import PRICE_BOUNDS, SOURCE_STATS, V2GConfig, generate_quarter, generate_v2g


def test_same_rng_state_same_episode():
    a = generate_v2g(np.random.default_rng(4), V2GConfig(n_evs=10, n_days=3))
    b = generate_v2g(np.random.default_rng(4), V2GConfig(n_evs=10, n_days=3))
    for name in ("arrival_hour", "departure_hour", "arrival_soc", "required_soc", "energy_price", "reg_up_price"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.start == b.start


def test_drivers_keep_the_sources_hours():
    s = generate_v2g(np.random.default_rng(0), V2GConfig(n_evs=200, n_days=5))
    assert set(np.unique(s.arrival_hour)) == {6, 7, 8, 9}
    assert set(np.unique(s.departure_hour)) == {16, 17, 18, 19}
    assert (s.arrival_soc >= 0.2).all() and (s.arrival_soc <= 0.8).all()
    assert (s.required_soc >= 0.8).all() and (s.required_soc <= 0.99).all()
    assert np.datetime64("2019-08-01") <= np.datetime64(s.start) <= np.datetime64("2019-10-27")


def test_a_generated_quarter_matches_the_sources_price_statistics():
    s = generate_quarter(seed=0)
    assert s.n_days == 92 and s.start == "2019-08-01"
    st = SOURCE_STATS
    e, up, dn = s.energy_price, s.reg_up_price, s.reg_down_price
    assert e.mean() == pytest.approx(st["energy_mean"], rel=0.05)
    assert e.min() >= st["energy_min"] and e.max() <= st["energy_max"]
    hourly = e.reshape(-1, 24).mean(axis=0)
    assert 3 <= int(np.argmin(hourly)) <= 6 and 19 <= int(np.argmax(hourly)) <= 21
    assert dn.mean() == pytest.approx(st["down_mean"], rel=0.05) and dn.max() <= st["down_max"]
    assert up.mean() == pytest.approx(st["up_mean"], rel=0.08)
    assert (up == 0).mean() == pytest.approx(st["up_zero_share"], abs=0.04)
    assert up[up > 0].mean() == pytest.approx(st["up_nonzero_mean"], rel=0.08) and up.max() <= st["up_max"]
    up_hourly = up.reshape(-1, 24).mean(axis=0)
    assert up_hourly[1:3].mean() < 0.7 * up_hourly[20:22].mean()
    for name, (lo, hi) in PRICE_BOUNDS.items():
        assert getattr(s, name).min() >= lo and getattr(s, name).max() <= hi
