"""How a model reaches HiGHS: the direct path (highspy arrays) and Pyomo's persistent interface give the
same optima and statuses, and every plan reports the seconds spent inside HiGHS."""
from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pyomo.environ as pyo
import pytest
from gymnasium.utils.seeding import np_random
from test_battery_block import burning_model

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import highs_direct, solve_optimal, solver
from batterygym.baselines.battery_block import lin, row
from batterygym.baselines.highs_direct import DirectHighs
from batterygym.baselines.plan import InfeasibleScenarioError, SolverError
from batterygym.baselines.sizing import solve_sizing
from batterygym.core.finance import Finance
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial

REL = 1e-9
# a small episode of every setting: env id, its kwargs (the microgrid twice: pack-cycle and slot model)
EPISODES = [
    ("batterygym/Industrial-v0", dict(), {}),
    ("batterygym/Industrial-v0", dict(n_days=2), dict(all_binaries=True)),
    ("batterygym/V2G-v0", dict(n_evs=12, n_days=2), {}),
    ("batterygym/Fleet-v0", dict(n_assets=2), {}),
    ("batterygym/Fleet-v0", dict(n_assets=2), dict(decompose=False)),
    ("batterygym/MicrogridBSS-v0", dict(), {}),
    ("batterygym/MicrogridBSS-v0", dict(), dict(model="slots")),
]


def scenario(env_id: str, kwargs: dict, seed: int = 1):
    env = gym.make(env_id, **kwargs)
    env.reset(seed=seed)
    return env.unwrapped.scenario


@pytest.fixture
def path(monkeypatch):
    """Select the path every solve_optimal takes."""
    def use(name: str) -> None:
        monkeypatch.setattr(solver, "DEFAULT_PATH", name)
    return use


@pytest.mark.parametrize(("env_id", "kwargs", "options"), EPISODES, ids=lambda x: str(x) if x else "-")
def test_both_paths_reach_the_same_optimum(env_id: str, kwargs: dict, options: dict, path) -> None:
    s = scenario(env_id, kwargs)
    plans = {}
    for name in solver.PATHS:
        path(name)
        plans[name] = solve_optimal(s, **options)
    direct, pyomo_ = plans["direct"], plans["pyomo"]
    assert direct.status == pyomo_.status == "optimal"
    milp = direct.details["milp_objective"]
    assert milp == pytest.approx(pyomo_.details["milp_objective"], rel=REL, abs=1e-9)
    assert direct.objective == pytest.approx(pyomo_.objective, rel=1e-6, abs=1e-6)
    for plan in plans.values():  # the seconds inside HiGHS: positive, and part of the way through it
        assert 0.0 < plan.solver_seconds <= plan.solve_seconds


def test_the_sizing_plan_reports_its_solver_seconds_on_both_paths(path) -> None:
    rng, _ = np_random(0)
    s = replace(generate_industrial(rng, IndustrialSiteConfig(n_days=7)), terminal_value_eur_per_kwh=1.0,
                charge_budget_kwh=None)
    out = {}
    for name in solver.PATHS:
        path(name)
        out[name] = solve_sizing(s, Finance(), max_capacity_kwh=3000.0, max_power_kw=800.0, always_build=True)
    assert out["direct"].annual_cost_eur == pytest.approx(out["pyomo"].annual_cost_eur, rel=REL)
    for sol in out.values():
        assert 0.0 < sol.plan.solver_seconds <= sol.plan.solve_seconds


@pytest.mark.parametrize("exclusive", ["lazy", "binary"])
def test_binaries_added_between_rounds_reach_the_milp_optimum(exclusive: str) -> None:
    infos = {}
    for name in solver.PATHS:
        m, bat = burning_model(exclusive)
        infos[name] = solver.solve_exclusive(m, [bat], what="test rounds", path=name)
        assert np.all(np.minimum(bat.charge_kw()[0], bat.discharge_kw()[0]) <= 1e-6)
    direct, pyomo_ = infos["direct"], infos["pyomo"]
    assert direct.objective == pytest.approx(pyomo_.objective, rel=REL)
    assert (direct.rounds, direct.n_binaries) == (pyomo_.rounds, pyomo_.n_binaries)
    if exclusive == "lazy":
        assert direct.rounds >= 2  # the binaries went to the live HiGHS model and it solved again
    assert 0.0 < direct.solver_seconds <= direct.seconds


def test_a_time_limit_stops_highs_as_before(path) -> None:
    """Two days of the slot model are far from proven in 1 s (39 s to its limit): a schedule found by then,
    or the error that none was."""
    s = scenario("batterygym/MicrogridBSS-v0", dict(n_days=2, swaps_per_day=16.0, n_packs=(2, 2, 2, 1)), seed=2)
    for name in solver.PATHS:
        path(name)
        try:
            status = solve_optimal(s, time_limit=1.0, model="slots").status
        except SolverError as e:
            assert "HiGHS stopped (maxTimeLimit) before finding any feasible schedule" in str(e)
        else:
            assert status == "time_limit"


