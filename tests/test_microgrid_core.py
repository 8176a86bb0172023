"""The microgrid-BSS model in ``core``: invariants of the step (hypothesis), the generator, bad input."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterygym.core.battery import BatteryBank, BatteryParams, power_bounds
from batterygym.core.microgrid import (
    FULL_GAP_KWH,
    LIMIT_TOL_KW,
    MicrogridScenario,
    MicrogridState,
    cost_breakdown,
    idle_rewards,
    simulate,
)
from batterygym.core.microgrid_generator import MicrogridConfig, generate_microgrid, pv_shape, wind_power

CFG = MicrogridConfig()


def scenario(seed: int = 0, **kwargs) -> MicrogridScenario:
    return generate_microgrid(np.random.default_rng(seed), MicrogridConfig(**kwargs))


def check_step(s: MicrogridScenario, state: MicrogridState, action: list[float]) -> None:
    """One step with every invariant checked: balance, packs, service, windows, money."""
    t = state.t
    before = list(state.energy_kwh)
    full_before = [state.full_count(c) for c in range(s.n_categories)]
    out = state.step(action)
    q = s.slot_pack_kwh
    # requests: served + lost per category; served only while full packs last, all served if enough
    for c in range(s.n_categories):
        n_req = len(s.requests_by_hour[t][c])
        assert out.served[c] + out.lost[c] == n_req
        assert out.served[c] == min(n_req, full_before[c])
    # a served swap always took a full pack; its slot now holds the arriving pack (charged after)
    assert len(set(out.served_slots)) == len(out.served_slots)
    for j in out.served_slots:
        assert before[j] == q[j]
    # slot windows: full exactly, or at least FULL_GAP_KWH below; charge within 1C (+ rounding)
    for j in range(s.n_slots):
        e = state.energy_kwh[j]
        assert e == q[j] or 0.0 <= e <= q[j] - FULL_GAP_KWH + 1e-12
        assert 0.0 <= out.station_kw[j] <= s.slot_max_kw[j] + 1e-5
        assert out.fast_kw[j] == pytest.approx(max(0.0, out.station_kw[j] - s.slot_standard_kw[j]), abs=1e-12)
        if before[j] == q[j] and j not in out.served_slots:
            assert out.station_kw[j] == 0.0 and e == q[j]
    # storage: SoC window on the fading capacity, never both directions
    for k, b in enumerate(s.storage):
        cap = state.soh[k] * b.capacity_kwh
        assert b.soc_min * cap - 1e-9 <= state.storage_kwh[k] <= b.soc_max * cap + 1e-9
    # energy balance: renewables + discharge + grid + unserved = load + station + storage charge + curtailed
    charge = sum(p for p in out.storage_kw if p > 0)
    discharge = -sum(p for p in out.storage_kw if p < 0)
    lhs = s.res_kw[t] + discharge + out.grid_kw + out.unserved_kw
    rhs = s.load_kw[t] + sum(out.station_kw) + charge + out.curtailed_kw
    assert lhs == pytest.approx(rhs, abs=1e-7)
    assert out.grid_kw >= 0 and out.unserved_kw >= 0 and out.curtailed_kw >= 0
    if s.off_grid:
        assert out.grid_kw == 0.0 and out.unserved_kw <= s.load_kw[t] + LIMIT_TOL_KW
    else:
        assert out.unserved_kw == 0.0 and out.grid_kw <= s.import_limit_kw + LIMIT_TOL_KW
    parts = (out.swap_revenue_eur - out.lost_penalty_eur + out.resident_revenue_eur - out.grid_cost_eur
             - out.unserved_cost_eur - out.pack_wear_eur - out.fast_charge_eur - out.storage_wear_eur
             + out.terminal_eur)
    assert out.reward == pytest.approx(parts, rel=1e-12, abs=1e-9)
    assert math.isfinite(out.reward)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), off_grid=st.booleans(), policy=st.sampled_from(["uniform", "extreme", "full"]))
def test_every_step_keeps_balance_packs_service_and_windows(seed, off_grid, policy):
    s = scenario(seed % 50, off_grid=off_grid, import_limit_kw=520.0 if not off_grid else 600.0)
    rng = np.random.default_rng(seed)
    state = MicrogridState(s)
    for _ in range(s.n_steps):
        if policy == "uniform":
            a = rng.uniform(-1.2, 1.2, s.action_dim)
        elif policy == "extreme":
            a = rng.choice([-1.0, 0.0, 1.0, 0.2, 0.99999], s.action_dim)
        else:
            a = np.ones(s.action_dim)
        check_step(s, state, a.tolist())
    assert state.t == s.n_steps


def test_a_charge_that_fills_exactly_ends_full_and_near_misses_snap():
    s = scenario(3)
    state = MicrogridState(s)
    j = next(j for j in range(s.n_slots) if s.slot_e0_kwh[j] < s.slot_pack_kwh[j])
    q, e = s.slot_pack_kwh[j], float(s.slot_e0_kwh[j])
    need = (q - e) / s.pack_eta
    if need > s.slot_max_kw[j]:
        pytest.skip("this slot needs more than an hour")
    gap = FULL_GAP_KWH / s.pack_eta
    cases = [(need, q), (need - 0.3 * gap, q), (need - 0.7 * gap, q - FULL_GAP_KWH),
             (0.5 * need, e + s.pack_eta * 0.5 * need)]
    for want, expect in cases:
        state.reset()
        a = [0.0] * s.action_dim
        a[j] = want / s.slot_max_kw[j]
        # no request of this category at hour 0 may take the pack: check only if none arrive
        if s.requests_by_hour[0][s.slot_category[j]]:
            pytest.skip("a request at hour 0 in this category")
        state.step(a)
        assert state.energy_kwh[j] == pytest.approx(expect, abs=1e-9)
        if expect == q:
            assert state.energy_kwh[j] == q


def test_import_limit_scales_charging_down_and_off_grid_sheds_load():
    s = scenario(1, import_limit_kw=470.0)
    state = MicrogridState(s)
    for _ in range(s.n_steps):
        out = state.step([1.0] * s.action_dim)
        assert out.grid_kw <= 470.0 + LIMIT_TOL_KW
    s = scenario(1, off_grid=True)
    state = MicrogridState(s)
    shed = 0.0
    for _ in range(s.n_steps):
        out = state.step([1.0] * s.action_dim)
        shed += out.unserved_kw
        assert out.grid_kw == 0.0 and out.unserved_cost_eur == pytest.approx(s.voll_eur_per_kwh * out.unserved_kw)
    assert shed > 0


def test_simulate_matches_the_state_and_metrics_are_shares():
    s = scenario(2)
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (s.n_steps, s.action_dim))
    state = MicrogridState(s)
    total = sum(state.step(a.tolist()).reward for a in acts)
    df = simulate(s, acts)
    assert df["reward"].sum() == pytest.approx(total, rel=1e-12)
    b = cost_breakdown(df)
    for key in ("swaps_served_share", "renewable_share", "storage_share"):
        assert 0.0 <= b[key] <= 1.0
    assert b["swaps_requested"] == s.n_requests
    assert b["profit_eur"] == pytest.approx(total)
    with pytest.raises(ValueError, match="shape"):
        simulate(s, acts[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        simulate(s, np.full_like(acts, np.nan))


def test_generator_draws_only_from_its_rng_and_follows_the_source():
    a, b = scenario(5), scenario(5)
    assert a.start == b.start and np.array_equal(a.swap_soc, b.swap_soc) and np.array_equal(a.load_kw, b.load_kw)
    c = scenario(6)
    assert not np.array_equal(a.load_kw, c.load_kw)
    s = scenario(7, n_days=3)
    h = np.arange(s.n_steps) % 24
    assert (s.pv_kw[(h < 5) | (h >= 20)] == 0).all() and s.pv_kw.max() <= CFG.pv_kwp
    assert (s.wind_kw >= 0).all() and s.wind_kw.max() <= CFG.wind_rated_kw
    assert ((s.swap_soc >= 0.2) & (s.swap_soc <= 0.8)).all()
    assert 0.6 <= min(b.soh0 for b in s.storage) and max(b.soh0 for b in s.storage) <= 0.8
    assert s.grid_price_eur_per_kwh == pytest.approx(0.9 * s.tariff_eur_per_kwh)
    assert s.load_kw.max() <= s.import_limit_kw
    # about swaps_per_day requests a day
    counts = [scenario(i).n_requests for i in range(30)]
    assert 30 < np.mean(counts) < 42
    assert pv_shape(24)[12] == pytest.approx(math.sin(math.pi * 7.5 / 15))
    assert list(wind_power(np.array([2.0, 3.5, 13.0, 20.0, 26.0]), CFG)) == [0.0, 0.0, 500.0, 500.0, 0.0]


def base_kwargs() -> dict:
    s = scenario(0)
    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}


@pytest.mark.parametrize(("change", "match"), [
    ({"pack_kwh": (24.0, -1.0, 52.0, 75.0)}, "pack_kwh\\[1\\]"),
    ({"n_packs": (3, 3, 4)}, "same length"),
    ({"categories": ("A", "A", "C", "D")}, "unique"),
    ({"slot_e0_kwh": np.r_[23.9995, np.zeros(11)]}, "slot_e0_kwh\\[0\\]"),
    ({"load_kw": np.r_[np.nan, np.ones(23)]}, "load_kw has a non-finite"),
    ({"pv_kw": -np.ones(24)}, "pv_kw must be non-negative"),
    ({"wind_kw": np.ones(23)}, "wind_kw has 23 values"),
    ({"expected_swaps": np.ones((24, 3))}, "expected_swaps must have shape"),
    ({"swap_hour": np.r_[5, 4], "swap_category": np.r_[0, 0], "swap_soc": np.r_[0.5, 0.5]}, "non-decreasing"),
    ({"swap_hour": np.r_[30], "swap_category": np.r_[0], "swap_soc": np.r_[0.5]}, "swap_hour\\[0\\]"),
    ({"swap_hour": np.r_[3], "swap_category": np.r_[7], "swap_soc": np.r_[0.5]}, "swap_category\\[0\\]"),
    ({"swap_hour": np.r_[3], "swap_category": np.r_[0], "swap_soc": np.r_[0.99999]}, "swap_soc\\[0\\]"),
    ({"swap_hour": np.r_[3, 4], "swap_category": np.r_[0], "swap_soc": np.r_[0.5]}, "same length"),
    ({"import_limit_kw": 100.0}, "import_limit_kw = 100.0 cannot cover load_kw"),
    ({"pack_eta": 0.0}, "pack_eta"),
    ({"standard_c_rate": 2.0}, "standard_c_rate"),
    ({"swap_fee_eur": -1.0}, "swap_fee_eur"),
    ({"storage": (BatteryParams(calendar_fade_per_day=0.001, max_cycles_per_day=None),)}, "calendar_fade"),
    ({"storage": (BatteryParams(),)}, "max_cycles_per_day"),
    ({"off_grid": "yes"}, "off_grid"),
    ({"start": "tomorrow"}, "start"),
])
def test_bad_scenarios_name_the_field_and_value(change, match):
    kwargs = base_kwargs()
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        MicrogridScenario(**kwargs)


def test_off_grid_needs_no_import_limit_and_the_state_rejects_bad_requests():
    kwargs = base_kwargs()
    kwargs.update(import_limit_kw=10.0, off_grid=True)
    s = MicrogridScenario(**kwargs)
    state = MicrogridState(s)
    with pytest.raises(ValueError, match="expected 16"):
        state.step([0.0] * 3)
    for _ in range(s.n_steps):
        state.step([0.0] * s.action_dim)
    with pytest.raises(RuntimeError, match="ended"):
        state.step([0.0] * s.action_dim)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_days": 0}, "n_days"), ({"demand_shares": (0.5, 0.5, 0.5, 0.5)}, "sum to 1"),
    ({"n_packs": (1, 2)}, "one value per category"), ({"wind_cut_in": 15.0}, "cut_in < rated"),
    ({"import_limit_kw": 300.0}, "import_limit_kw"), ({"soc_arrive_max": 1.0}, "arriving SoC"),
    ({"layout_seed": -1}, "layout_seed"), ({"pack_eta": 1.5}, "pack_eta"),
])
def test_bad_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MicrogridConfig(**kwargs)
    with pytest.raises(TypeError, match="unknown microgrid option"):
        MicrogridConfig.from_kwargs(colour="red")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), soc=st.floats(0.0, 1.0), soh_drop=st.floats(0.0, 0.05),
       fresh=st.booleans())
def test_storage_bounds_are_the_shared_battery_models(seed, soc, soh_drop, fresh):
    """The state's storage interval is ``power_bounds``/``BatteryBank.bounds`` for any energy and SoH, the
    window's edges and beyond included (a ceiling above the energy forces a discharge)."""
    s = scenario(seed % 20, layout_seed=None if fresh else 0)
    state = MicrogridState(s)
    bank = BatteryBank.of(s.storage)
    caps = np.array([b.capacity_kwh for b in s.storage])
    soh = np.array([b.soh0 for b in s.storage]) - soh_drop
    e = np.minimum(soc, 0.999) * soh * caps
    state.storage_kwh, state.soh = e.tolist(), soh.tolist()
    lo_b, hi_b = bank.bounds(e, soh, 1.0, np.array([b.p_charge_kw for b in s.storage]),
                             np.array([b.p_discharge_kw for b in s.storage]))
    for k, b in enumerate(s.storage):
        lo, hi = state._bounds(k)
        assert (lo, hi) == power_bounds(b, e[k], soh[k], 1.0, b.p_charge_kw, b.p_discharge_kw, math.inf)
        assert lo == pytest.approx(lo_b[k], abs=1e-12) and hi == pytest.approx(hi_b[k], abs=1e-12)
        assert lo <= hi


