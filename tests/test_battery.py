"""The shared battery model (core/battery.py): the projection keeps every step physical, the update is exact."""
from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from batterygym.core.battery import BatteryParams, power_bounds, step_battery

PROPS = settings(max_examples=60, deadline=None)
DTS = (0.25, 0.5, 1.0)


def tol(b: BatteryParams) -> float:
    """Absolute energy tolerance (kWh): float rounding on a pack of ``capacity_kwh``."""
    return 1e-9 * max(1.0, b.capacity_kwh)


@st.composite
def batteries(draw, calendar: bool = True) -> BatteryParams:
    """Any valid battery: wide but physical ranges, corner values included."""
    soc_min = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.5)))
    soc_max = draw(st.one_of(st.just(1.0), st.floats(soc_min + 0.05, 1.0)))
    capacity = draw(st.floats(1.0, 5000.0))
    return BatteryParams(
        capacity_kwh=capacity,
        p_charge_kw=draw(st.floats(0.0, 3.0)) * capacity,
        p_discharge_kw=draw(st.floats(0.0, 3.0)) * capacity,
        eta_charge=draw(st.one_of(st.just(1.0), st.floats(0.5, 1.0))),
        eta_discharge=draw(st.one_of(st.just(1.0), st.floats(0.5, 1.0))),
        soc_min=soc_min,
        soc_max=soc_max,
        soc0=draw(st.floats(soc_min, soc_max)),
        soh0=draw(st.floats(0.5, 1.0)),
        degradation_cost_per_kwh=draw(st.floats(0.0, 0.1)),
        fade_per_cycle=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.01))),
        calendar_fade_per_day=draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-3))) if calendar else 0.0,
        max_cycles_per_day=draw(st.one_of(st.none(), st.floats(0.0, 3.0))),
    )


def forced_discharge_kw(b: BatteryParams, dt: float) -> float:
    """Largest discharge calendar fade can force in one step (what IndustrialScenario requires the site to take)."""
    need = b.soc_max * b.capacity_kwh * b.calendar_fade(dt)
    return need / (dt * (1.0 / b.eta_discharge - 0.5 * b.soc_max * b.fade_per_cycle))


def window(b: BatteryParams, soh: float) -> tuple[float, float]:
    return b.soc_min * b.capacity_kwh * soh, b.soc_max * b.capacity_kwh * soh


