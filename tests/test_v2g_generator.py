"""The V2G generator: seeded, drivers within the source's hours, prices matching the source's statistics."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from batterygym.core import v2g_generator as g
from batterygym.core.v2g import V2GScenario
from batterygym.core.v2g_generator import (
    PRICE_BOUNDS,
    SOURCE_STATS,
    V2GConfig,
    build_episodes,
    draw_episodes,
    episode_of,
    generate_quarter,
    generate_v2g,
)


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


# ------------------------------------------------------------------------------------------ what a seed means
def drawn_one_call_at_a_time(rng: np.random.Generator, cfg: V2GConfig) -> dict:
    """An episode as a seed has always meant it: every block drawn with its own ``rng`` call, in this order."""
    d, n = cfg.n_days, 24 * cfg.n_days
    offset = int(rng.integers(0, max(92 - d, 0) + 1)) if cfg.random_start else 0
    shape = (d, cfg.n_evs)
    out = {"arrival_hour": rng.integers(cfg.arrival_hours[0], cfg.arrival_hours[1] + 1, size=shape),
           "departure_hour": rng.integers(cfg.departure_hours[0], cfg.departure_hours[1] + 1, size=shape),
           "arrival_soc": rng.uniform(*cfg.arrival_soc, size=shape),
           "required_soc": rng.uniform(*cfg.required_soc, size=shape)}
    days = np.datetime64("2019-08-01") + np.timedelta64(offset, "D")
    weekend = ((days.astype(np.int64) + np.arange(d) - 4) % 7) >= 5
    level = np.exp(rng.normal(-0.5 * cfg.energy_day_sigma ** 2, cfg.energy_day_sigma, d))
    level *= np.where(weekend, 1.0 - cfg.weekend_discount, 1.0)
    eps = rng.normal(0.0, cfg.energy_noise, n)
    if n <= 168:  # the AR(1) path as a matrix product up to a week, else step by step
        noise = g._ar1_matrix(n) @ eps
    else:
        noise = np.empty(n)
        noise[0] = eps[0]
        for t in range(1, n):
            noise[t] = 0.7 * noise[t - 1] + np.sqrt(1.0 - 0.7 ** 2) * eps[t]
    st = SOURCE_STATS
    energy = np.clip((g._ENERGY_MEANS * level[:, None]).ravel() * (1.0 + noise), st["energy_min"], st["energy_max"])
    down = np.clip((g._DOWN_MEANS + rng.normal(0.0, cfg.down_noise_eur_per_mwh, (d, 24))).ravel(), 0.0,
                   st["down_max"])
    up = np.minimum((g._UP_NONZERO_MEANS * np.exp(rng.normal(-0.5 * cfg.up_sigma ** 2, cfg.up_sigma, (d, 24))))
                    .ravel(), st["up_max"])
    zero = rng.random((2, n))
    down[zero[0] < st["down_zero_share"]] = 0.0
    up[zero[1] < st["up_zero_share"]] = 0.0
    out.update(energy_price=energy.round(2), reg_up_price=up.round(2), reg_down_price=down.round(2), start=str(days))
    return out


@pytest.mark.parametrize("kw", [dict(n_evs=7), dict(n_evs=3, n_days=3), dict(n_evs=2, random_start=False),
                                dict(n_evs=4, n_days=9, arrival_soc=(0.1, 0.3), weekend_discount=0.3)])
def test_a_seed_means_the_episode_it_always_meant(kw):
    """Drawn in blocks and batched, the episode of a seed is the one drawn call by call, bit for bit."""
    cfg = V2GConfig(**kw)
    for seed in range(6):
        got = generate_v2g(np.random.default_rng(seed), cfg)
        want = drawn_one_call_at_a_time(np.random.default_rng(seed), cfg)
        for name, value in want.items():
            if isinstance(value, str):
                assert getattr(got, name) == value
            else:
                np.testing.assert_array_equal(getattr(got, name), value, err_msg=name)


def test_batched_draws_are_each_generators_episode_and_pass_the_checks():
    cfg = V2GConfig(n_evs=6, n_days=2)
    draws = draw_episodes([np.random.default_rng(s) for s in (3, 4, 5)], cfg)
    arrays = build_episodes(cfg, draws)
    for i, seed in enumerate((3, 4, 5)):
        one = generate_v2g(np.random.default_rng(seed), cfg)
        batched = episode_of(cfg, arrays, draws.offset, i)
        checked = V2GScenario(**{f.name: getattr(one, f.name) for f in dataclasses.fields(V2GScenario)})
        for f in dataclasses.fields(V2GScenario):
            a, b, c = getattr(one, f.name), getattr(batched, f.name), getattr(checked, f.name)
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b) and np.array_equal(a, c) and a.dtype == c.dtype, f.name
                assert not a.flags.writeable and not b.flags.writeable
            else:
                assert a == b == c, f.name