@pytest.mark.parametrize("kwargs", [{}, {"off_grid": True}, {"n_packs": (1, 0, 2, 5), "swaps_per_day": 120.0},
                                    {"n_days": 2, "terminal_value": False}])
def test_idle_rewards_are_the_rewards_of_zero_actions(kwargs):
    for seed in range(4):
        s = scenario(seed, **kwargs)
        replay = simulate(s, np.zeros((s.n_steps, s.action_dim)))["reward"].to_numpy()
        np.testing.assert_allclose(idle_rewards(s), replay, rtol=1e-12, atol=1e-9)


def test_generated_scenarios_pass_the_checks_they_skip():
    """A generated scenario is built without re-checking its fields: checking them finds them valid and equal."""
    for kwargs in ({}, {"off_grid": True, "layout_seed": None}):
        s = scenario(3, **kwargs)
        checked = dataclasses.replace(s)  # runs __post_init__
        for f in dataclasses.fields(s):
            a, b = getattr(s, f.name), getattr(checked, f.name)
            if isinstance(a, np.ndarray):
                assert not a.flags.writeable and a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
            else:
                assert a == b and type(a) is type(b), f.name
        np.testing.assert_array_equal(s.res_kw, checked.res_kw)
        np.testing.assert_array_equal(s.deficit_limit_kw, checked.deficit_limit_kw)
    with pytest.raises(ValueError, match="unknown \\['colour'\\]"):
        MicrogridScenario._from_valid(colour=1, **base_kwargs())


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_packs": (0, 0, 0, 0)}, "at least one pack"), ({"pack_kwh": (24.0, 40.0, 0.005, 75.0)}, "pack_kwh must exceed"),
    ({"categories": ("A", "B", "B", "D")}, "unique"),
])
def test_configs_a_scenario_would_refuse_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MicrogridConfig(**kwargs)
