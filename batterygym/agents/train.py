"""Train PPO, SAC or TQC (stable-baselines3, sb3-contrib) on a batterygym env, as any of its agents
(:mod:`batterygym.agents.recipes`), and save everything evaluation needs.

A run directory holds ``model.zip``, ``vecnormalize.pkl`` (observation/reward statistics),
``run.json`` (env id and kwargs, algorithm, hyper-parameters, seeds, steps, wall time, versions),
``checkpoints/`` and TensorBoard logs in ``tb/``.
"""
from __future__ import annotations

import importlib
import inspect
import json
import platform
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from batterygym.agents.hyperparams import load_hyperparams
from batterygym.agents.seeds import train_seed_range
from batterygym.agents.wrappers import EpisodeSeeds, IdleBaselineReward


def make_train_env(env_id: str, env_kwargs: dict[str, Any], seeds, reward_baseline: str | None,
                   agent: str = "plain"):
    """One training env: the registered env (with the agent's training keywords), Monitor (true money),
    reward baseline, the agent's view, seed schedule."""
    from stable_baselines3.common.monitor import Monitor

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.agents.recipes import recipe

    r = recipe(env_id, agent)
    env = gym.make(env_id, **{**r.train_kwargs, **env_kwargs})
    env = Monitor(env)
    if reward_baseline == "idle":
        env = IdleBaselineReward(env)
    elif reward_baseline not in (None, "none"):
        raise ValueError(f"reward_baseline must be 'idle' or 'none', got {reward_baseline!r}")
    return EpisodeSeeds(r.training_env(env), seeds)


# From this many training envs on, PPO trains faster on the native vector env than on DummyVecEnv's loop
# (Industrial-v0, PPO, 8,192 steps, quiet 2-core machine: 4 envs 0.95x, 8 envs 1.02-1.03x, 16 envs 1.15x;
# V2G-v0: 4 envs 1.04x, 16 envs 1.14x). Below it the env is a small part of a PPO step and the adapter's
# bookkeeping costs more than the batching saves.
VECTOR_FROM_N_ENVS = 8


def use_vector_env(env_id: str, choice: Any, n_envs: int) -> bool:
    """Whether training steps the id's native vector env (``env.vector`` in the hyper-parameters:
    ``"auto"`` when the id has one and ``n_envs >= VECTOR_FROM_N_ENVS``, or true/false)."""
    if choice not in ("auto", True, False):
        raise ValueError(f"hyperparams env.vector must be 'auto', true or false, got {choice!r}")
    has = gym.spec(env_id).vector_entry_point is not None
    if choice is True and not has:
        raise ValueError(f"hyperparams env.vector = true, but {env_id} has no native vector env")
    return has and (choice is True or (choice == "auto" and n_envs >= VECTOR_FROM_N_ENVS))


