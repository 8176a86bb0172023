"""The battery block alone on tiny models: its rows are core's step and bounds, capacity and power can be
decisions, and charging and discharging never happen at once."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from batterygym.baselines.battery_block import add_batteries
from batterygym.baselines.plan import InfeasibleScenarioError
from batterygym.baselines.solver import solve_exclusive
from batterygym.core.battery import BatteryParams, coefficients, power_bounds, power_of_share, step_battery

PROPS = settings(max_examples=25, deadline=None)
DTS = (0.25, 0.5, 1.0)


def tol(b: BatteryParams) -> float:
    """kWh: HiGHS meets rows to ~1e-9 relative."""
    return 1e-6 * max(1.0, b.capacity_kwh)


@st.composite
def batteries(draw, calendar: bool = True) -> BatteryParams:
    soc_min = draw(st.floats(0.0, 0.4))
    soc_max = draw(st.floats(soc_min + 0.1, 1.0))
    capacity = draw(st.floats(1.0, 3000.0))
    return BatteryParams(
        capacity_kwh=capacity, p_charge_kw=draw(st.floats(0.05, 2.0)) * capacity,
        p_discharge_kw=draw(st.floats(0.05, 2.0)) * capacity, eta_charge=draw(st.floats(0.6, 1.0)),
        eta_discharge=draw(st.floats(0.6, 1.0)), soc_min=soc_min, soc_max=soc_max,
        soc0=draw(st.floats(soc_min, soc_max)), soh0=draw(st.floats(0.5, 1.0)),
        degradation_cost_per_kwh=draw(st.floats(0.0, 0.05)),
        fade_per_cycle=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.01))),
        calendar_fade_per_day=draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-3))) if calendar else 0.0,
        max_cycles_per_day=None,
    )


def env_schedule(b: BatteryParams, dt: float, shares: list[float]) -> tuple[list[float], list[float], list[float]]:
    """Powers the env executes for ``shares`` (its projection and step), with the energies and SoH after each."""
    e, soh = b.e0_kwh, b.soh0
    powers, energies, sohs = [], [e], [soh]
    for a in shares:
        lo, hi = power_bounds(b, e, soh, dt, b.p_charge_kw, b.p_discharge_kw, math.inf)
        p = min(max(power_of_share(a, b.p_charge_kw, b.p_discharge_kw), lo), hi)
        e, soh = step_battery(b, e, soh, p, dt)
        powers.append(p)
        energies.append(e)
        sohs.append(soh)
    return powers, energies, sohs


def fix_powers(bat, i: int, powers: list[float]) -> None:
    for t, p in enumerate(powers):
        bat.c[i, t].fix(max(p, 0.0))
        bat.d[i, t].fix(max(-p, 0.0))


def solve(m: pyo.ConcreteModel, bat) -> float:
    return solve_exclusive(m, [bat], what="test block").objective


@PROPS
@given(b=batteries(), dt=st.sampled_from(DTS), shares=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=12))
def test_a_fixed_schedule_gives_the_envs_energies_and_soh(b: BatteryParams, dt: float, shares: list[float]) -> None:
    """The env's powers fixed in the LP: the rows leave exactly the env's energies and SoH (feasible: in the window)."""
    powers, energies, sohs = env_schedule(b, dt, shares)
    assume(all(s > 0.05 for s in sohs))
    m = pyo.ConcreteModel()
    bat = add_batteries(m, "battery", [b], dt, charge_max_kw=b.p_charge_kw, discharge_max_kw=b.p_discharge_kw,
                        n_steps=len(shares), exclusive="none")
    fix_powers(bat, 0, powers)
    m.obj = pyo.Objective(expr=bat.e[0, len(shares)])
    solve(m, bat)
    lp_e = [bat.e[0, t].value for t in range(len(shares) + 1)]
    np.testing.assert_allclose(lp_e, energies, rtol=0, atol=tol(b))
    if b.fade_per_cycle or b.calendar_fade_per_day:  # K0 - lost = SoH * Cap
        lp_soh = [(b.soh0 * b.capacity_kwh - bat.parts.lost[0, t].value) / b.capacity_kwh
                  for t in range(len(shares) + 1)]
        np.testing.assert_allclose(lp_soh, sohs, rtol=0, atol=1e-9)


@PROPS
@given(b=batteries(), dt=st.sampled_from(DTS), soc=st.floats(0.0, 1.0), soh=st.floats(0.5, 1.0),
       site=st.tuples(st.floats(0.0, 1.5), st.floats(0.0, 1.5)),
       budget=st.one_of(st.just(math.inf), st.floats(0.0, 500.0)))
def test_one_step_reaches_exactly_cores_bounds(b: BatteryParams, dt: float, soc: float, soh: float,
                                               site: tuple[float, float], budget: float) -> None:
    """From any state, the most and least power one step of the block allows are core's bounds_of."""
    e = (b.soc_min + soc * (b.soc_max - b.soc_min)) * b.capacity_kwh * soh
    c_max, d_max = site[0] * b.p_charge_kw, site[1] * b.p_discharge_kw
    k = coefficients(b, dt)
    lo, hi = power_bounds(b, e, soh, dt, c_max, d_max, budget)
    head = k.e_ceiling * (soh - k.calendar) - e
    assume(head >= 0.0 or k.k_forced * min(d_max, -lo) >= -head * (1 + 1e-9))  # a feasible step exists
    for sense, want in ((pyo.maximize, hi), (pyo.minimize, lo)):
        m = pyo.ConcreteModel()
        bat = add_batteries(m, "battery", [b], dt, charge_max_kw=c_max, discharge_max_kw=d_max, n_steps=1,
                            e0_kwh=[e], soh0=[soh], budget_kwh=[budget], exclusive="lazy")
        m.obj = pyo.Objective(expr=bat.c[0, 0] - bat.d[0, 0], sense=sense)
        solve_exclusive(m, [bat], what="test bounds")
        got = bat.c[0, 0].value - bat.d[0, 0].value
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6 * max(1.0, b.p_charge_kw, b.p_discharge_kw))


