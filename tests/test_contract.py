"""The suite's contract (../shared/checks/contract.py) on every registered ``batterygym/*`` id, inside pytest.

CI clones the repository with ``shared/`` beside it (``<root>/main`` and ``<root>/shared``), as in development.
When that file is missing the same four clauses run from :func:`fallback_check` below, with a warning, never a skip.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "checks" / "contract.py"
ENV_IDS = sorted(i for i in gym.registry if i.startswith("batterygym/"))
REL_TOL = 1e-5
RANDOM_EPISODES = 8


def load_contract():
    """The shared contract module, or None when the file is not there."""
    if not CONTRACT.is_file():
        return None
    spec = importlib.util.spec_from_file_location("batterygym_shared_contract", CONTRACT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------ the fallback
def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def _same(a, b) -> bool:
    """Scenarios compared field by field (dataclasses of numbers, arrays, lists and dicts)."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _episode(env: gym.Env, seed: int, actions=None, sample: bool = False) -> tuple[float, int, bool, bool]:
    """Total reward, steps, whether every obs stayed in the space, whether the episode ended on its own."""
    obs, _ = env.reset(seed=seed)
    total, steps, inside = 0.0, 0, bool(env.observation_space.contains(obs))
    while True:
        if actions is not None:
            if steps >= len(actions):
                return total, steps, inside, False
            action = actions[steps]
        elif sample:
            action = env.action_space.sample()
        else:
            action = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
        obs, reward, terminated, truncated, _ = env.step(action)
        assert math.isfinite(float(reward)), f"non-finite reward {reward!r} at step {steps}"
        total += float(reward)
        steps += 1
        inside = inside and bool(env.observation_space.contains(obs))
        if terminated or truncated:
            return total, steps, inside, True


def fallback_check(env_id: str, solve=None) -> str:
    """The contract's four clauses; raises AssertionError naming the broken one, returns a summary line."""
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from batterygym.baselines import solve_optimal

    solve = solve or solve_optimal
    # 1. both checkers on the unwrapped env
    try:
        check_env(gym.make(env_id).unwrapped, skip_render_check=True)
    except Exception as exc:  # noqa: BLE001 - report whatever the checker raised
        raise AssertionError(f"{env_id}: check_env: {exc!r}") from exc
    try:
        sb3_check_env(gym.make(env_id).unwrapped, warn=False)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{env_id}: stable-baselines3 check_env: {exc!r}") from exc

    # 2. seeding
    env = gym.make(env_id)
    base = env.unwrapped
    obs_a, _ = env.reset(seed=7)
    scen_a = base.scenario
    obs_b, _ = env.reset(seed=7)
    assert np.array_equal(obs_a, obs_b) and _same(scen_a, base.scenario), f"{env_id}: seeding: seed 7 twice differs"
    env.reset(seed=8)
    assert not _same(scen_a, base.scenario), f"{env_id}: seeding: seeds 7 and 8 give the same scenario"

    # 3. replay of the optimum
    env.reset(seed=11)
    plan = solve(base.scenario)
    actions = np.asarray(plan.actions)
    replayed, steps, inside, ended = _episode(env, 11, actions=actions)
    assert ended and steps == len(actions), (
        f"{env_id}: replay: episode took {steps} steps (ended={ended}), the plan has {len(actions)} actions")
    assert _close(replayed, plan.objective), f"{env_id}: replay: env earned {replayed:.6f}, plan {plan.objective:.6f}"
    assert inside, f"{env_id}: replay: an observation left observation_space"

    # 4. optimality against the zero action and random policies
    env.action_space.seed(0)
    best = _episode(env, 11)[0]
    for _ in range(RANDOM_EPISODES):
        best = max(best, _episode(env, 11, sample=True)[0])
    assert best <= plan.objective + REL_TOL * max(1.0, abs(plan.objective)), (
        f"{env_id}: optimality: a simple policy earned {best:.6f} > optimum {plan.objective:.6f}")
    env.close()
    return f"ok {env_id}: {steps} steps, optimum {plan.objective:.2f}, best simple policy {best:.2f}"


# ------------------------------------------------------------------------------------------ tests
def test_ids_are_registered():
    assert "batterygym/Industrial-v0" in ENV_IDS


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_contract(env_id, capsys):
    contract = load_contract()
    if contract is None:
        warnings.warn(f"{CONTRACT} not found: ran the in-test fallback of the contract", stacklevel=1)
        fallback_check(env_id)
        return
    try:
        contract.check(env_id)
    except SystemExit as exc:
        pytest.fail(f"contract.py exited with {exc.code}: {capsys.readouterr().out.strip()}", pytrace=False)
    out = capsys.readouterr().out
    assert f"ok   {env_id}" in out, out


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_fallback_contract_passes(env_id):
    """The fallback is what runs without ../shared: it must pass on a correct suite too."""
    assert fallback_check(env_id).startswith(f"ok {env_id}")


def test_fallback_contract_catches_a_wrong_objective():
    """...and it can fail: a plan whose objective is off by one euro breaks the replay clause."""
    from batterygym.baselines import solve_optimal

    def off_by_one(scenario):
        plan = solve_optimal(scenario)
        plan.objective += 1.0
        return plan

    with pytest.raises(AssertionError, match=r"replay: env earned"):
        fallback_check("batterygym/Industrial-v0", solve=off_by_one)


def test_fallback_contract_catches_a_policy_beating_the_plan():
    """A 'plan' that is the optimum turned upside down (charge when it discharged and back) replays exactly, but
    the zero action earns more: the optimality clause must fail."""
    from batterygym.baselines import solve_optimal

    def upside_down(scenario):
        plan = solve_optimal(scenario)
        env = gym.make("batterygym/Industrial-v0")
        plan.actions = -np.asarray(plan.actions)
        plan.objective = _episode(env, 11, actions=plan.actions)[0]
        return plan

    with pytest.raises(AssertionError, match=r"optimality: a simple policy earned"):
        fallback_check("batterygym/Industrial-v0", solve=upside_down)


def test_missing_contract_file_runs_the_fallback(monkeypatch, tmp_path, capsys):
    """Without ../shared the test does not skip: it warns and runs the fallback clauses."""
    monkeypatch.setattr(sys.modules[__name__], "CONTRACT", tmp_path / "absent" / "contract.py", raising=True)
    assert load_contract() is None
    with pytest.warns(UserWarning, match=r"in-test fallback"):
        test_contract("batterygym/Industrial-v0", capsys)