@PROPS
@given(
    b=batteries(),
    dt=st.sampled_from(DTS),
    actions=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=60),
    site_charge=st.floats(0.0, 2.0),
    site_discharge=st.floats(0.0, 2.0),
)
def test_projected_steps_stay_physical(b, dt, actions, site_charge, site_discharge):
    """Project a request with power_bounds, step with step_battery: every invariant of DESIGN.md holds."""
    charge_max = min(b.p_charge_kw, site_charge * b.capacity_kwh)
    discharge_max = min(b.p_discharge_kw, site_discharge * b.capacity_kwh)
    # scenario validation guarantees the site can take a discharge forced by calendar fade; so do we
    assume(discharge_max >= forced_discharge_kw(b, dt))
    eps = tol(b)
    days = len(actions) * dt / 24.0
    budget0 = b.charge_budget_kwh(days)
    budget = budget0
    e, soh = b.e0_kwh, b.soh0
    charged = 0.0
    for a in actions:
        lo, hi = power_bounds(b, e, soh, dt, charge_max, discharge_max, budget)
        assert lo <= hi + 1e-12 * max(1.0, abs(lo))
        if b.calendar_fade_per_day == 0.0:
            # 0 is inside up to float rounding at a bound (exactly: see test_idle_is_feasible_at_the_ceiling)
            assert lo <= 0.0 <= hi + 1e-12 * max(1.0, b.capacity_kwh)
        assert hi <= charge_max + 1e-12 and -lo <= discharge_max + 1e-12
        assert hi * dt <= budget + eps or hi <= 0.0
        p_req = a * (b.p_charge_kw if a > 0 else b.p_discharge_kw)
        p = min(max(p_req, lo), hi)
        c, d = max(p, 0.0), max(-p, 0.0)

        e_next, soh_next = step_battery(b, e, soh, p, dt)

        # energy balance: E' - E = eta_c c dt - d dt / eta_d
        assert e_next - e == pytest.approx(b.eta_charge * c * dt - d * dt / b.eta_discharge, rel=1e-12, abs=eps)
        # state of health never rises and falls by exactly fade * throughput + calendar fade
        assert soh_next <= soh
        assert soh - soh_next == pytest.approx(b.fade_per_kwh * (c + d) * dt + b.calendar_fade(dt), rel=1e-9, abs=1e-15)
        # the next energy lies in the next step's (faded) SoC window
        floor, ceiling = window(b, soh_next)
        assert floor - eps <= e_next <= ceiling + eps
        # the interval is tight: a bound that is not a power or budget limit is the SoC window itself
        if hi < min(charge_max, budget / dt) - 1e-9 * max(1.0, charge_max):
            e_hi, soh_hi = step_battery(b, e, soh, hi, dt)
            assert e_hi == pytest.approx(window(b, soh_hi)[1], abs=1e-8 * max(1.0, b.capacity_kwh))
        if -lo < discharge_max - 1e-9 * max(1.0, discharge_max):
            e_lo, soh_lo = step_battery(b, e, soh, lo, dt)
            assert e_lo == pytest.approx(window(b, soh_lo)[0], abs=1e-8 * max(1.0, b.capacity_kwh))

        charged += c * dt
        if c > 0:
            budget = max(budget - c * dt, 0.0)
        e, soh = e_next, soh_next
    # the episode's charge budget (cycle cap) is never exceeded
    assert charged <= budget0 + eps


@PROPS
@given(b=batteries(calendar=False), dt=st.sampled_from(DTS), share=st.floats(0.0, 1.0), budget=st.floats(0.0, 1e4))
def test_interval_contains_zero_without_calendar_fade(b, dt, share, budget):
    """Any state inside the window (not only the initial one) can stay idle when there is no calendar fade."""
    soh = b.soh0
    floor, ceiling = window(b, soh)
    e = floor + share * (ceiling - floor)
    lo, hi = power_bounds(b, e, soh, dt, b.p_charge_kw, b.p_discharge_kw, budget)
    assert lo <= 0.0 <= hi


@PROPS
@given(b=batteries(), dt=st.sampled_from(DTS), share=st.floats(0.0, 1.0), x=st.floats(-1.0, 1.0),
       budget=st.floats(0.0, 1e4))
def test_feasible_power_is_inside_the_interval(b, dt, share, x, budget):
    """The projection leaves a feasible power unchanged: every power that keeps the next state in the
    window, within the limits and the budget, lies inside [lo, hi] (so clipping to it is the identity)."""
    assume(b.p_discharge_kw >= forced_discharge_kw(b, dt))
    soh = b.soh0
    floor, ceiling = window(b, soh)
    e = floor + share * (ceiling - floor)
    p = x * (b.p_charge_kw if x > 0 else b.p_discharge_kw)
    assume(max(p, 0.0) * dt <= budget)
    e_next, soh_next = step_battery(b, e, soh, p, dt)
    floor_next, ceiling_next = window(b, soh_next)
    margin = 1e-7 * max(1.0, b.capacity_kwh)
    assume(floor_next + margin <= e_next <= ceiling_next - margin)  # strictly feasible, rounding aside
    lo, hi = power_bounds(b, e, soh, dt, b.p_charge_kw, b.p_discharge_kw, budget)
    assert lo <= p <= hi
    assert min(max(p, lo), hi) == p


