"""Input checks that raise a ValueError naming the field and the value, at construction time."""
from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_finite(name: str, value: float) -> None:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def check_positive(name: str, value: float) -> None:
    check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def check_nonnegative(name: str, value: float) -> None:
    check_finite(name, value)
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")


def check_fraction(name: str, value: float) -> None:
    check_finite(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def as_series(name: str, values: object, length: int | None = None, nonnegative: bool = False) -> np.ndarray:
    """A read-only float64 copy of a 1-d series, checked for shape, NaN and sign."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} values, expected {length}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} has a non-finite value {float(arr[bad[0]])!r} at step {int(bad[0])}")
    if nonnegative:
        neg = np.flatnonzero(arr < 0)
        if neg.size:
            raise ValueError(f"{name} must be non-negative, got {float(arr[neg[0]])!r} at step {int(neg[0])}")
    arr.setflags(write=False)
    return arr


T = TypeVar("T")


def from_known_kwargs(cls: type[T], what: str, kwargs: dict[str, Any]) -> T:
    """Build the config dataclass ``cls`` from keywords, naming any unknown one (env kwargs go through here)."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise TypeError(f"unknown {what} option(s) {unknown}; known: {sorted(known)}")
    return cls(**kwargs)
