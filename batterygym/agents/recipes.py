"""Agents: what an algorithm trains on and how the trained policy plays the plain env.

An :class:`AgentRecipe` names a view of an env (:mod:`batterygym.wrappers`) that an algorithm trains
on, and how the policy it learns acts on the plain env, step by step, so that it is scored by the env's
own reward on the same held-out episodes as every other rung. ``plain`` trains on the env itself. Each
setting lists its recipes in :mod:`batterygym.settings`; tuned hyper-parameters live in
``hyperparams/<algo>.toml`` under ``"<env id>:<agent>"``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class AgentRecipe:
    """One agent: its ``name`` (the rung is ``<algo>-<name>``), a one-line ``description``, the heuristic it
    corrects (None: it acts alone), env keywords its training env adds (``train_kwargs``), the view it trains
    on (``view``, a ``"module:attr"`` wrapper factory taking the env, or None) and how it plays the plain env
    (``deploy``, ``"module:attr"`` taking ``(env, agent)``, or None: the agent acts directly). ``steps`` and
    ``quick_steps``: training steps per algorithm for the full and the quick benchmark."""

    name: str
    description: str
    corrects: str | None = None
    train_kwargs: dict[str, Any] = field(default_factory=dict)
    view: str | None = None
    deploy: str | None = None
    steps: dict[str, int] = field(default_factory=dict)
    quick_steps: dict[str, int] = field(default_factory=dict)

    def training_env(self, env: gym.Env) -> gym.Env:
        """``env`` (the training env, already monitored and baselined) in the recipe's view."""
        return _load(self.view)(env) if self.view else env

    def policy(self, env: gym.Env, agent: Policy) -> Policy:
        """The trained ``agent`` as a policy of the plain ``env``."""
        return _load(self.deploy)(env, agent) if self.deploy else agent


def _load(ref: str) -> Any:
    from batterygym.settings import load

    return load(ref)


PLAIN = AgentRecipe("plain", "the algorithm on the env's own observation and action")

INDUSTRIAL_CAP = AgentRecipe(
    "cap", "corrects the water-filling cap: a raise of the import cap chosen once per 12-hour block",
    corrects="cap", view="batterygym.agents.recipes:cap_view", deploy="batterygym.agents.recipes:cap_policy",
    steps={"ppo": 400_000, "sac": 60_000}, quick_steps={"ppo": 60_000, "sac": 8_000})

V2G_ITEM = AgentRecipe(
    "item", "one charger's policy trained on its own reward (n_evs=1), played on every charger",
    train_kwargs={"n_evs": 1}, deploy="batterygym.wrappers.items:ItemwisePolicy",
    steps={"ppo": 1_200_000, "sac": 100_000}, quick_steps={"ppo": 200_000, "sac": 10_000})

FLEET_ITEM = AgentRecipe(
    "item", "one asset's policy (its id in the observation) trained on its own reward, played on every asset",
    view="batterygym.wrappers.items:FleetAssetView", deploy="batterygym.wrappers.items:ItemwisePolicy",
    steps={"ppo": 1_500_000, "sac": 250_000}, quick_steps={"ppo": 200_000, "sac": 10_000})

BLOCK_STEPS = 12  # the cap agent's block: two per day


def cap_view(env: gym.Env) -> gym.Env:
    from batterygym.wrappers.industrial_cap import CapOffsetAction

    return CapOffsetAction(env, block_steps=BLOCK_STEPS)


def cap_policy(env: gym.Env, agent: Policy) -> Policy:
    from batterygym.wrappers.industrial_cap import CapOffsetPolicy

    return CapOffsetPolicy(env, agent, block_steps=BLOCK_STEPS)


MICROGRID_BLOCK_STEPS = 3  # the knob agent's block: eight per day

MICROGRID_KNOBS = AgentRecipe(
    "knobs", "corrects the look-ahead plan: per category a lost swap's weight, and the storage's kept-energy value "
    "and grid markup, chosen once per 3-hour block",
    corrects="lookahead", view="batterygym.agents.recipes:knob_view", deploy="batterygym.agents.recipes:knob_policy",
    steps={"ppo": 150_000, "sac": 15_000}, quick_steps={"ppo": 20_000, "sac": 3_000})


def knob_view(env: gym.Env) -> gym.Env:
    from batterygym.wrappers.microgrid_knobs import MicrogridKnobAction

    return MicrogridKnobAction(env, block_steps=MICROGRID_BLOCK_STEPS)


def knob_policy(env: gym.Env, agent: Policy) -> Policy:
    from batterygym.wrappers.microgrid_knobs import MicrogridKnobPolicy

    return MicrogridKnobPolicy(env, agent, block_steps=MICROGRID_BLOCK_STEPS)


def recipes_for(env_id: str) -> dict[str, AgentRecipe]:
    """``plain`` and the recipes the id's setting lists, by name."""
    from batterygym.settings import load, setting_of_id

    out = {"plain": PLAIN}
    for ref in setting_of_id(env_id).agents:
        r = load(ref)
        out[r.name] = r
    return out


def recipe(env_id: str, name: str) -> AgentRecipe:
    """The recipe ``name`` of ``env_id``, or a ValueError naming the ones it has."""
    known = recipes_for(env_id)
    if name not in known:
        raise ValueError(f"agent {name!r} is not one of {env_id}'s: {sorted(known)}")
    return known[name]


def rung_name(algo: str, agent: str) -> str:
    """The benchmark rung of ``algo`` trained as ``agent``: ``ppo``, ``ppo-cap``, ..."""
    return algo if agent == "plain" else f"{algo}-{agent}"


@functools.cache
def algo_class(algo: str) -> type:
    """The stable-baselines3 (or sb3-contrib) class of ``algo``."""
    if algo == "ppo":
        from stable_baselines3 import PPO

        return PPO
    if algo == "sac":
        from stable_baselines3 import SAC

        return SAC
    if algo == "tqc":
        try:
            from sb3_contrib import TQC
        except ImportError as exc:
            raise ImportError(f"TQC needs sb3-contrib: pip install 'batterygym[rl]' ({exc})") from None
        return TQC
    raise ValueError(f"algo must be one of ('ppo', 'sac', 'tqc'), got {algo!r}")