def test_idle_is_feasible_at_the_ceiling():
    """Without calendar fade, staying idle is always feasible, also right after charging up to the ceiling.

    Found by hypothesis: charging at ``hi`` lands E 2e-16 kWh above ``soc_max * Cap * SoH'`` by rounding, the
    next call sees ``head < 0``, takes the forced-discharge branch and returns ``hi = -2.2e-16 < 0``. The env
    then turns an idle action into a 2e-16 kW discharge with ``clipped_kw != 0``.
    """
    b = BatteryParams(capacity_kwh=1.0, p_charge_kw=1.0, p_discharge_kw=1.0, eta_charge=1.0, eta_discharge=1.0,
                      soc_min=0.0, soc_max=1.0, soc0=0.5, soh0=0.5, fade_per_cycle=0.0010141137799941082,
                      max_cycles_per_day=None)
    dt = 0.25
    _, hi = power_bounds(b, b.e0_kwh, b.soh0, dt, 1.0, 1.0, math.inf)
    e, soh = step_battery(b, b.e0_kwh, b.soh0, hi, dt)  # charge as far as the window allows
    lo, hi = power_bounds(b, e, soh, dt, 1.0, 1.0, math.inf)
    assert lo <= 0.0 <= hi, f"idle is not in [{lo!r}, {hi!r}] at E={e!r}, SoH={soh!r}"


def test_power_bounds_by_hand():
    """A worked example of the interval, fade term included.

    capacity 100 kWh, SoH 1, window [0.1, 0.9] -> [10, 90] kWh, E = 50 kWh, eta_c = 0.9, eta_d = 0.8,
    fade_per_cycle 0.01 -> half_fade = capacity * fade_per_kwh = 0.005, no calendar fade, dt = 1 h.
    Charge c: 50 + 0.9 c <= 0.9 * 100 * (1 - 0.01 / 200 * c)  ->  c <= 40 / (0.9 + 0.9 * 0.005) = 44.2233...
    Discharge d: 50 - d / 0.8 >= 0.1 * 100 * (1 - 0.01 / 200 * d)  ->  d <= 40 / (1.25 - 0.1 * 0.005) = 32.0128...
    """
    b = BatteryParams(capacity_kwh=100.0, p_charge_kw=1000.0, p_discharge_kw=1000.0, eta_charge=0.9,
                      eta_discharge=0.8, soc_min=0.1, soc_max=0.9, soc0=0.5, soh0=1.0, fade_per_cycle=0.01,
                      max_cycles_per_day=None)
    lo, hi = power_bounds(b, 50.0, 1.0, 1.0, 1000.0, 1000.0, math.inf)
    assert hi == pytest.approx(40.0 / 0.9045, rel=1e-12)
    assert lo == pytest.approx(-40.0 / 1.2495, rel=1e-12)
    # and the limits that are tighter than the window win: 20 kW rating, 5 kWh of budget left
    lo, hi = power_bounds(b, 50.0, 1.0, 1.0, 20.0, 30.0, math.inf)
    assert (lo, hi) == (-30.0, 20.0)
    assert power_bounds(b, 50.0, 1.0, 1.0, 20.0, 30.0, 5.0)[1] == 5.0
    assert power_bounds(b, 50.0, 1.0, 0.5, 20.0, 30.0, 5.0)[1] == 10.0  # 10 kW for half an hour = 5 kWh
    assert power_bounds(b, 50.0, 1.0, 1.0, 20.0, 30.0, 0.0)[1] == 0.0