def test_a_schedule_outside_the_window_is_infeasible() -> None:
    """One kW more than core's bound in a step over-fills the fading ceiling: the block has no solution."""
    b = BatteryParams(capacity_kwh=100.0, fade_per_cycle=0.01, calendar_fade_per_day=0.01, soc0=0.85)
    dt = 1.0
    _, hi = power_bounds(b, b.e0_kwh, b.soh0, dt, b.p_charge_kw, b.p_discharge_kw, math.inf)
    for p, feasible in ((hi, True), (hi + 1.0, False)):
        m = pyo.ConcreteModel()
        bat = add_batteries(m, "battery", [b], dt, charge_max_kw=b.p_charge_kw, discharge_max_kw=b.p_discharge_kw,
                            n_steps=1, exclusive="none")
        fix_powers(bat, 0, [p])
        m.obj = pyo.Objective(expr=bat.e[0, 1])
        if feasible:
            solve(m, bat)
        else:
            with pytest.raises(InfeasibleScenarioError):
                solve(m, bat)


def test_windows_start_each_unit_at_its_own_state() -> None:
    """Units present in their own windows (V2G's EVs): each starts at its e0 and steps as core's battery."""
    b = BatteryParams(capacity_kwh=40.0, p_charge_kw=7.0, p_discharge_kw=7.0, fade_per_cycle=0.0, soh0=1.0)
    windows, e0 = [(2, 5), (0, 3)], [10.0, 30.0]
    schedules = [[7.0, 3.0, -2.0], [-7.0, 0.0, 5.0]]
    m = pyo.ConcreteModel()
    bat = add_batteries(m, "ev", [b, b], 1.0, charge_max_kw=7.0, discharge_max_kw=7.0, windows=windows,
                        e0_kwh=e0, exclusive="none")
    assert set(bat.parts.K) == {(0, 2), (0, 3), (0, 4), (1, 0), (1, 1), (1, 2)}
    for i, ((start, _), powers) in enumerate(zip(windows, schedules, strict=True)):
        for k, p in enumerate(powers):
            bat.c[i, start + k].fix(max(p, 0.0))
            bat.d[i, start + k].fix(max(-p, 0.0))
    m.obj = pyo.Objective(expr=bat.e[0, 5] + bat.e[1, 3])
    solve(m, bat)
    for i, ((start, _), powers) in enumerate(zip(windows, schedules, strict=True)):
        e = e0[i]
        assert bat.e[i, start].value == e
        for k, p in enumerate(powers):
            e, _ = step_battery(b, e, 1.0, p, 1.0)
            assert bat.e[i, start + k + 1].value == pytest.approx(e, abs=1e-9)
    assert bat.charge_kw().shape == (2, 5) and bat.charge_kw()[0, 2] == pytest.approx(7.0)


