"""The techno-economic rows of ``batterygym benchmark speed``: a year's sizing, a lifetime of five caps
and a sweep of five values, each timed beside its target, the sizing's peak memory, and the exact
replay of the sized year's dispatch in ``Industrial-v0`` (the contract's replay clause on a year).

The sizing runs in a fresh interpreter (a spawned process), so its peak memory (``ru_maxrss``, the
process's peak resident set size) is the sizing's own, not the peak of every MILP the benchmark ran
before it.
"""
from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

TARGET_SIZING_S = 30.0
TARGET_STUDY_S = 120.0  # a lifetime or sweep of five points
TARGET_SIZING_MB = 1024.0
TARGET_REPLAY_REL = 1e-9
LIFETIME_CAPS = (None, 1.0, 0.75, 0.5, 0.4)
SWEEP_SPREADS = (0.06, 0.1, 0.14, 0.18, 0.22)


def year_scenario(seed: int = 0, n_days: int = 365) -> Any:
    """A generated year of the default site (8,760 hourly steps, billed per calendar month); ``n_days``
    shortens it (tests)."""
    from gymnasium.utils.seeding import np_random

    from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial

    rng, _ = np_random(seed)
    return generate_industrial(rng, IndustrialSiteConfig(n_days=n_days))


def replay_error(scenario: Any, plan: Any) -> float:
    """Relative gap between ``plan.objective`` and what ``Industrial-v0`` on ``scenario`` pays for its actions."""
    from batterygym.envs.industrial import IndustrialEnv

    env = IndustrialEnv(scenario=scenario)
    env.reset(seed=0)
    total = 0.0
    for a in plan.actions:
        total += env.step(a)[1]
    return abs(total - plan.objective) / max(1.0, abs(plan.objective))


def measure_studies(progress: bool = True, n_days: int = 365) -> dict[str, Any]:
    """Seconds of the year's sizing, a 5-cap lifetime and a 5-value sweep; the sizing's memory and replay."""
    from batterygym.benchmarks.economics import lifetime, sweep

    s = year_scenario(n_days=n_days)
    if progress:
        print("sizing a year of the default site (in a fresh process) ...", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        sized = pool.submit(measure_sizing, n_days).result()
    t0 = time.perf_counter()
    lifetime(s, list(LIFETIME_CAPS), progress=progress)
    lifetime_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sweep(s, "tariff_spread", list(SWEEP_SPREADS), progress=progress, break_even_tol=1.0)
    sweep_s = time.perf_counter() - t0
    return {"n_steps": s.n_steps, **sized, "lifetime_5_s": lifetime_s, "sweep_5_s": sweep_s}


def measure_sizing(n_days: int = 365) -> dict[str, Any]:
    """The year's sizing: seconds, the chosen size, this process's peak memory and the replay's error."""
    from batterygym.benchmarks.economics import size

    s = year_scenario(n_days=n_days)
    t0 = time.perf_counter()
    r = size(s)
    sizing_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
    replay = replay_error(r.scenario, _plan_of(r)) if r.scenario is not None else float("nan")
    return {"sizing_s": sizing_s, "sizing_build_s": r.build_seconds, "sizing_solve_s": r.solve_seconds,
            "capacity_kwh": r.capacity_kwh, "power_kw": r.power_kw, "peak_rss_mb": peak_mb,
            "replay_rel_error": replay}


def _plan_of(r: Any) -> Any:
    """The sized year's dispatch plan (the result keeps its schedule; the plan holds the actions)."""
    from batterygym.baselines.industrial import dispatch_plan

    return dispatch_plan(r.scenario, r.schedule["charge_kw"].to_numpy(), r.schedule["discharge_kw"].to_numpy())


def study_targets(m: dict[str, Any], target: Any) -> list[dict[str, Any]]:
    """The rows' targets, as ``speed._target`` dicts."""
    return [
        target("Industrial sizing MILP, 8,760 hourly steps, capacity + power + dispatch", "<", TARGET_SIZING_S,
               m["sizing_s"], "s"),
        target("Industrial sizing of a year, peak memory of the process", "<", TARGET_SIZING_MB, m["peak_rss_mb"],
               "MB"),
        target("Sized year's plan replayed in Industrial-v0, relative error", "<", TARGET_REPLAY_REL,
               m["replay_rel_error"], "rel"),
        target("lifetime of a year under 5 caps", "<", TARGET_STUDY_S, m["lifetime_5_s"], "s"),
        target("sweep of a year over 5 tariff spreads (break-even not bisected)", "<", TARGET_STUDY_S,
               m["sweep_5_s"], "s"),
    ]
