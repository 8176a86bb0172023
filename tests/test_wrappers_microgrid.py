"""The microgrid look-ahead plan and its knob view: ordinary env actions, the env's money, never above the optimum."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from test_wrappers import view_return

import batterygym  # noqa: F401
from batterygym.agents.recipes import recipe, recipes_for
from batterygym.baselines import solve_optimal
from batterygym.baselines.rollout import heuristic_classes, rollout
from batterygym.wrappers.microgrid_knobs import MicrogridKnobAction, MicrogridKnobPolicy
from batterygym.wrappers.microgrid_plan import MicrogridPlanner, need_by_hour, poisson_tail

ENV = "batterygym/MicrogridBSS-v0"


def _pmf(mu: float, n_max: int) -> np.ndarray:
    return np.array([math.exp(-mu) * mu ** n / math.factorial(n) for n in range(n_max)])


def test_need_by_hour_is_the_poisson_sums_tail():
    """Against the distribution of the hours' counts built by convolution, with and without a first-hour floor."""
    rng = np.random.default_rng(0)
    n_max = 40
    for _ in range(50):
        mu = rng.uniform(0.0, 2.0, rng.integers(1, 8))
        need, given = int(rng.integers(0, 7)), int(rng.integers(0, 3))
        first = _pmf(float(mu[0]), n_max)
        first[:given] = 0.0
        first /= first.sum() if first.sum() > 0 else 1.0
        dist = first
        want = []
        for k in range(mu.size):
            if k:
                dist = np.convolve(dist, _pmf(float(mu[k]), n_max))[:n_max]
            want.append(dist[need:].sum())
        if poisson_tail(float(mu[0]), given) > 1e-12:
            assert need_by_hour(mu, need, given) == pytest.approx(np.array(want), abs=1e-9)
    assert poisson_tail(np.array([0.0, 1.0]), 0).tolist() == [1.0, 1.0]


def _spied(view: MicrogridKnobAction) -> list[np.ndarray]:
    taken: list[np.ndarray] = []
    inner_step, space = view.env.step, view.env.action_space

    def spy(action):
        taken.append(np.array(action))
        assert space.contains(np.asarray(action, dtype=np.float32))
        return inner_step(action)

    view.env.step = spy
    return taken


@pytest.mark.parametrize("kwargs", [{}, {"off_grid": True}])
def test_the_knob_view_keeps_the_money_and_never_beats_the_optimum(kwargs):
    """Random knobs: the view's return is the env's money for the hourly actions it took (replayed on a fresh
    env), each an ordinary env action, and no knob schedule beats the episode's optimum."""
    rng = np.random.default_rng(1)
    for seed in (0, 1):
        view = MicrogridKnobAction(gym.make(ENV, **kwargs), block_steps=3)
        taken = _spied(view)
        view.reset(seed=seed)
        total, done, rewards = 0.0, False, []
        while not done:
            _, r, term, trunc, info = view.step(rng.uniform(-1, 1, view.action_space.shape).astype(np.float32))
            total += r
            rewards.append(r)
            assert 1 <= info["steps"] <= 3 and len(info["actions"]) == info["steps"]
            done = term or trunc
        plain = gym.make(ENV, **kwargs)
        plain.reset(seed=seed)
        replay = [float(plain.step(a)[1]) for a in taken]
        assert len(taken) == plain.unwrapped.scenario.n_steps
        assert total == pytest.approx(sum(replay), rel=1e-12, abs=1e-9)
        assert rewards[0] == pytest.approx(sum(replay[:3]), rel=1e-12, abs=1e-9)
        assert total <= solve_optimal(plain.unwrapped.scenario).objective + 1e-6


def test_the_knob_policy_plays_the_view_hour_by_hour():
    """An agent played on the plain env by MicrogridKnobPolicy earns what it earns stepping MicrogridKnobAction."""
    def agent(obs):
        return np.tanh(obs[:6] * 3 - 1).astype(np.float32)  # any function of the observation

    for seed in (2, 3):
        total = view_return(MicrogridKnobAction(gym.make(ENV), block_steps=3), agent, seed)
        plain = gym.make(ENV)
        ret, _ = rollout(plain, MicrogridKnobPolicy(plain, agent, block_steps=3), seed=seed)
        assert ret == pytest.approx(total, rel=1e-12)


def test_a_zero_action_is_the_lookahead_rung_between_idle_and_the_optimum():
    env = gym.make(ENV)
    rungs = heuristic_classes(env)
    assert list(rungs) == ["idle", "rule", "lookahead"]
    ret, _ = rollout(env, rungs["lookahead"](env), seed=5)
    zero, _ = rollout(env, MicrogridKnobPolicy(env, lambda o: np.zeros(6, dtype=np.float32)), seed=5)
    idle, _ = rollout(env, lambda o: np.zeros(env.action_space.shape, dtype=np.float32), seed=5)
    assert zero == ret
    assert idle < ret <= solve_optimal(env.unwrapped.scenario).objective + 1e-6


def test_the_planner_refuses_other_envs_and_bad_arguments():
    with pytest.raises(TypeError, match="MicrogridBSSEnv"):
        MicrogridPlanner(gym.make("batterygym/Industrial-v0"))
    with pytest.raises(ValueError, match="block_steps"):
        MicrogridKnobAction(gym.make(ENV), block_steps=0)
    view = MicrogridKnobAction(gym.make(ENV))
    with pytest.raises(RuntimeError, match="reset"):
        view.step(np.zeros(6, dtype=np.float32))
    planner = MicrogridPlanner(gym.make(ENV))
    with pytest.raises(RuntimeError, match="reset"):
        planner.action(np.zeros(planner.env.observation_space.shape, dtype=np.float32))


def test_the_knob_recipe_and_its_tables():
    assert set(recipes_for(ENV)) == {"plain", "knobs"}
    r = recipe(ENV, "knobs")
    assert r.corrects == "lookahead"
    assert isinstance(r.training_env(gym.make(ENV)), MicrogridKnobAction)
    from batterygym.agents.hyperparams import load_hyperparams

    for algo in ("ppo", "sac", "tqc"):
        assert load_hyperparams(algo, ENV, agent="knobs")["policy"] == "MlpPolicy"