# ------------------------------------------------------------------------------------------ capacity and power
@PROPS
@given(b=batteries(), dt=st.sampled_from(DTS), shares=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=8))
def test_a_capacity_variable_fixed_at_the_units_is_the_fixed_unit(b: BatteryParams, dt: float,
                                                                  shares: list[float]) -> None:
    """With the capacity a variable (fixed at the unit's), e0, K0 and calendar fade scale with it: the env's
    schedule gives the env's energies, as with a fixed capacity."""
    powers, energies, sohs = env_schedule(b, dt, shares)
    assume(all(s > 0.05 for s in sohs))
    m = pyo.ConcreteModel()
    m.cap = pyo.Var(bounds=(0.0, 2 * b.capacity_kwh))
    m.cap.fix(b.capacity_kwh)
    bat = add_batteries(m, "battery", [b], dt, charge_max_kw=b.p_charge_kw, discharge_max_kw=b.p_discharge_kw,
                        n_steps=len(shares), capacity=m.cap, exclusive="none")
    fix_powers(bat, 0, powers)
    m.obj = pyo.Objective(expr=bat.e[0, len(shares)])
    solve(m, bat)
    np.testing.assert_allclose([bat.e[0, t].value for t in range(len(shares) + 1)], energies, rtol=0, atol=tol(b))


def window_holds(b: BatteryParams, capacity: float, powers: list[float], dt: float, slack: float) -> bool:
    """Whether the schedule stays inside core's window on a battery of ``capacity`` (its own e0 and SoH)."""
    u = dataclasses.replace(b, capacity_kwh=capacity)
    e, soh = u.e0_kwh, u.soh0
    for p in powers:
        e, soh = step_battery(u, e, soh, p, dt)
        if not u.soc_min * capacity * soh - slack <= e <= u.soc_max * capacity * soh + slack:
            return False
    return True


@PROPS
@given(b=batteries(), dt=st.sampled_from(DTS), n=st.integers(1, 6), kw=st.floats(1.0, 100.0))
def test_the_smallest_capacity_for_a_schedule(b: BatteryParams, dt: float, n: int, kw: float) -> None:
    """Minimising the capacity under a charging schedule finds the smallest battery core's window admits."""
    assume(b.soc_max - b.soc0 > 0.05)
    powers = [kw] * n
    m = pyo.ConcreteModel()
    m.cap = pyo.Var(bounds=(0.0, 1e7))
    bat = add_batteries(m, "battery", [b], dt, charge_max_kw=kw, discharge_max_kw=kw, n_steps=n, capacity=m.cap,
                        exclusive="none")
    fix_powers(bat, 0, powers)
    m.obj = pyo.Objective(expr=m.cap)
    best = solve(m, bat)
    assert best > 0
    assert window_holds(b, best, powers, dt, 1e-6 * best)
    assert not window_holds(b, best * (1 - 1e-4), powers, dt, 0.0)


