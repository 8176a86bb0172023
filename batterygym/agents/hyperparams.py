"""Tuned defaults per algorithm and env id, kept as data (``hyperparams/<algo>.toml``)."""
from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

ALGOS = ("ppo", "sac")


def load_hyperparams(algo: str, env_id: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The hyper-parameters for ``algo`` on ``env_id`` (its table, else ``default``), with overrides."""
    algo = algo.lower()
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")
    text = resources.files("batterygym.agents").joinpath(f"hyperparams/{algo}.toml").read_text()
    tables = tomllib.loads(text)
    params = copy.deepcopy(tables.get(env_id, tables["default"]))
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(params.get(key), dict):
            params[key].update(value)
        else:
            params[key] = value
    return params
