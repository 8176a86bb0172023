"""The input checks every env shares: constructor arguments (look-ahead, render mode, a fixed scenario or
generator options), reset arguments, and naming a non-finite action."""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_env_args(env: Any, scenario: Any, scenario_cls: type, lookahead: Any, render_mode: Any,
                   options: dict[str, Any], what: str) -> None:
    """Raise a ``ValueError`` naming the argument and its value; ``what`` names the generator's options."""
    if not isinstance(lookahead, int) or isinstance(lookahead, bool) or lookahead < 1:
        raise ValueError(f"lookahead must be a positive integer, got {lookahead!r}")
    modes = env.metadata["render_modes"]
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be one of {modes}, got {render_mode!r}")
    if scenario is not None and options:
        raise ValueError(f"give either a scenario or {what} options, not both (got {sorted(options)})")
    if scenario is not None and not isinstance(scenario, scenario_cls):
        name = scenario_cls.__name__
        article = "an" if name[0] in "AEIOU" else "a"
        raise ValueError(f"scenario must be {article} {name}, got {type(scenario).__name__}")


def action_values(action: Any, shape: tuple[int, ...], layout: str) -> list[float]:
    """A step's action as plain floats (what the core steps read), refusing another shape (``layout`` says
    what the values are) and NaN or inf."""
    a = action if isinstance(action, np.ndarray) else np.asarray(action, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"action must have shape {shape}: {layout}, got shape {a.shape}")
    values = a.tolist()
    if not math.isfinite(sum(values)):  # a NaN or an inf somewhere (or finite values summing beyond float range)
        raise_non_finite(values)
    return values


def raise_non_finite(values: list[float]) -> None:
    """Name the first NaN or inf of an action (called once its sum is not finite, off the hot path)."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ValueError(f"action must be finite, got {'NaN' if v != v else v} at index {i}")


def check_reset_args(seed: Any, options: Any, known: tuple[str, ...] = ()) -> None:
    """Raise a ``ValueError`` for a seed gymnasium refuses (negative, not an int) and for reset options the env
    does not take (naming them and the ones it knows); ``known`` lists the option keys the env reads."""
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    if options:
        if not isinstance(options, dict):
            raise ValueError(f"options must be a dict or None, got {options!r}")
        unknown = sorted(set(options) - set(known), key=str)
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; known: {sorted(known) if known else 'none'}")