def test_a_spent_time_limit_raises_before_solving() -> None:
    m, bat = burning_model("lazy")
    with pytest.raises(SolverError, match="time limit of 1e-09 s reached after 0 rounds"):
        solver.solve_exclusive(m, [bat], what="test limit", time_limit=1e-9)


def small_model(sense=pyo.minimize, infeasible: bool = False) -> pyo.ConcreteModel:
    """Rows of every form the direct reader meets: linear bodies, operator sums, a repeated variable,
    fixed variables, a ranged row, an integer variable."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), bounds=(0.0, 10.0))
    m.n = pyo.Var(within=pyo.NonNegativeIntegers, bounds=(0, 5))
    m.f = pyo.Var()
    m.f.fix(2.0)
    m.a = pyo.Constraint(expr=row(1.0, lin(m.x[0], (2.0, m.x[1]), m.f), 9.0))  # ranged, a fixed term
    m.b = pyo.Constraint(expr=m.x[0] + m.x[0] + m.n >= 3.5)  # a repeated variable, an operator sum
    m.c = pyo.Constraint(expr=row(None, lin((1.0, m.x[2]), (-1.0, m.x[1]), 0.5), 4.0))  # a constant in the body
    m.d = pyo.Constraint(expr=m.x[2] == (20.0 if infeasible else 3.0))
    m.obj = pyo.Objective(expr=3.0 * m.x[0] + m.x[1] + 2.0 * m.n - m.x[2] + m.f + 1.0, sense=sense)
    return m


@pytest.mark.parametrize("sense", [pyo.minimize, pyo.maximize])
@pytest.mark.parametrize("declared", [False, True])
def test_the_direct_reader_takes_every_row_form(sense, declared: bool) -> None:
    values = {}
    for name in solver.PATHS:
        m = small_model(sense)
        info = solver.solve_exclusive(m, [], what="test rows", path=name, batch_load=declared)
        values[name] = (info.objective, [v.value for v in m.component_data_objects(pyo.Var)])
    assert values["direct"][0] == pytest.approx(values["pyomo"][0], rel=REL)
    np.testing.assert_allclose(values["direct"][1], values["pyomo"][1], rtol=0, atol=1e-9)


def test_pyomos_reader_alone_gives_the_same_rows(monkeypatch, path) -> None:
    """With the fast readers off (an installed Pyomo that stores expressions otherwise), every row and the
    objective go through Pyomo's reader: the same optimum."""
    s = scenario("batterygym/Industrial-v0", dict(n_days=2))
    path("pyomo")
    want = solve_optimal(s).details["milp_objective"]
    monkeypatch.setattr(highs_direct, "_FAST", False)
    path("direct")
    assert solve_optimal(s).details["milp_objective"] == pytest.approx(want, rel=REL)
    values = {}
    for name in solver.PATHS:
        m = small_model()
        values[name] = solver.solve_exclusive(m, [], what="test rows", path=name).objective
    assert values["direct"] == pytest.approx(values["pyomo"], rel=REL)


def test_rows_with_a_repeated_variable_are_merged() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0.0, None))
    m.r = pyo.Constraint(expr=row(4.0, lin(m.x, (1.0, m.x)), None))  # 2 x >= 4
    m.obj = pyo.Objective(expr=m.x)
    h = DirectHighs(m)
    h.load()
    assert h.highs.getNumNz() == 1
    h.run()
    h.load_vars()
    assert m.x.value == pytest.approx(2.0)


def test_infeasible_and_unbounded_models_raise_the_same_errors() -> None:
    messages = {}
    for name in solver.PATHS:
        with pytest.raises(InfeasibleScenarioError, match=r"test rows is infeasible \(provenInfeasible\): why"):
            solver.solve_exclusive(small_model(infeasible=True), [], what="test rows", path=name,
                                   infeasible_hint=lambda: "why")
        m = pyo.ConcreteModel()
        m.x = pyo.Var()
        m.r = pyo.Constraint(expr=m.x >= 0.0)
        m.obj = pyo.Objective(expr=m.x, sense=pyo.maximize)
        with pytest.raises(SolverError) as err:
            solver.solve_exclusive(m, [], what="test unbounded", path=name)
        messages[name] = str(err.value)
    assert messages["direct"] == messages["pyomo"] and "test unbounded is" in messages["direct"]


def test_an_unknown_path_is_refused() -> None:
    m, bat = burning_model("lazy")
    with pytest.raises(ValueError, match="path must be one of"):
        solver.solve_exclusive(m, [bat], what="test", path="gurobi")
