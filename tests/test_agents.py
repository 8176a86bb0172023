"""Training smoke runs (a few hundred steps): train -> save -> load -> evaluate, for PPO and SAC."""
from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401
from batterygym.agents import SB3Policy, eval_seeds, load_hyperparams, train, train_seed_range
from batterygym.agents.evaluate import evaluate
from batterygym.agents.seeds import EVAL_SEED_BASE
from batterygym.agents.wrappers import EpisodeSeeds, IdleBaselineReward
from batterygym.cli import main

ENV = "batterygym/Industrial-v0"
TINY = {
    "ppo": {"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1},
    "sac": {"learning_starts": 50, "batch_size": 32, "buffer_size": 1000, "train_freq": 8, "gradient_steps": 1},
}


@pytest.fixture(scope="module", params=["ppo", "sac"])
def run_dir(request, tmp_path_factory):
    algo = request.param
    out = tmp_path_factory.mktemp(algo)
    train(ENV, algo, 200, seed=1, out=out, hyperparams=TINY[algo], progress_bar=False, checkpoints=1)
    return out


def test_run_directory_holds_what_evaluation_needs(run_dir):
    for name in ("model.zip", "vecnormalize.pkl", "run.json"):
        assert (run_dir / name).exists(), name
    assert list((run_dir / "checkpoints").glob("*.zip")), "no checkpoint written"
    assert list((run_dir / "tb").iterdir()), "no TensorBoard log"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "done"
    assert record["env_id"] == ENV
    assert record["total_timesteps"] >= 200
    lo, hi = record["train_episode_seeds"]["allowed"]
    assert (lo, hi) == train_seed_range(1)
    assert record["train_episode_seeds"]["last"] < hi <= EVAL_SEED_BASE
    assert record["versions"]["stable-baselines3"] != "not installed"


def test_evaluation_is_deterministic_and_never_beats_the_optimum(run_dir):
    a = evaluate(run_dir, episodes=2, progress=False)
    b = evaluate(run_dir, episodes=2, progress=False)
    assert list(a["seed"]) == eval_seeds(2)
    np.testing.assert_array_equal(a["return"].to_numpy(), b["return"].to_numpy())
    assert (a["regret"] >= 0).all()
    np.testing.assert_allclose(a["regret"], a["optimum"] - a["return"], rtol=1e-9, atol=1e-6)


def test_loaded_policy_acts_inside_the_action_space(run_dir):
    policy = SB3Policy.load(run_dir)
    env = gym.make(ENV)
    obs, _ = env.reset(seed=EVAL_SEED_BASE)
    action = policy(obs)
    assert env.action_space.contains(np.asarray(action, dtype=np.float32))
    ckpt = next((run_dir / "checkpoints").glob("*_steps.zip"))
    assert env.action_space.contains(np.asarray(SB3Policy.load(run_dir, checkpoint=ckpt)(obs), dtype=np.float32))


def test_episode_seed_schedule_is_followed():
    env = EpisodeSeeds(gym.make(ENV), iter([5, 9]))
    env.reset(seed=123)  # ignored: the schedule decides
    first = env.unwrapped.scenario
    assert env.last_seed == 5
    env.reset()
    assert env.last_seed == 9 and env.episodes == 2
    ref = gym.make(ENV)
    ref.reset(seed=5)
    np.testing.assert_array_equal(first.load_kw, ref.unwrapped.scenario.load_kw)


def test_idle_baseline_reward_is_zero_for_idle_and_shifts_returns_by_a_constant():
    env = IdleBaselineReward(gym.make(ENV))
    raw = gym.make(ENV)
    zero = np.zeros(1, dtype=np.float32)
    env.reset(seed=4)
    shaped = []
    done = False
    while not done:
        _, r, term, trunc, _ = env.step(zero)
        shaped.append(r)
        done = term or trunc
    assert np.allclose(shaped, 0.0, atol=1e-9)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (168, 1)).astype(np.float32)
    env.reset(seed=4)
    raw.reset(seed=4)
    shaped_total = sum(env.step(a)[1] for a in actions)
    raw_total = sum(raw.step(a)[1] for a in actions)
    raw.reset(seed=4)
    idle_total = sum(raw.step(zero)[1] for _ in range(168))
    assert shaped_total == pytest.approx(raw_total - idle_total, rel=1e-9, abs=1e-6)


def test_hyperparams_are_data_with_overrides():
    ppo = load_hyperparams("ppo", ENV)
    assert ppo["policy"] == "MlpPolicy" and ppo["n_envs"] >= 1
    over = load_hyperparams("ppo", ENV, {"learning_rate": 1e-5, "env": {"normalize_reward": False}})
    assert over["learning_rate"] == 1e-5
    assert over["env"]["normalize_reward"] is False and "normalize_obs" in over["env"]
    assert load_hyperparams("sac", "batterygym/Unknown-v0")["policy"] == "MlpPolicy"  # the default table
    with pytest.raises(ValueError, match="algo"):
        load_hyperparams("dqn", ENV)


def test_bad_training_requests_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="unknown env id"):
        train("batterygym/Nope-v0", "ppo", 10, out=tmp_path)
    with pytest.raises(ValueError, match="seed"):
        train(ENV, "ppo", 10, seed=-1, out=tmp_path)
    with pytest.raises(ValueError, match="total_timesteps"):
        train(ENV, "ppo", 0, out=tmp_path)


def test_cli_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    hyper = json.dumps(TINY["ppo"])
    assert main(["train", "--env", ENV, "--algo", "ppo", "--steps", "128", "--out", str(out),
                 "--hyperparams", hyper, "--no-progress"]) == 0
    assert "trained PPO" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--episodes", "1", "--csv", str(tmp_path / "eval.csv"),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "ppo" in printed and "regret" in printed
    assert (tmp_path / "eval.csv").exists()
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert main(["train", "--out", str(out), "--env-kwargs", "[1]"]) == 2