def test_budget_per_kwh_and_power_variable() -> None:
    """With a variable capacity the budget is per kWh of it, and a power variable bounds both directions."""
    b = BatteryParams(capacity_kwh=100.0, soc_min=0.0, soc_max=1.0, soc0=0.5, soh0=1.0, fade_per_cycle=0.0,
                      eta_charge=1.0, eta_discharge=1.0)
    powers = [30.0, -50.0, 20.0, 0.0]
    m = pyo.ConcreteModel()
    m.cap = pyo.Var(bounds=(0.0, 1e4))
    m.pw = pyo.Var(bounds=(0.0, 1e3))
    bat = add_batteries(m, "battery", [b], 1.0, charge_max_kw=1e3, discharge_max_kw=1e3, n_steps=4,
                        budget_kwh=[0.1], capacity=m.cap, power=m.pw, exclusive="none")
    fix_powers(bat, 0, powers)
    m.obj = pyo.Objective(expr=m.cap + m.pw)
    solve(m, bat)
    assert m.pw.value == pytest.approx(50.0)  # the largest charge or discharge
    # the window needs 0.5 Cap >= 50 - 30 (Cap >= 40); the budget 0.1 Cap >= 50 kWh charged needs 500
    assert m.cap.value == pytest.approx(500.0)


# ------------------------------------------------------------------------------------------ exclusivity
def burning_model(exclusive: str, n_steps: int = 3) -> tuple[pyo.ConcreteModel, object]:
    """Net power held at zero and the final energy to minimise: charging and discharging at once burns
    energy in the losses, which the LP relaxation would do at full power every step."""
    b = BatteryParams(capacity_kwh=100.0, p_charge_kw=40.0, p_discharge_kw=40.0, eta_charge=0.9,
                      eta_discharge=0.9, soc0=0.5, soh0=1.0, fade_per_cycle=0.0)
    m = pyo.ConcreteModel()
    bat = add_batteries(m, "battery", [b], 1.0, charge_max_kw=40.0, discharge_max_kw=40.0, n_steps=n_steps,
                        exclusive=exclusive)
    m.net = pyo.Constraint(range(n_steps), rule=lambda _, t: bat.c[0, t] - bat.d[0, t] == 0.0)
    m.obj = pyo.Objective(expr=bat.e[0, n_steps])
    return m, bat


@pytest.mark.parametrize("exclusive", ["lazy", "binary"])
def test_exclusivity_holds(exclusive: str) -> None:
    m, bat = burning_model(exclusive)
    info = solve_exclusive(m, [bat], what="test exclusivity")
    c, d = bat.charge_kw()[0], bat.discharge_kw()[0]
    assert np.all(np.minimum(c, d) <= 1e-6)
    assert info.objective == pytest.approx(50.0)  # nothing burnt: E stays at 50 kWh
    assert info.n_binaries == (3 if exclusive == "binary" else bat.n_binaries) and info.n_binaries > 0


def test_without_exclusivity_the_relaxation_burns() -> None:
    """The case above is a real test: with no exclusivity the optimum charges and discharges at once."""
    m, bat = burning_model("none")
    info = solve_exclusive(m, [bat], what="test relaxation")
    assert info.objective < 50.0 - 1.0
    assert np.all(np.minimum(bat.charge_kw()[0], bat.discharge_kw()[0]) > 1.0)


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(exclusive="sometimes"), "exclusive"),
    (dict(charge_max_kw=-1.0), "charge_max_kw"),
    (dict(discharge_max_kw=[1.0, 2.0]), "discharge_max_kw"),
    (dict(n_steps=None, windows=[(3, 2)]), "windows"),
    (dict(budget_kwh=[1.0, 2.0]), "budget_kwh"),
    (dict(step_vars=("e",)), "step_vars"),
])
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    args = dict(charge_max_kw=1.0, discharge_max_kw=1.0, n_steps=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        add_batteries(pyo.ConcreteModel(), "battery", [BatteryParams()], 1.0, **args)