def test_step_battery_by_hand():
    """Charge 40 kW for 0.5 h at eta_c 0.9: E + 18 kWh, throughput 20 kWh, SoH - 20 * 0.01 / 200 = - 0.001;
    discharge 40 kW for 0.5 h at eta_d 0.8: E - 25 kWh, throughput 20 kWh; calendar 0.0024/day: - 0.00005 per 0.5 h."""
    b = BatteryParams(capacity_kwh=100.0, p_charge_kw=50.0, p_discharge_kw=50.0, eta_charge=0.9, eta_discharge=0.8,
                      soh0=1.0, fade_per_cycle=0.01, calendar_fade_per_day=0.0024)
    e, soh = step_battery(b, 50.0, 1.0, 40.0, 0.5)
    assert e == pytest.approx(68.0) and soh == pytest.approx(1.0 - 0.001 - 0.00005)
    e, soh = step_battery(b, 50.0, 1.0, -40.0, 0.5)
    assert e == pytest.approx(25.0) and soh == pytest.approx(1.0 - 0.001 - 0.00005)


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.floats(1.0, 5000.0),
    power=st.floats(0.0, 5000.0),
    price=st.floats(0.0, 500.0),
    cycle_life=st.floats(100.0, 20000.0),
    soh0=st.floats(0.55, 1.0),
    eol_gap=st.floats(0.01, 0.5),
)
def test_second_life_derivation(capacity, power, price, cycle_life, soh0, eol_gap):
    """The documented formula: fade = (soh0 - eol) / cycle_life and
    cost = price * soh0 * Cap / ((soh0 - eol) * 2 * Cap / fade), i.e. the pack's price spread over the
    throughput it delivers from soh0 down to end of life."""
    eol = soh0 - eol_gap
    b = BatteryParams.second_life(capacity_kwh=capacity, power_kw=power, price_eur_per_kwh=price,
                                  cycle_life=cycle_life, soh0=soh0, soh_end_of_life=eol)
    fade = (soh0 - eol) / cycle_life
    assert b.fade_per_cycle == pytest.approx(fade, rel=1e-12)
    documented = price * soh0 * capacity / ((soh0 - eol) * 2.0 * capacity / fade)
    assert b.degradation_cost_per_kwh == pytest.approx(documented, rel=1e-12, abs=1e-15)
    # the same money seen from the other side: throughput to end of life times the cost is the pack price
    throughput_kwh = (soh0 - eol) / b.fade_per_kwh
    assert throughput_kwh * b.degradation_cost_per_kwh == pytest.approx(price * soh0 * capacity, rel=1e-9)
    assert (b.capacity_kwh, b.p_charge_kw, b.p_discharge_kw) == (capacity, power, power)
    assert (b.soh0, b.soh_end_of_life) == (soh0, eol)


def test_second_life_defaults_by_hand():
    """80 EUR/kWh for a pack at SoH 0.8 worn to 0.6 over 3000 cycles:
    fade = 0.2 / 3000 = 6.667e-5 per cycle; cost = 80 * 0.8 / (2 * 3000) = 0.010667 EUR per kWh of throughput
    (the 0.0107 that BatteryParams uses by default)."""
    b = BatteryParams.second_life()
    assert b.fade_per_cycle == pytest.approx(0.2 / 3000)
    assert b.degradation_cost_per_kwh == pytest.approx(80 * 0.8 / 6000)
    assert b.degradation_cost_per_kwh == pytest.approx(BatteryParams().degradation_cost_per_kwh, abs=5e-5)
    assert (b.soh0, b.soh_end_of_life, b.capacity_kwh, b.p_charge_kw) == (0.8, 0.6, 500.0, 200.0)
    # overrides other than the derived ones pass through
    assert BatteryParams.second_life(soc0=0.3, max_cycles_per_day=None).soc0 == 0.3


def test_charge_budget_and_initial_energy():
    """1.5 cycles/day over 2 days at SoH 0.8 on 500 kWh: 1.5 * 2 * 0.8 * 500 = 1200 kWh; E0 = 0.5 * 0.8 * 500."""
    b = BatteryParams(max_cycles_per_day=1.5, soh0=0.8, capacity_kwh=500.0, soc0=0.5)
    assert b.charge_budget_kwh(2.0) == pytest.approx(1200.0)
    assert b.e0_kwh == pytest.approx(200.0)
    assert BatteryParams(max_cycles_per_day=None).charge_budget_kwh(7.0) == math.inf
    assert b.with_state(0.3, 0.7).e0_kwh == pytest.approx(0.3 * 0.7 * 500.0)
