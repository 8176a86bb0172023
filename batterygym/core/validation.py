"""Input checks that raise a ValueError naming the field and the value, at construction time."""
from __future__ import annotations

import functools
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np


class UnknownOptionError(ValueError, TypeError):
    """An unknown keyword: bad input (a ValueError) that is also the TypeError Python raises for one."""


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
    check_known(cls, what, kwargs)
    return cls(**kwargs)


def check_known(cls: type, what: str, kwargs: Mapping[str, Any]) -> None:
    """Raise an :class:`UnknownOptionError` naming the keywords that are not fields of the dataclass ``cls``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise UnknownOptionError(f"unknown {what} option(s) {unknown}; known: {sorted(known)}")


# ------------------------------------------------------------------------------ types of config fields
_NUMBER_TYPES = (int, float, np.integer, np.floating)
_INT_TYPES = (int, np.integer)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass's fields (``from __future__ import annotations`` keeps strings)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls) if f.name in hints}


def _is_int(value: object) -> bool:
    return isinstance(value, _INT_TYPES) and not isinstance(value, bool)


def _scalar_kind(expected: Any) -> tuple[Any, str] | None:
    """A test and a description of the plain annotation ``expected`` (None for the ones not checked)."""
    if expected is bool:
        return (lambda v: isinstance(v, bool)), "a bool"
    if expected is int:
        return _is_int, "an integer"
    if expected is float:
        return _is_number, "a number"
    if expected is str:
        return (lambda v: isinstance(v, str)), "a string"
    if isinstance(expected, type) and typing.get_origin(expected) is None:
        return (lambda v: isinstance(v, expected)), f"a {expected.__name__}"
    return None


def _type_error(name: str, expected: Any, value: object) -> str | None:
    """Why ``value`` is not of the annotation ``expected`` (None when it is, or the annotation is not checked)."""
    origin = typing.get_origin(expected)
    none_ok = False
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        inner = [t for t in options if t is not type(None)]
        if value is None and len(inner) < len(options):
            return None
        if len(inner) != 1:  # unions of several types are left to the field's own checks
            return None
        none_ok, expected = len(inner) < len(options), inner[0]
        origin = typing.get_origin(expected)
    if origin is tuple:
        if isinstance(value, str):  # the field's own checks say what a string should have been
            return None
        if not isinstance(value, (list, tuple, np.ndarray)):
            return f"{name} must be a list{' or None' if none_ok else ''}, got {value!r}"
        args = typing.get_args(expected)
        items = list(value)
        if len(args) == 2 and args[1] is Ellipsis:
            kinds = [args[0]] * len(items)
        elif len(args) == len(items):
            kinds = list(args)
        else:  # a wrong length is left to the field's own checks, which say what is expected
            return None
        for i, (kind, item) in enumerate(zip(kinds, items, strict=True)):
            why = _type_error(f"{name}[{i}]", kind, item)
            if why is not None:
                return f"{why} (in {name}={value!r})"
        return None
    scalar = _scalar_kind(expected)
    if scalar is None or scalar[0](value):
        return None
    return f"{name} must be {scalar[1]}{' or None' if none_ok else ''}, got {value!r}"


def check_types(cls: type, values: Mapping[str, object], prefix: str = "") -> None:
    """Raise a ValueError naming the first of ``values`` that does not match its field's annotation in the
    dataclass ``cls``: a bool field takes only a bool, an int field an integer (not a bool, not a float), a
    float field an int or float (not a bool, not a string), a str field a string, ``X | None`` also None,
    ``tuple[X, ...]`` a list or tuple of X. Names not among the fields, and other annotations, are not checked."""
    hints = _field_types(cls)
    for name, value in values.items():
        expected = hints.get(name)
        if expected is not None:
            why = _type_error(prefix + name, expected, value)
            if why is not None:
                raise ValueError(why)


def check_field_types(obj: object, *names: str) -> None:
    """:func:`check_types` of a dataclass instance's fields (only ``names`` when given); for ``__post_init__``."""
    cls = type(obj)
    check_types(cls, {name: getattr(obj, name) for name in (names or _field_types(cls))})
