"""Regret of policies against the perfect-foresight optimum, on the same held-out episodes.

Regret of a policy on an episode: ``optimum - return`` (money). Captured share: the part of the
optimum's gain over idle that the policy earns, ``(return - idle) / (optimum - idle)``. A negative
regret means the env and its MILP disagree: :class:`RegretError`, never a quiet number. Where the
solver stopped at a limit, the optimum is only the best schedule found: its row says so
(``proven_optimal`` False, beside ``optimum``, with the gap) and a warning is raised.
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import batterygym  # noqa: F401 - registers the ids
from batterygym.agents.policy import PackedRun
from batterygym.agents.seeds import eval_seeds

REGRET_TOL = 1e-5


class RegretError(AssertionError):
    """A policy beat the optimum: the env and the MILP disagree on this episode."""


def as_policy(policy: Any, env: gym.Env) -> Callable[[np.ndarray], np.ndarray]:
    """A callable ``obs -> action`` from a policy, a policy class taking the env (or a ``functools.partial``
    of one), an SB3 model, or a training run's directory.

    An SB3 model is used with the observation statistics of its ``VecNormalize`` env. A model without
    one (e.g. loaded from a zip alone) is refused, since a model trained on normalised observations
    acts on raw ones without them: pass the run directory, or ``SB3Policy(model)`` for a model trained
    without normalisation.
    """
    if isinstance(policy, type) or (isinstance(policy, functools.partial) and isinstance(policy.func, type)):
        return policy(env)
    if isinstance(policy, str | os.PathLike):
        from batterygym.agents.policy import load_agent

        return load_agent(policy, env)
    if isinstance(policy, PackedRun):
        from batterygym.agents.policy import load_agent

        return load_agent(policy.local_dir(), env)
    if hasattr(policy, "predict") and hasattr(policy, "policy"):  # an SB3 model
        from batterygym.agents.policy import SB3Policy

        vn = policy.get_vec_normalize_env()
        if vn is None:
            raise ValueError("an SB3 model without its VecNormalize env has lost the observation statistics it "
                             "was trained with: pass the run directory (batterygym train --out DIR), or "
                             "SB3Policy(model) if it was trained without normalisation")
        mean, var = (vn.obs_rms.mean, vn.obs_rms.var) if vn.norm_obs else (None, None)
        return SB3Policy(policy, mean, var, vn.clip_obs, vn.epsilon)
    if callable(policy):
        return policy
    raise TypeError(f"a policy must be callable obs -> action, a class taking the env, an SB3 model or a run "
                    f"directory; got {type(policy).__name__}")


def evaluate_policies(
    policies: Mapping[str, Any],
    env_id: str,
    seeds: Sequence[int] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    progress: bool = False,
    optimum_options: Mapping[str, Any] | None = None,
    ray: str | None = None,
    ray_cpus: int | None = None,
) -> pd.DataFrame:
    """Every policy on every seed, with the optimum and idle of the same episode: one row each.

    ``policies`` maps a name to a policy (see :func:`as_policy`); the optimum is solved once per
    seed with ``solve_optimal`` and the idle return is the zero action's. Each seed is one piece of
    :func:`~batterygym.scale.tasks.map_tasks`, its policies bound afresh to its own envs: here, or as a
    Ray task on the cluster ``ray`` names, where a run directory travels as a
    :class:`~batterygym.agents.policy.PackedRun`. Both give the same rows.
    """
    from batterygym.scale.tasks import map_tasks

    seeds = list(eval_seeds(10) if seeds is None else seeds)
    policies = dict(policies)
    if ray is not None:
        policies = {k: PackedRun.of(p, top_only=True) if isinstance(p, str | os.PathLike) else p
                    for k, p in policies.items()}
    pieces = [(policies, env_id, seed, dict(env_kwargs or {}), dict(optimum_options or {})) for seed in seeds]
    rows = map_tasks(episode_rows, pieces, keys=[f"{env_id} seed {s}" for s in seeds], ray=ray, ray_cpus=ray_cpus,
                     desc=f"evaluating {env_id}", unit="episode", progress=progress)
    for part in rows:
        if part and not part[0]["proven_optimal"]:
            r = part[0]
            warnings.warn(f"{env_id} seed {r['seed']}: the optimum stopped at its limit ({r['solver_status']}, gap "
                          f"{100 * r['mip_gap']:.2f} %), not proven optimal: its regret is a lower bound", stacklevel=2)
    return pd.DataFrame([row for part in rows for row in part])


def episode_rows(piece: tuple[Mapping[str, Any], str, int, dict[str, Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of :func:`evaluate_policies` for one seed: ``(policies, env_id, seed, env_kwargs, optimum_options)``."""
    from batterygym.baselines import solve_optimal
    from batterygym.baselines.rollout import rollout

    policies, env_id, seed, env_kwargs, optimum_options = piece
    idle_env = gym.make(env_id, **env_kwargs)
    zero = np.zeros(idle_env.action_space.shape, dtype=idle_env.action_space.dtype)
    idle_env.reset(seed=seed)
    plan = solve_optimal(idle_env.unwrapped.scenario, **optimum_options)
    idle, _ = rollout(idle_env, lambda _obs: zero, seed)
    idle_env.close()
    gain = plan.objective - idle
    proven = plan.status == "optimal"
    best = plan.objective if plan.bound is None else max(plan.bound, plan.objective)
    rows = []
    for name, spec in policies.items():
        env = gym.make(env_id, **env_kwargs)
        ret, _ = rollout(env, as_policy(spec, env), seed)
        env.close()
        if ret > best + REGRET_TOL * max(1.0, abs(best)):  # beyond the solver's own bound
            raise RegretError(
                f"{name} earned {ret:.6f} > the optimum's bound {best:.6f} (plan {plan.objective:.6f}, "
                f"{plan.status}, gap {plan.mip_gap:.1e}) on {env_id} seed {seed}: the env and the MILP disagree"
            )
        rows.append({
            "env_id": env_id, "policy": name, "seed": seed, "return": ret, "optimum": plan.objective,
            "proven_optimal": proven, "mip_gap": plan.mip_gap, "idle": idle, "regret": max(plan.objective - ret, 0.0),
            "captured": (ret - idle) / gain if abs(gain) > 1e-9 else np.nan,
            "solver_status": plan.status, "solver_gap": plan.mip_gap, "optimum_bound": best,
        })
    return rows


def regret(
    policy: Any,
    env_id: str,
    seeds: Sequence[int] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    progress: bool = False,
    optimum_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Score one policy (callable, policy class or SB3 model) on held-out episodes of ``env_id``.

    One row per seed: return, optimum (with ``proven_optimal`` and its ``mip_gap``), idle, regret
    (optimum - return) and captured share. ``optimum_options`` go to ``solve_optimal`` (e.g. ``time_limit``).
    """
    df = evaluate_policies({"policy": policy}, env_id, seeds, env_kwargs, progress, optimum_options)
    return df.drop(columns=["policy"])


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread per env and policy of an :func:`evaluate_policies` table."""
    g = df.groupby(["env_id", "policy"], sort=False)
    out = pd.DataFrame({
        "episodes": g.size(),
        "mean_return": g["return"].mean(),
        "mean_regret": g["regret"].mean(),
        "regret_std": g["regret"].std(ddof=0),
        "captured": g["captured"].mean(),
        "captured_std": g["captured"].std(ddof=0),
    })
    return out.reset_index()
