"""Techno-economics of a second-life battery at an industrial site, as one import.

``Finance`` (prices, discount rate, horizon) and its functions come from
:mod:`batterygym.core.finance`; ``size``, ``lifetime`` and ``sweep`` solve the industrial MILP
(:mod:`batterygym.benchmarks.economics`), importing Pyomo only when they are called.

    >>> from batterygym.economics import Finance, size            # doctest: +SKIP
    >>> result = size(scenario, Finance(discount_rate=0.05))       # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

from batterygym.core.finance import (
    Appraisal,
    Finance,
    annuity_factor,
    appraise,
    capital_recovery_factor,
    cash_flows,
    discounted_payback,
    irr,
    lcos,
    npv,
    simple_payback,
)

_STUDIES = ("size", "lifetime", "sweep", "operate", "SizingResult", "LifetimeRow", "SweepResult", "SweepPoint",
            "Operation", "SWEEP_PARAMS")


def __getattr__(name: str) -> Any:
    if name in _STUDIES:
        from batterygym.benchmarks import economics

        return getattr(economics, name)
    raise AttributeError(f"module 'batterygym.economics' has no attribute {name!r}")


__all__ = ["Appraisal", "Finance", "annuity_factor", "appraise", "capital_recovery_factor", "cash_flows",
           "discounted_payback", "irr", "lcos", "npv", "simple_payback", *_STUDIES]