def resolve_policy(policy: str) -> Any:
    """SB3's policy names (``"MlpPolicy"``) as they are; ``"module:Class"`` imported (hyper-parameter files
    stay plain text)."""
    if ":" not in policy:
        return policy
    module, _, name = policy.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"policy {policy!r} cannot be imported: {exc}") from None


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("batterygym", "gymnasium", "stable-baselines3", "torch", "numpy", "pyomo", "highspy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# keywords train() passes to the algorithm itself; hyper-parameters may not set them
_OWN_KWARGS = ("policy", "env", "seed", "device", "tensorboard_log", "verbose")
_ENV_WRAPPER_KEYS = ("normalize_obs", "normalize_reward", "reward_baseline", "reward_scale", "vector")


def check_hyperparams(cls: type, params: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
    """Pop and check ``n_envs``, ``env`` (the wrappers' table) and ``policy`` from ``params``; raise a
    ValueError naming any key the algorithm ``cls`` does not take (instead of its TypeError)."""
    n_envs = params.pop("n_envs", 1)
    if not isinstance(n_envs, int) or isinstance(n_envs, bool) or n_envs < 1:
        raise ValueError(f"hyperparams n_envs must be a positive integer, got {n_envs!r}")
    env_cfg = params.pop("env", {})
    if not isinstance(env_cfg, dict):
        raise ValueError(f"hyperparams env must be a table of {list(_ENV_WRAPPER_KEYS)}, got {env_cfg!r}")
    unknown = sorted(set(env_cfg) - set(_ENV_WRAPPER_KEYS))
    if unknown:
        raise ValueError(f"unknown hyperparams env key(s) {unknown}; known: {list(_ENV_WRAPPER_KEYS)}")
    scale = env_cfg.get("reward_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < float("inf"):
        raise ValueError(f"hyperparams env.reward_scale must be a positive number, got {scale!r}")
    policy = params.pop("policy", "MlpPolicy")
    if not isinstance(policy, str):
        raise ValueError(f"hyperparams policy must be a string (an SB3 name or 'module:Class'), got {policy!r}")
    accepted = {k for k in inspect.signature(cls).parameters if not k.startswith("_")} - set(_OWN_KWARGS)
    own = sorted(set(params) & set(_OWN_KWARGS))
    if own:
        raise ValueError(f"hyperparams may not set {own}: train() sets them (use --seed for the seed)")
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} hyperparameter(s) {unknown}; known: "
                         f"{sorted(accepted | {'n_envs', 'env', 'policy'})}")
    return n_envs, env_cfg, policy


def check_out_dir(out: Path, env_id: str, algo: str) -> None:
    """Refuse a run directory that would mix runs: an existing file, or a directory whose ``run.json`` records
    another env or algorithm (training there would overwrite its model and mix the checkpoints)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is an existing file, not a run directory")
    record_path = out / "run.json"
    if not record_path.is_file():
        return
    try:
        record = json.loads(record_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--out {str(out)!r} holds an unreadable run.json ({exc}); choose another directory") \
            from None
    if not isinstance(record, dict):
        raise ValueError(f"--out {str(out)!r} holds a run.json that is not a run record; choose another directory")
    theirs = (record.get("env_id"), str(record.get("algo", algo)).lower())
    if theirs != (env_id, algo):
        raise ValueError(f"--out {str(out)!r} holds a {theirs[1].upper()} run of {theirs[0]}; training {algo.upper()} "
                         f"on {env_id} there would overwrite it and mix their checkpoints: choose another directory")


def train(
    env_id: str,
    algo: str = "ppo",
    total_timesteps: int = 200_000,
    seed: int = 0,
    out: str | Path = "runs/run",
    env_kwargs: dict[str, Any] | None = None,
    hyperparams: dict[str, Any] | None = None,
    progress_bar: bool = True,
    checkpoints: int = 4,
    torch_threads: int = 1,
    verbose: int = 0,
    agent: str = "plain",
) -> Path:
    """Train ``algo`` on ``env_id`` as ``agent`` for ``total_timesteps`` and save the run to ``out``."""
    try:
        import torch
        from stable_baselines3.common.callbacks import CheckpointCallback
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
    except ImportError as exc:
        raise ImportError(f"training needs the rl extra: pip install 'batterygym[rl]' ({exc})") from None
    import batterygym  # noqa: F401

    if env_id not in gym.registry:
        known = sorted(i for i in gym.registry if i.startswith("batterygym/"))
        raise ValueError(f"unknown env id {env_id!r}; registered: {known}")
    if total_timesteps <= 0:
        raise ValueError(f"total_timesteps must be positive, got {total_timesteps!r}")
    from batterygym.agents.recipes import algo_class, recipe

    env_kwargs = dict(env_kwargs or {})
    r = recipe(env_id, agent)
    params = load_hyperparams(algo, env_id, hyperparams, agent)
    cls = algo_class(algo.lower())
    n_envs, env_cfg, policy = check_hyperparams(cls, params)
    lo, hi = train_seed_range(seed)
    out = Path(out)
    check_out_dir(out, env_id, algo.lower())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a parent is a file
        raise ValueError(f"cannot create the run directory {str(out)!r}: {exc.strerror or exc}") from None
    torch.set_num_threads(torch_threads)

    wrapped: list[Any] = []
    schedules = [iter(range(lo + rank, hi, n_envs)) for rank in range(n_envs)]
    # an agent's view is a wrapper of the scalar env: it trains on DummyVecEnv
    vector = agent == "plain" and use_vector_env(env_id, env_cfg.get("vector", "auto"), n_envs)
    if vector:
        from batterygym.agents.vector_training import make_training_vec_env

        inner = make_training_vec_env(env_id, n_envs, env_kwargs, schedules, env_cfg.get("reward_baseline"))
        wrapped.append(inner)
    else:
        def factory(rank: int):
            def make() -> gym.Env:
                env = make_train_env(env_id, env_kwargs, schedules[rank], env_cfg.get("reward_baseline"), agent)
                wrapped.append(env)
                return env

            return make

        inner = DummyVecEnv([factory(i) for i in range(n_envs)])
    scale = env_cfg.get("reward_scale", 1.0)
    if scale != 1.0:
        from batterygym.agents.vector_training import VecRewardScale

        inner = VecRewardScale(inner, float(scale))
    venv = VecNormalize(
        inner,
        norm_obs=bool(env_cfg.get("normalize_obs", True)),
        norm_reward=bool(env_cfg.get("normalize_reward", True)),
        gamma=float(params.get("gamma", 0.99)),
    )
    model = cls(resolve_policy(policy), venv, seed=seed, device="cpu", tensorboard_log=str(out / "tb"),
                verbose=verbose, **params)
    callbacks = []
    if checkpoints > 0:
        every = max(total_timesteps // (checkpoints * n_envs), 1)
        callbacks.append(CheckpointCallback(every, str(out / "checkpoints"), name_prefix=algo.lower(),
                                            save_vecnormalize=True))
    record: dict[str, Any] = {
        "status": "training",
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "agent": agent,
        "train_env_kwargs": {**r.train_kwargs, **env_kwargs},
        "algo": algo.lower(),
        "seed": seed,
        "requested_timesteps": total_timesteps,
        "n_envs": n_envs,
        "vector_env": vector,
        "policy": policy,
        "hyperparams": params,
        "env_wrappers": env_cfg,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / "run.json").write_text(json.dumps(record, indent=2, default=str))  # checkpoints load from now on
    t0 = time.perf_counter()
    model.learn(total_timesteps, callback=callbacks, progress_bar=progress_bar, tb_log_name=algo.lower())
    wall = time.perf_counter() - t0
    model.save(out / "model.zip")
    venv.save(str(out / "vecnormalize.pkl"))
    episodes = sum(env.episodes for env in wrapped)
    last = max((env.last_seed for env in wrapped if env.last_seed is not None), default=None)
    record.update({
        "status": "done",
        "total_timesteps": int(model.num_timesteps),
        "train_episode_seeds": {"allowed": [lo, hi], "episodes": episodes, "first": lo, "last": last},
        "wall_seconds": wall,
        "steps_per_second": model.num_timesteps / wall if wall > 0 else None,
    })
    (out / "run.json").write_text(json.dumps(record, indent=2, default=str))
    venv.close()
    return out



def add_arguments(parser) -> None:
    parser.add_argument("--env", default="batterygym/Industrial-v0", help="registered env id")
    parser.add_argument("--algo", default="ppo", choices=["ppo", "sac", "tqc"],
                        help="stable-baselines3 algorithm (tqc: sb3-contrib)")
    parser.add_argument("--agent", default="plain",
                        help="what the algorithm trains on: plain, or one of the env's agents (Industrial-v0: cap; "
                             "V2G-v0, Fleet-v0: item)")
    parser.add_argument("--steps", type=int, default=200_000, help="training env steps")
    parser.add_argument("--seed", type=int, default=0, help="run seed (its training episodes never overlap "
                        "the held-out evaluation episodes)")
    parser.add_argument("--out", required=True, help="run directory to write")
    parser.add_argument("--env-kwargs", default="{}", help="JSON object of env keyword arguments")
    parser.add_argument("--hyperparams", default="{}", help="JSON object overriding the tuned defaults")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    env_kwargs = json_object_arg("--env-kwargs", args.env_kwargs)
    hyper = json_object_arg("--hyperparams", args.hyperparams)
    out = train(args.env, args.algo, args.steps, seed=args.seed, out=args.out, env_kwargs=env_kwargs,
                hyperparams=hyper, progress_bar=not args.no_progress, agent=args.agent)
    rec = json.loads((out / "run.json").read_text())
    print(f"trained {rec['algo'].upper()} on {rec['env_id']}: {rec['total_timesteps']:,} steps in "
          f"{rec['wall_seconds']:.0f} s ({rec['steps_per_second']:.0f} steps/s); saved to {out}")
    print(f"score it: batterygym evaluate {out} --episodes 20   (TensorBoard: tensorboard --logdir {out / 'tb'})")
    return 0


def json_object_arg(flag: str, text: str) -> dict[str, Any]:
    """An option that holds a JSON object (``--env-kwargs``, ``--hyperparams``), or a ValueError naming it."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{flag} must be a JSON object, got {text!r} ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object, got {text!r}")
    return value
