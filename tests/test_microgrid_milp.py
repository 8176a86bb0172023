"""The microgrid-BSS MILP: its plans replay exactly in the env, stay in the action space, beat every policy."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal
from batterygym.baselines.microgrid_bss import floor_energy, relabel, solve
from batterygym.baselines.rollout import heuristics_for, rollout
from batterygym.core.microgrid import MicrogridScenario, MicrogridState, simulate

REL = 1e-5
SMALL_2_DAYS = dict(n_days=2, swaps_per_day=16.0, n_packs=(2, 2, 2, 1), n_storage=2)
CASES = [(dict(), 3), (dict(), 7), (dict(off_grid=True), 1), (dict(off_grid=True), 3), (SMALL_2_DAYS, 2)]


def replay(env: gym.Env, actions: np.ndarray, seed: int) -> tuple[float, list[dict]]:
    it = iter(actions)
    return rollout(env, lambda _obs: next(it), seed=seed)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-seed{c[1]}")
def solved(request):
    kwargs, seed = request.param
    env = gym.make("batterygym/MicrogridBSS-v0", max_episode_steps=24 * kwargs.get("n_days", 1), **kwargs)
    env.reset(seed=seed)
    plan = solve_optimal(env.unwrapped.scenario)
    return env, seed, plan


def test_plan_replays_exactly_and_stays_in_the_action_space(solved):
    env, seed, plan = solved
    s = env.unwrapped.scenario
    assert plan.status == "optimal" and plan.mip_gap <= 1e-6
    assert plan.actions.dtype == np.float32 and plan.actions.shape == (s.n_steps, s.action_dim)
    assert all(env.action_space.contains(a) for a in plan.actions)
    got, infos = replay(env, plan.actions, seed)
    assert got == pytest.approx(plan.objective, rel=REL)
    assert plan.schedule["reward"].sum() == pytest.approx(plan.objective, rel=REL)
    # the plan asks only for what the env can do: the projection removes nothing but rounding
    assert max(i["clipped_kw"] for i in infos) < 1e-3


def test_no_policy_beats_the_plan(solved):
    env, seed, plan = solved
    bound = plan.objective + REL * abs(plan.objective)
    for name, policy in heuristics_for(env).items():
        assert rollout(env, policy, seed=seed)[0] <= bound, name
    env.action_space.seed(seed)
    for _ in range(4):
        assert rollout(env, lambda _obs: env.action_space.sample(), seed=seed)[0] <= bound
    assert rollout(env, lambda _obs: np.ones(env.action_space.shape, np.float32), seed=seed)[0] <= bound


def tiny(**overrides) -> MicrogridScenario:
    """One category, two full slots, one request at hour 0 and one at hour 2, four hours, no storage."""
    base = dict(
        categories=("A",), pack_kwh=(20.0,), n_packs=(2,), slot_e0_kwh=np.array([20.0, 20.0]), storage=(),
        pv_kw=np.zeros(4), wind_kw=np.zeros(4), load_kw=np.full(4, 10.0),
        tariff_eur_per_kwh=np.full(4, 0.3), grid_price_eur_per_kwh=np.array([0.27, 0.1, 0.27, 0.27]),
        expected_swaps=np.full((4, 1), 0.5), swap_hour=np.array([0, 2, 2]), swap_category=np.array([0, 0, 0]),
        swap_soc=np.array([0.2, 0.5, 0.3]), import_limit_kw=100.0,
    )
    base.update(overrides)
    return MicrogridScenario(**base)


def test_relabel_moves_the_milp_choice_of_full_slot_to_the_envs():
    s = tiny()
    # the MILP served request 0 from slot 1 and recharged it at hour 1 (cheap); the env serves from slot 0
    charge = np.zeros((4, 2))
    charge[1, 1] = 16.0 / s.pack_eta
    full = np.array([[True, True], [True, False], [True, True], [False, False]])
    served_by, moved = relabel(s, [1, 0, 1], charge, full)
    assert served_by == [0, 0, 1]
    assert moved[1, 0] == charge[1, 1] and moved[1, 1] == 0.0
    plan = solve(s)
    actions = plan.actions
    state = MicrogridState(s)
    total = sum(state.step(a.tolist()).reward for a in actions.astype(np.float64))
    assert total == pytest.approx(plan.objective, rel=1e-9)
    # both requests at hour 2 are served: the pack swapped at hour 0 was refilled in the cheap hour
    assert plan.schedule["served:A"].tolist() == [1, 0, 2, 0]
    assert plan.schedule["charge_kw:A0"].iloc[1] == pytest.approx(16.0 / s.pack_eta)


def test_forced_service_and_lost_swaps_are_exact():
    # only one pack: the second request of hour 2 is lost whatever is done, and service is forced
    s = tiny(n_packs=(1,), slot_e0_kwh=np.array([20.0]), lost_swap_penalty_eur=100.0)
    plan = solve(s)
    assert plan.schedule["lost:A"].sum() == 1 and plan.schedule["served:A"].sum() == 2
    assert simulate(s, plan.actions)["reward"].sum() == pytest.approx(plan.objective, rel=1e-9)


def test_solver_errors_and_types():
    with pytest.raises(TypeError, match="MicrogridScenario"):
        solve("not a scenario")
    # a terminal value is part of the money: energy left is credited against the start in env and MILP alike
    s = tiny(terminal_value_eur_per_kwh=0.2)
    plan = solve(s)
    assert simulate(s, plan.actions)["terminal_eur"].sum() == pytest.approx(plan.schedule["terminal_eur"].sum())
    assert simulate(s, plan.actions)["reward"].sum() == pytest.approx(plan.objective, rel=1e-9)


@pytest.mark.parametrize("kwargs", [dict(), dict(swaps_per_day=72.0)])
def test_no_slot_falls_below_its_energy_floor(kwargs):
    """The floor the MILP puts under a slot that is not full holds in the env, whatever the policy."""
    env = gym.make("batterygym/MicrogridBSS-v0", **kwargs)
    for seed in range(3):
        env.reset(seed=seed)
        env.action_space.seed(seed)
        low = floor_energy(env.unwrapped.scenario)
        assert low.shape == (env.unwrapped.scenario.n_steps + 1, env.unwrapped.scenario.n_slots)
        assert (low > 0).all()  # every arriving pack holds some energy: the floor cuts something
        for t in range(env.unwrapped.scenario.n_steps):
            assert (np.array(env.unwrapped.state["slot_kwh"]) >= low[t] - 1e-9).all(), (seed, t)
            action = env.action_space.sample() if seed else np.zeros(env.action_space.shape, np.float32)
            env.step(action)
        assert (np.array(env.unwrapped.state["slot_kwh"]) >= low[-1] - 1e-9).all()
    # and it is tight: the least arrival of a category is the floor of its slots from the next hour on
    s = env.unwrapped.scenario
    r = min(range(s.n_requests), key=lambda i: s.requests[i].energy_kwh)
    j = s.category_slots[s.requests[r].category][0]
    assert low[s.requests[r].hour + 1, j] == min(s.requests[r].energy_kwh, s.slot_e0_kwh[j])


def brute_force(s: MicrogridScenario, levels: int = 2) -> float:
    """The best money over every action schedule with slot shares on a grid (storage idle), by the env."""
    import itertools

    grid = np.linspace(0.0, 1.0, levels)
    best = -np.inf
    for combo in itertools.product(grid, repeat=s.n_steps * s.n_slots):
        a = np.zeros((s.n_steps, s.action_dim))
        a[:, :s.n_slots] = np.array(combo).reshape(s.n_steps, s.n_slots)
        best = max(best, float(simulate(s, a)["reward"].sum()))
    return best


def test_pack_cycles_equal_the_slot_model_and_beat_a_brute_force():
    """Both formulations (the packs as units, the slots as units) give the same optimum, and no schedule
    of the env on a grid of shares beats it."""
    # two slots (one starts not full), three requests; a share of 1 fills a pack within the hour
    s = tiny(slot_e0_kwh=np.array([20.0, 6.0]), n_packs=(2,), swap_hour=np.array([0, 1, 2]),
             swap_category=np.array([0, 0, 0]), swap_soc=np.array([0.3, 0.25, 0.4]))
    cyc, slots = solve(s, model="cycles"), solve(s, model="slots")
    assert cyc.details["pack_cycles"] == 1.0 and slots.details["pack_cycles"] == 0.0
    assert cyc.details["milp_objective"] == pytest.approx(slots.details["milp_objective"], rel=1e-9, abs=1e-9)
    assert cyc.objective == pytest.approx(slots.objective, rel=1e-7)
    assert brute_force(s) <= cyc.objective + 1e-9


@pytest.mark.parametrize("kwargs,seed", [(dict(), 0), (dict(off_grid=True), 2),
                                         (dict(n_days=2, swaps_per_day=16.0, n_packs=(2, 1, 1, 1), n_storage=1), 3)])
def test_pack_cycles_and_slots_reach_the_same_optimum(kwargs, seed):
    env = gym.make("batterygym/MicrogridBSS-v0", max_episode_steps=24 * kwargs.get("n_days", 1), **kwargs)
    env.reset(seed=seed)
    s = env.unwrapped.scenario
    cyc, slots = solve(s, model="cycles"), solve(s, model="slots")
    assert cyc.status == slots.status == "optimal"
    # each is optimal to its gap (1e-7): the same optimum
    assert cyc.details["milp_objective"] == pytest.approx(slots.details["milp_objective"], rel=3e-7)
    # both replay in the env to their own value (the float32 actions round at the 1e-8 level)
    for plan in (cyc, slots):
        assert replay(env, plan.actions, seed)[0] == pytest.approx(plan.details["milp_objective"], rel=1e-7)


def test_pack_cycle_schedule_follows_the_envs_slot_order():
    """The pack schedule written in slots: requests take the lowest full slots, as the env serves them."""
    s = tiny()
    plan = solve(s, model="cycles")
    state = MicrogridState(s)
    for t, a in enumerate(plan.actions.astype(np.float64)):
        out = state.step(a.tolist())
        assert out.served_slots == sorted(out.served_slots), t
    assert plan.schedule["served:A"].tolist() == [1, 0, 2, 0]
    with pytest.raises(ValueError, match="model"):
        solve(s, model="pools")
