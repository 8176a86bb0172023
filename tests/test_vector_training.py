"""SB3 on a native vector env sees what it sees on DummyVecEnv over the scalar training envs."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

import batterygym  # noqa: E402,F401
from batterygym.agents.train import make_train_env  # noqa: E402
from batterygym.agents.vector_training import SB3VectorEnv, make_training_vec_env  # noqa: E402

CASES = {
    "batterygym/Industrial-v0": {"n_days": 1},
    "batterygym/Fleet-v0": {},
    "batterygym/V2G-v0": {"n_evs": 4},
    "batterygym/MicrogridBSS-v0": {},
}


def _schedules(n: int, lo: int = 500) -> list:
    return [iter(range(lo + r, lo + 10_000, n)) for r in range(n)]


@pytest.mark.parametrize("env_id", sorted(CASES))
@pytest.mark.parametrize("baseline", ["idle", None])
def test_adapter_matches_dummy_vec_env(env_id: str, baseline: str | None) -> None:
    kwargs, n = CASES[env_id], 3
    ref = DummyVecEnv([lambda it=it: make_train_env(env_id, kwargs, it, baseline) for it in _schedules(n)])
    vec = make_training_vec_env(env_id, n, kwargs, _schedules(n), baseline)
    np.testing.assert_allclose(vec.reset(), ref.reset(), rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(1)
    episodes = 0
    for t in range(60):
        a = rng.uniform(-1.1, 1.1, size=(n, *vec.action_space.shape)).astype(np.float32)
        ov, rv, dv, iv = vec.step(a)
        orf, rr, dr, ir = ref.step(a)
        np.testing.assert_allclose(rv, rr, rtol=1e-5, atol=1e-5, err_msg=f"step {t}")
        np.testing.assert_array_equal(dv, dr)
        np.testing.assert_allclose(ov, orf, rtol=1e-6, atol=1e-6, err_msg=f"step {t}")
        for i in np.flatnonzero(dr):
            episodes += 1
            assert iv[i]["TimeLimit.truncated"] == ir[i]["TimeLimit.truncated"]
            np.testing.assert_allclose(iv[i]["terminal_observation"], ir[i]["terminal_observation"], rtol=1e-6,
                                       atol=1e-6)
            assert iv[i]["episode"]["l"] == ir[i]["episode"]["l"]
            assert iv[i]["episode"]["r"] == pytest.approx(ir[i]["episode"]["r"], rel=1e-9, abs=1e-6)
    assert episodes >= n  # every sub-env ended an episode: the autoreset and its seed schedule were compared
    seeds = [env.last_seed for env in ref.envs]
    assert vec.last_seed == max(seeds)
    vec.close()
    ref.close()


def test_adapter_refuses_next_step_autoreset() -> None:
    venv = gym.make_vec("batterygym/Industrial-v0", num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="SameStep"):
        SB3VectorEnv(venv)


@pytest.mark.parametrize("env_id", sorted(CASES))
def test_idle_baseline_is_the_envs_idle_return(env_id: str) -> None:
    """The idle series the wrapper subtracts is what stepping the env with zero actions pays, step by step."""
    from batterygym.agents.wrappers import IdleBaselineReward

    env = gym.make(env_id, **CASES[env_id])
    shaped = IdleBaselineReward(gym.make(env_id, **CASES[env_id]))
    env.reset(seed=7)
    shaped.reset(seed=7)
    zero = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    done, steps = False, 0
    while not done:
        _, r, term, trunc, _ = env.step(zero)
        _, r_shaped, *_ = shaped.step(zero)
        assert r_shaped == pytest.approx(0.0, abs=1e-9 * max(1.0, abs(r)))
        done, steps = term or trunc, steps + 1
    assert steps == env.unwrapped.idle_rewards().shape[0]


@pytest.mark.parametrize("vector", [True, False])
def test_training_on_the_vector_env_records_the_same_seed_schedule(tmp_path, vector: bool) -> None:
    """A short PPO run on either env kind: run.json says which, and the episodes it saw are the schedule's."""
    import json

    from batterygym.agents import train, train_seed_range

    hyper = {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1,
             "env": {"vector": vector, "reward_baseline": "idle"}}
    out = train("batterygym/Industrial-v0", "ppo", 96, seed=2, out=tmp_path / "run", env_kwargs={"n_days": 1},
                hyperparams=hyper, progress_bar=False, checkpoints=0)
    record = json.loads((out / "run.json").read_text())
    assert record["vector_env"] is vector
    lo, _ = train_seed_range(2)
    seeds = record["train_episode_seeds"]
    per_env = 1 + (record["total_timesteps"] // 2) // 24  # 24-step episodes; the first starts at reset
    assert per_env >= 2
    assert seeds["episodes"] == 2 * per_env
    assert seeds["last"] == lo + 2 * (per_env - 1) + 1  # env 1's schedule: lo + 1, lo + 3, ...


def test_vector_choice_is_checked() -> None:
    from batterygym.agents.train import VECTOR_FROM_N_ENVS, use_vector_env

    assert use_vector_env("batterygym/Industrial-v0", "auto", VECTOR_FROM_N_ENVS)
    assert not use_vector_env("batterygym/Industrial-v0", "auto", VECTOR_FROM_N_ENVS - 1)
    assert use_vector_env("batterygym/Industrial-v0", True, 1)
    with pytest.raises(ValueError, match="env.vector must be 'auto', true or false, got 'yes'"):
        use_vector_env("batterygym/Industrial-v0", "yes", 4)


def test_reward_scale_multiplies_the_training_rewards_alone() -> None:
    from batterygym.agents.train import check_hyperparams
    from batterygym.agents.vector_training import VecRewardScale

    def venv() -> DummyVecEnv:
        return DummyVecEnv([lambda: make_train_env("batterygym/Industrial-v0", {"n_days": 1}, iter(range(7, 99)),
                                                   "idle")])

    plain, scaled = venv(), VecRewardScale(venv(), 0.01)
    np.testing.assert_array_equal(plain.reset(), scaled.reset())
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = rng.uniform(-1, 1, (1, *plain.action_space.shape)).astype(np.float32)
        s1, r1, d1, _ = plain.step(a)
        s2, r2, d2, _ = scaled.step(a)
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_allclose(r2, 0.01 * r1, rtol=1e-12)
        assert d1.tolist() == d2.tolist()
    from stable_baselines3 import SAC

    for bad in (0, -1.0, True, "x", float("inf")):
        with pytest.raises(ValueError, match="env.reward_scale must be a positive number"):
            check_hyperparams(SAC, {"env": {"reward_scale": bad}})
