"""Tuned defaults per algorithm, env id and agent, kept as data (``hyperparams/<algo>.toml``)."""
from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

ALGOS = ("ppo", "sac", "tqc")


def load_hyperparams(algo: str, env_id: str, overrides: dict[str, Any] | None = None,
                     agent: str = "plain") -> dict[str, Any]:
    """The hyper-parameters for ``algo`` on ``env_id`` as ``agent``: the table ``"<env_id>:<agent>"`` (for an
    agent other than ``plain``), else the id's, else ``default``; then the overrides."""
    algo = algo.lower()
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")
    text = resources.files("batterygym.agents").joinpath(f"hyperparams/{algo}.toml").read_text()
    tables = tomllib.loads(text)
    key = f"{env_id}:{agent}" if agent != "plain" else env_id
    params = copy.deepcopy(tables.get(key, tables.get(env_id, tables["default"])))
    for k, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(params.get(k), dict):
            params[k].update(value)
        else:
            params[k] = value
    return params
