"""batterygym.wrappers: the views leave the env's money and its optimum unchanged."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401
from batterygym.agents.recipes import recipe, recipes_for, rung_name
from batterygym.baselines import solve_optimal
from batterygym.baselines.rollout import heuristic_classes, rollout
from batterygym.wrappers.industrial_cap import CapOffsetAction, CapOffsetPolicy, fill_level
from batterygym.wrappers.items import FleetAssetView, ItemwisePolicy, fleet_item_obs, v2g_item_obs


def _brute_level(net, energy, p_dis, dt):
    lo, hi = float(net.min()) - energy / dt - 1.0, float(net.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if np.maximum(net - mid, 0.0).sum() * dt <= energy else (mid, hi)
    return max(hi, float(net.max()) - p_dis)


def view_return(view: gym.Env, agent, seed: int) -> float:
    """The return of ``agent`` (obs -> action) over one episode of a wrapped ``view``."""
    obs, _ = view.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, r, term, trunc, _ = view.step(agent(obs))
        total += r
        done = term or trunc
    return total


def test_fill_level_is_the_lowest_level_the_energy_holds():
    rng = np.random.default_rng(0)
    for _ in range(500):
        net = rng.normal(300.0, 120.0, rng.integers(1, 12))
        energy, p_dis, dt = rng.uniform(0, 900), rng.uniform(5, 400), float(rng.choice([0.25, 0.5, 1.0]))
        assert fill_level(net, energy, p_dis, dt) == pytest.approx(_brute_level(net, energy, p_dis, dt), abs=1e-6)


def test_the_cap_view_keeps_the_money_and_never_beats_the_optimum():
    """Any offsets: the view's return is the env's money for the hourly actions it took (replayed on a fresh
    env), those actions are ordinary env actions, and no offset schedule beats the episode's optimum."""
    rng = np.random.default_rng(1)
    for seed in (0, 1):
        env = CapOffsetAction(gym.make("batterygym/Industrial-v0"), block_steps=12, max_offset=0.1)
        taken = []
        inner_step = env.env.step

        def spy(action, inner_step=inner_step, taken=taken, space=env.env.action_space):
            taken.append(np.array(action))
            assert space.contains(np.asarray(action, dtype=np.float32))
            return inner_step(action)

        env.env.step = spy
        env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, r, term, trunc, info = env.step(rng.uniform(-1, 1, 1).astype(np.float32))
            total += r
            assert 1 <= info["steps"] <= 12
            done = term or trunc
        plain = gym.make("batterygym/Industrial-v0")
        plain.reset(seed=seed)
        replay = sum(float(plain.step(a)[1]) for a in taken)
        assert len(taken) == plain.unwrapped.scenario.n_steps
        assert total == pytest.approx(replay, rel=1e-12, abs=1e-9)
        assert total <= solve_optimal(plain.unwrapped.scenario).objective + 1e-6


def test_the_cap_policy_plays_the_view_hour_by_hour():
    """An agent played on the plain env by CapOffsetPolicy earns what it earns stepping CapOffsetAction."""
    def agent(view):
        return np.array([np.tanh(view[-4] * 3 - 2)], dtype=np.float32)  # any function of the view

    for seed in (2, 3):
        total = view_return(CapOffsetAction(gym.make("batterygym/Industrial-v0")), agent, seed)
        plain = gym.make("batterygym/Industrial-v0")
        ret, _ = rollout(plain, CapOffsetPolicy(plain, agent), seed=seed)
        assert ret == pytest.approx(total, rel=1e-12)


def test_the_water_filling_cap_is_a_heuristic_rung_between_idle_and_the_optimum():
    env = gym.make("batterygym/Industrial-v0")
    cls = heuristic_classes(env)["cap"]
    ret, _ = rollout(env, cls(env), seed=7)
    idle, _ = rollout(env, lambda o: np.zeros(1, dtype=np.float32), seed=7)
    assert idle < ret <= solve_optimal(env.unwrapped.scenario).objective + 1e-6


