"""Fleet episodes from a seed, and fleet prices from CSV files: determinism, realism bounds, validation."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.fleet_generator import (
    FleetConfig,
    MarketSteps,
    PriceDraws,
    draw_episodes,
    episode_prices,
    fixed_layout,
    generate_fleet,
    generate_layout,
    start_of,
)
from batterygym.core.fleet_io import load_fleet_csv, load_fleet_prices, write_example_fleet_csv


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 8), st.integers(1, 6), st.integers(1, 3))
def test_generated_episodes_are_valid_and_deterministic(seed, n_assets, n_markets, days):
    cfg = FleetConfig(n_assets=n_assets, n_markets=n_markets, n_days=days, layout_seed=seed % 7)
    a = generate_fleet(np.random.default_rng(seed), cfg, fixed_layout(cfg))
    b = generate_fleet(np.random.default_rng(seed), cfg, fixed_layout(cfg))
    assert np.array_equal(a.prices, b.prices) and a.start == b.start and a.assets == b.assets
    assert a.prices.shape == (24 * days, n_markets)
    assert (a.prices >= cfg.price_floor_eur_per_mwh).all() and (a.prices <= cfg.price_cap_eur_per_mwh).all()
    ups = sum(d == "up" for d in a.directions)
    assert ups == (n_markets + 1) // 2  # half up, half down
    for i, b_ in enumerate(a.assets):
        assert cfg.power_kw_min <= b_.p_discharge_kw <= cfg.power_kw_max
        assert cfg.round_trip_min - 1e-12 <= b_.eta_charge * b_.eta_discharge <= cfg.round_trip_max + 1e-12
        for side in (True, False):  # prequalified in at least one market of each direction there is
            if (a.is_up == side).any():
                assert (a.prequalified_kw[i, a.is_up == side] > 0).any()


def test_layout_seed_fixes_the_fleet_and_none_draws_it_per_episode():
    cfg = FleetConfig()
    s1 = generate_fleet(np.random.default_rng(1), cfg, fixed_layout(cfg))
    s2 = generate_fleet(np.random.default_rng(2), cfg, fixed_layout(cfg))
    assert s1.assets == s2.assets and np.array_equal(s1.prequalified_kw, s2.prequalified_kw)
    assert not np.array_equal(s1.prices, s2.prices)
    free = FleetConfig(layout_seed=None)
    assert fixed_layout(free) is None
    f1 = generate_fleet(np.random.default_rng(1), free)
    f2 = generate_fleet(np.random.default_rng(2), free)
    assert f1.assets != f2.assets


def test_given_directions_keep_the_same_assets():
    cfg = FleetConfig()
    drawn = fixed_layout(cfg)
    flipped = tuple("down" if d == "up" else "up" for d in drawn.directions)
    other = generate_layout(np.random.default_rng(cfg.layout_seed), cfg, flipped)
    assert other.directions == flipped and other.assets == drawn.assets


def test_prices_have_a_daily_shape():
    """Averaged over many days, the evening peak is dearer than the night trough and the summer midday."""
    cfg = FleetConfig(n_days=1, random_start=False)
    layout = fixed_layout(cfg)
    rng = np.random.default_rng(0)
    mean = np.mean([generate_fleet(rng, cfg, layout).prices.mean(axis=1) for _ in range(200)], axis=0)
    assert mean[19] > 1.2 * mean[3]
    assert mean[19] > mean[13]


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(n_assets=0), "n_assets must be a positive integer"),
    (dict(n_markets=2.5), "n_markets must be a positive integer"),
    (dict(dt_h=0.7), "dt_h must divide 24 hours"),
    (dict(layout_seed=-1), "layout_seed must be a non-negative integer or None"),
    (dict(directions=("up", "down")), "directions must list 4"),
    (dict(directions=("up", "down", "left", "up")), "directions must be 'up' or 'down', got 'left'"),
    (dict(power_kw_max=500.0), "power_kw_max must be >= power_kw_min"),
    (dict(durations_h=()), "durations_h must be a non-empty list"),
    (dict(round_trip_min=0.0), "round_trip_min must be in"),
    (dict(soc_min=0.9, soc_max=0.5), "soc_min must be below soc_max"),
    (dict(price_floor_eur_per_mwh=600.0), "price_floor_eur_per_mwh .* must be below"),
    (dict(premium_max=1.5), r"premium_max must be in \[0, 1\]"),
])
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FleetConfig(**kwargs)


def test_unknown_option_is_named():
    with pytest.raises(TypeError, match="unknown fleet option.*n_asset"):
        FleetConfig.from_kwargs(n_asset=3)


# ------------------------------------------------------------------------------------------ CSV
def test_csv_round_trip(tmp_path):
    path = tmp_path / "prices.csv"
    written = write_example_fleet_csv(path, seed=4, days=2, n_markets=3)
    loaded = load_fleet_csv(path, n_markets=3)
    assert np.array_equal(loaded.prices, written.prices)
    assert loaded.directions == written.directions and loaded.market_names == written.market_names
    assert loaded.assets == written.assets and np.array_equal(loaded.prequalified_kw, written.prequalified_kw)
    assert loaded.start == written.start and loaded.dt_h == 1.0


def test_csv_directions_given_explicitly(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("timestamp,fcr,afrr_plus,afrr_minus,note\n2025-01-01T00:00,10,20,5,x\n2025-01-01T01:00,11,21,6,y\n")
    start, dt, names, dirs, prices = load_fleet_prices(path, {"afrr_plus": "up", "afrr_minus": "down"})
    assert names == ("afrr_plus", "afrr_minus") and dirs == ("up", "down") and prices.tolist() == [[20, 5], [21, 6]]
    path.write_text("timestamp,a,b\n2025-01-01T00:00,10,20\n2025-01-01T01:00,11,21\n")
    assert load_fleet_prices(path, "up,down")[3] == ("up", "down")
    s = load_fleet_csv(path, ["down", "up"], n_assets=2)
    assert s.n_assets == 2 and s.directions == ("down", "up")


@pytest.mark.parametrize(("text", "directions", "message"), [
    ("timestamp,a_up\n", None, "no data rows"),
    ("time,a_up\n2025-01-01T00:00,1\n", None, "missing column 'timestamp'"),
    ("timestamp,price\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n", None, "column 'price' does not say its direction"),
    ("timestamp,a,b\n2025-01-01T00:00,1,2\n2025-01-01T01:00,1,2\n", ["up"], "1 direction.* for 2 market column"),
    ("timestamp,a\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n", ["sideways"], "market 'a' has direction 'sideways'"),
    ("timestamp,a_up\n2025-01-01T00:00,1\n2025-01-01T01:00,one\n", None, "'a_up', line 3: 'one' is not a number"),
    ("timestamp,a_up\n2025-01-01T00:00,1\n2025-01-01T01:00,nan\n", None, "line 3: 'nan' is not a finite number"),
    ("timestamp,a_up\n2025-01-01T00:00,1\n2025-01-01T02:00,1\n2025-01-01T03:00,1\n", None, "irregular spacing"),
    ("timestamp,a_up,b_down\n2025-01-01T00:00,1\n2025-01-01T01:00,1,2\n", None, "line 2 has 2 field"),
    ("timestamp,a_up\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n", {"b_up": "up"}, "missing market column 'b_up'"),
])
def test_bad_csv_names_file_column_value_and_line(tmp_path, text, directions, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        load_fleet_csv(path, directions)
    assert str(path) in str(err.value)


def test_missing_csv_and_mixed_fleet_options(tmp_path):
    with pytest.raises(FileNotFoundError, match="fleet price CSV not found"):
        load_fleet_csv(tmp_path / "absent.csv")
    path = tmp_path / "p.csv"
    write_example_fleet_csv(path)
    with pytest.raises(ValueError, match="give both assets and prequalified_kw"):
        load_fleet_csv(path, assets=fixed_layout(FleetConfig()).assets)
    with pytest.raises(ValueError, match="needs a fixed layout_seed"):
        load_fleet_csv(path, layout_seed=None)


# ------------------------------------------------------------------------------------------ batches
@pytest.mark.parametrize("kwargs", [dict(), dict(n_days=2, dt_h=0.5, n_markets=3), dict(layout_seed=None),
                                    dict(random_start=False, year=2024, n_markets=1)])
def test_episodes_built_in_a_batch_are_the_episodes_built_one_by_one(kwargs):
    """Each episode's numbers drawn from its own generator, all prices built at once: the same prices and start
    as generate_fleet from that generator, and the generators end in the same state (their next episodes agree)."""
    cfg = FleetConfig(**kwargs)
    fixed = fixed_layout(cfg)
    seeds = list(range(40, 70))
    rngs = [np.random.default_rng(s) for s in seeds]
    layouts = [fixed or generate_layout(rng, cfg) for rng in rngs]
    draws = PriceDraws.empty(len(seeds), cfg, cfg.n_markets)
    draw_episodes(rngs, cfg, draws)
    if fixed is not None:
        markets = fixed.markets(cfg)
    else:
        markets = MarketSteps.of(cfg, *(np.stack([getattr(lay, f) for lay in layouts])
                                        for f in ("premium", "volatility", "spike_prob", "sign")))
    prices = episode_prices(cfg, draws, markets)
    for j, seed in enumerate(seeds):
        one = np.random.default_rng(seed)
        s = generate_fleet(one, cfg, fixed)
        assert np.array_equal(prices[j], s.prices) and start_of(cfg, int(draws.start_day[j])) == s.start
        assert layouts[j].assets == s.assets
        assert one.random() == rngs[j].random()


def test_episodes_of_a_layout_share_its_checked_fleet():
    cfg = FleetConfig()
    layout = fixed_layout(cfg)
    a = generate_fleet(np.random.default_rng(1), cfg, layout)
    assert a.bank is a.bank  # derived once ...
    b = generate_fleet(np.random.default_rng(2), cfg, layout)
    assert b.assets is a.assets and b.prequalified_kw is a.prequalified_kw and b.bank is a.bank  # ... for all
    assert not np.array_equal(a.prices, b.prices) and not b.prices.flags.writeable
    assert layout.markets(cfg) is layout.markets(cfg)
    assert start_of(cfg, 0) == "2025-01-01T00:00" and start_of(cfg, 31) == "2025-02-01T00:00"