def test_fleet_items_add_up_to_the_fleet():
    """Each asset's view earns that asset's own money: the views' rewards sum to the fleet's for the same
    offers, step by step (every constraint is per asset)."""
    rng = np.random.default_rng(4)
    fleet = gym.make("batterygym/Fleet-v0")
    n, m = fleet.unwrapped.n_assets, fleet.unwrapped.n_markets
    views = [FleetAssetView(gym.make("batterygym/Fleet-v0"), asset=i) for i in range(n)]
    obs, _ = fleet.reset(seed=5)
    item_obs = [v.reset(seed=5)[0] for v in views]
    for t in range(24):
        assert np.allclose(fleet_item_obs(obs, n, m), np.stack(item_obs))
        for v, o in zip(views, item_obs, strict=True):
            assert v.observation_space.contains(o)
        a = rng.uniform(-1, 1, n * m).astype(np.float32)
        obs, r, *_ = fleet.step(a)
        parts = [v.step(a[i * m:(i + 1) * m]) for i, v in enumerate(views)]
        item_obs = [p[0] for p in parts]
        assert sum(p[1] for p in parts) == pytest.approx(r, rel=1e-9, abs=1e-9), t


def test_fleet_view_draws_its_asset_from_the_reset_seed():
    a = FleetAssetView(gym.make("batterygym/Fleet-v0"))
    b = FleetAssetView(gym.make("batterygym/Fleet-v0"))
    assert [a.reset(seed=s)[1]["asset"] for s in range(20)] == [b.reset(seed=s)[1]["asset"] for s in range(20)]
    assert len({a.reset(seed=s)[1]["asset"] for s in range(40)}) == a.n_assets
    with pytest.raises(ValueError, match="asset must be None or in 0..4"):
        FleetAssetView(gym.make("batterygym/Fleet-v0"), asset=5)


def test_v2g_item_obs_are_the_one_charger_envs_observations():
    full = gym.make("batterygym/V2G-v0", n_evs=6)
    one = gym.make("batterygym/V2G-v0", n_evs=1)
    obs, _ = full.reset(seed=0)
    items = v2g_item_obs(obs, 6)
    assert items.shape == (6, one.observation_space.shape[0])
    for i in range(6):
        assert one.observation_space.contains(items[i])
        assert [items[i, k] for k in range(4)] == [obs[k * 6 + i] for k in range(4)]
        assert np.array_equal(items[i, 4:], obs[24:])


@pytest.mark.parametrize("env_id", ["batterygym/V2G-v0", "batterygym/Fleet-v0"])
def test_itemwise_policy_acts_item_by_item(env_id):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    policy = ItemwisePolicy(env, lambda items: np.tile(items[:, :1], (1, 3 if "V2G" in env_id else 4)))
    action = policy(obs)
    assert env.action_space.contains(action)
    per = 3 if "V2G" in env_id else env.unwrapped.n_markets
    n = env.action_space.shape[0] // per
    assert np.array_equal(action.reshape(n, per)[:, 0], obs[:n].astype(np.float32))


def test_recipes_and_their_tables():
    assert set(recipes_for("batterygym/Industrial-v0")) == {"plain", "cap"}
    assert set(recipes_for("batterygym/V2G-v0")) == {"plain", "item"}
    assert recipe("batterygym/V2G-v0", "item").train_kwargs == {"n_evs": 1}
    assert rung_name("ppo", "plain") == "ppo" and rung_name("sac", "cap") == "sac-cap"
    with pytest.raises(ValueError, match="agent 'cap' is not one of batterygym/V2G-v0's"):
        recipe("batterygym/V2G-v0", "cap")
    from batterygym.agents.hyperparams import load_hyperparams

    assert load_hyperparams("ppo", "batterygym/Industrial-v0", agent="cap")["n_steps"] == 128
    assert load_hyperparams("tqc", "batterygym/Industrial-v0")["gamma"] == 0.995


def test_the_cap_is_only_raised_and_a_zero_action_is_the_heuristic():
    from batterygym.wrappers.industrial_cap import offset_of

    assert offset_of(np.array([-0.7]), 0.1, 1000.0) == 0.0
    assert offset_of(np.array([0.5]), 0.1, 1000.0) == pytest.approx(50.0)
    assert offset_of(np.array([3.0]), 0.1, 1000.0) == pytest.approx(100.0)
    env = gym.make("batterygym/Industrial-v0")
    zero, _ = rollout(env, CapOffsetPolicy(env, lambda v: np.zeros(1, dtype=np.float32)), seed=11)
    cap = heuristic_classes(env)["cap"]
    assert zero == rollout(env, cap(env), seed=11)[0]
