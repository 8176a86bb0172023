"""``batterygym benchmark speed``: env steps per second and MILP build/solve seconds, beside targets.

Env rows: every setting's id (:mod:`batterygym.settings`), stepped with a fixed action (zeros, and 0.3
everywhere clipped to the action space) through ``gym.make`` (with its wrappers) and unwrapped,
resetting as episodes end (resets are counted in the rate and also reported on their own). Two
reference loops run in the same process, round-robin with the envs, the same two ways: a bare
one-battery numpy env (:class:`BareBatteryEnv`) and ``CartPole-v1``. ``ratio`` (an env's rate over the
bare battery's, same mode) stays comparable on a shared, noisy machine where absolute rates drift.
Every rate is the median of ``repeats`` blocks of ``steps`` steps.

Vector rows (:mod:`batterygym.benchmarks.speed_vector`): every setting's native vector env at 1024
sub-envs beside a numpy-batched bare battery of as many batteries, as battery-steps/s and their ratio,
with the reset time per scenario, and the native vector env against ``vectorization_mode="sync"``.

MILP rows (:data:`MILP_CASES`, the settings' cases, each beside its target): e.g. the Industrial MILP
of the default episode (``env.reset(seed=s)`` for a few seeds; medians) and of a full year of hourly
data (8,760 steps); the V2G MILP of the default day (100 EVs) and of the source's 92-day quarter; the
MicrogridBSS MILP of the default day and of a week; with ``Plan.build_seconds``,
``Plan.solve_seconds``, ``Plan.solver_seconds`` (``solver_s``: inside HiGHS's own runs), binaries and
rounds (``Plan.details``). ``call_s`` is the whole ``solve_optimal`` call, including the schedule record
it returns, and ``ratio`` is ``call_s / solver_s`` (the median over seeds of each run's own ratio): what
the Pyomo model, its way to HiGHS and the plan cost beyond HiGHS's solve, comparable on a noisy machine
where absolute seconds drift. A case's ``ratio_target`` (:class:`~batterygym.settings.MilpSpeedCase`)
bounds it. A setting's studies (the
industrial one's: :mod:`batterygym.benchmarks.speed_studies`, a year's sizing, lifetime, sweep) follow.
``--quick`` skips the long ones.

``--json out.json`` writes::

    {"meta": {"python", "platform", "numpy", "gymnasium", "highspy", "steps", "repeats", "quick"},
     "envs": [{"env_id", "action", "make_steps_per_s", "unwrapped_steps_per_s", "reset_ms",
               "ratio_make", "ratio_unwrapped"}],
     "reference": [{"name", "action", "make_steps_per_s", "unwrapped_steps_per_s"}],
     "vector": {"num_envs", "seconds", "repeats", "sync_envs",
                "envs": [{"env_id", "status": "ok", "action", "batteries_per_env", "env_steps_per_s",
                          "battery_steps_per_s", "ratio", "reset_us"} or {"env_id", "status": "skipped", "reason"}],
                "reference": [{"name", "action", "env_steps_per_s", "battery_steps_per_s", "reset_us"}],
                "sync": [{"env_id", "action", "num_envs", "vector_env_steps_per_s", "sync_env_steps_per_s",
                          "speedup"}]} or null,
     "milp": {"week": MILP, "year": MILP or null, "v2g_day": MILP, "v2g_quarter": MILP or null,
              "microgrid_day": MILP, "microgrid_week": MILP or null},
     "studies": {"sizing_s", "peak_rss_mb", "replay_rel_error", "lifetime_5_s", "sweep_5_s", ...} or null,
     "targets": [{"name", "op", "target", "measured", "unit", "pass"}]}

where MILP is :func:`measure_milp`'s dict with the case's ``label``: ``n_steps``, ``build_s``, ``solve_s``,
``solver_s``, ``total_s``, ``call_s``, ``ratio`` (medians), ``binaries``, ``rounds`` (maxima) and ``runs`` (one dict
per seed).

Pyomo is imported only when a MILP is measured: the CLI imports this module to build its parser.
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec

from batterygym.settings import SETTINGS, MilpSpeedCase

# env id -> its target steps/s via gym.make (the slowest of the fixed actions counts)
ENV_TARGETS: dict[str, float] = {s.env_id: s.steps_per_s for s in SETTINGS.values()}
# env id -> its vector env's target battery-steps/s over the bare battery vector env's
VECTOR_TARGETS: dict[str, float] = {s.env_id: s.vector_ratio for s in SETTINGS.values()}
# case key -> every setting's MILP speed case
MILP_CASES: dict[str, MilpSpeedCase] = {c.key: c for s in SETTINGS.values() for c in s.milp_cases}
ACTIONS = {"zeros": 0.0, "0.3": 0.3}


# ---------------------------------------------------------------------------------------- envs
class BareBatteryEnv(gym.Env[np.ndarray, np.ndarray]):
    """The reference loop: one battery on an hourly price, nothing else (168-step episodes).

    As lean as a Gymnasium env gets in Python: the floor that real envs are compared with.
    """

    def __init__(self, n_steps: int = 168) -> None:
        self.n_steps = n_steps
        self.price = (0.1 + 0.1 * (np.arange(n_steps) % 24 >= 8)).tolist()
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._obs = np.zeros(2, dtype=np.float32)
        self._t, self._e = 0, 0.5

    def _observe(self) -> np.ndarray:
        obs = self._obs.copy()
        obs[0] = self._e
        obs[1] = self.price[min(self._t, self.n_steps - 1)]
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._t, self._e = 0, 0.5
        return self._observe(), {}

    def step(self, action: np.ndarray):
        a = min(max(float(action[0]), -1.0), 1.0)
        e = min(max(self._e + 0.2 * a, 0.0), 1.0)
        reward = -self.price[self._t] * (e - self._e) * 100.0
        self._e, self._t = e, self._t + 1
        return self._observe(), reward, self._t >= self.n_steps, False, {}


# The reference loops: the bare battery through gym.make's wrappers without touching the registry.
REFERENCES = {
    "bare battery": EnvSpec("BareBattery-v0", entry_point=BareBatteryEnv, max_episode_steps=168),
    "CartPole-v1": "CartPole-v1",
}


def _matches(text: str, patterns: Sequence[str]) -> bool:
    return not patterns or any(p.lower() in text.lower() for p in patterns)


def registered_ids(patterns: Sequence[str] = ()) -> list[str]:
    """Every setting's gym id, sorted, optionally only those containing one of ``patterns``."""
    import batterygym  # noqa: F401 - registers the ids

    return sorted(s.env_id for s in SETTINGS.values() if _matches(s.env_id, patterns))


def fixed_action(space: spaces.Space, value: float) -> Any:
    """The constant action ``value`` in ``space``: a Box filled and clipped, a Discrete's first or second."""
    if isinstance(space, spaces.Box):
        return np.clip(np.full(space.shape, value, dtype=space.dtype), space.low, space.high)
    if isinstance(space, spaces.Discrete):
        return int(space.start) + (1 if value and space.n > 1 else 0)
    space.seed(0)
    return space.sample()


class _Meter:
    """One env object stepped with one fixed action; collects block timings."""

    def __init__(self, env: gym.Env, value: float, seed: int = 0) -> None:
        self.env, self.action = env, fixed_action(env.action_space, value)
        self.rates: list[float] = []
        self.reset_s: list[float] = []
        self.env.reset(seed=seed)
        self.block(200)  # warm-up: caches, the passive checker's first step

    def block(self, steps: int) -> float:
        env, action, perf = self.env, self.action, time.perf_counter
        env.reset()
        in_reset, resets = 0.0, 0
        t0 = perf()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                t1 = perf()
                env.reset()
                in_reset += perf() - t1
                resets += 1
        rate = steps / (perf() - t0)
        if resets:
            self.reset_s.append(in_reset / resets)
        return rate

    def measure(self, steps: int) -> None:
        self.rates.append(self.block(steps))

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def reset_ms(self) -> float | None:
        return 1000.0 * statistics.median(self.reset_s) if self.reset_s else None


def _round_robin(meters: Sequence[_Meter], steps: int, repeats: int, progress: bool, what: str) -> None:
    """Measure every meter ``repeats`` times, interleaved, so drifting load hits all alike."""
    from tqdm.auto import tqdm

    with tqdm(total=repeats * len(meters), desc=what, unit="block", disable=not progress,
              file=sys.stderr, leave=False) as bar:
        for _ in range(repeats):
            for m in meters:
                m.measure(steps)
                bar.update()


def measure_env_speed(env_id: str, steps: int = 20_000, action: float = 0.0, repeats: int = 3,
                      progress: bool = False) -> dict[str, Any]:
    """Steps per second of ``env_id`` with a fixed ``action`` value, through ``gym.make`` and unwrapped.

    Episodes reset as they end (counted in the rate; ``reset_ms`` is one reset's median). Rates
    are medians over ``repeats`` blocks of ``steps`` steps, the two modes interleaved.
    """
    made, bare = _Meter(_make(env_id), action), _Meter(_make(env_id).unwrapped, action)
    _round_robin([made, bare], steps, repeats, progress, env_id)
    return {"env_id": env_id, "action": action, "steps": steps, "repeats": repeats,
            "make_steps_per_s": made.median, "unwrapped_steps_per_s": bare.median,
            "reset_ms": made.reset_ms}


def measure_reference(name: str = "bare battery", steps: int = 20_000, action: float = 0.0,
                      repeats: int = 3) -> dict[str, Any]:
    """Steps per second of a reference env (one of :data:`REFERENCES`), via ``gym.make`` and unwrapped."""
    if name not in REFERENCES:
        raise ValueError(f"reference must be one of {sorted(REFERENCES)}, got {name!r}")
    made, bare = _Meter(_make(name), action), _Meter(_make(name).unwrapped, action)
    _round_robin([made, bare], steps, repeats, False, name)
    return {"name": name, "action": action, "make_steps_per_s": made.median, "unwrapped_steps_per_s": bare.median}


def _make(name: str) -> gym.Env:
    """``gym.make`` of a registered id or of a reference."""
    return gym.make(REFERENCES.get(name, name))


# ---------------------------------------------------------------------------------------- MILP
def measure_milp(scenarios: Sequence[Any], time_limit: float = 120.0, progress: bool = False,
                 label: str = "MILP", seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """Build and solve seconds of the MILP of each scenario (any scenario ``solve_optimal`` knows); medians.

    ``seeds`` names the runs (default: their positions)."""
    from tqdm.auto import tqdm

    from batterygym.baselines import solve_optimal

    if not scenarios:
        raise ValueError("scenarios must hold at least one scenario, got none")
    names = list(range(len(scenarios)) if seeds is None else seeds)
    if len(names) != len(scenarios):
        raise ValueError(f"seeds must name each of the {len(scenarios)} scenarios, got {len(names)}")
    runs = []
    for i, s in tqdm(list(zip(names, scenarios, strict=True)), desc=label, unit="solve", disable=not progress,
                     file=sys.stderr, leave=False):
        t0 = time.perf_counter()
        plan = solve_optimal(s, time_limit=time_limit)
        call = time.perf_counter() - t0
        runs.append({"seed": i, "n_steps": int(plan.actions.shape[0]), "build_s": plan.build_seconds,
                     "solve_s": plan.solve_seconds, "solver_s": plan.solver_seconds,
                     "total_s": plan.build_seconds + plan.solve_seconds, "call_s": call,
                     "ratio": call / plan.solver_seconds if plan.solver_seconds > 0 else float("inf"),
                     "binaries": int(plan.details.get("binaries", 0)),
                     "rounds": int(plan.details.get("rounds", 1)), "objective": plan.objective,
                     "status": plan.status})
    med = {k: statistics.median(r[k] for r in runs) for k in ("build_s", "solve_s", "solver_s", "total_s", "call_s",
                                                              "ratio")}
    return {"n_steps": runs[0]["n_steps"], **med, "binaries": max(r["binaries"] for r in runs),
            "rounds": max(r["rounds"] for r in runs), "runs": runs}


# ---------------------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="fewer steps and seeds, and skip the long MILPs (a smoke run, ~30 s)")
    parser.add_argument("--env", action="append", default=[], metavar="PATTERN",
                        help="only env ids containing PATTERN (repeatable; default: every batterygym/* id)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed block (default 20000; quick 3000)")
    parser.add_argument("--repeats", type=int, default=None, help="timed blocks per row, median (default 5; quick 2)")
    parser.add_argument("--no-vector", action="store_true", help="skip the vector env rows")
    parser.add_argument("--num-envs", type=int, default=None,
                        help="sub-envs of each vector env row (default 1024, the targets' size)")
    parser.add_argument("--vector-seconds", type=float, default=None,
                        help="least seconds of a timed vector block, each also holding an autoreset "
                             "(default 1; quick 0.2)")
    parser.add_argument("--no-milp", action="store_true", help="skip the MILP rows")
    parser.add_argument("--no-year", action="store_true", help="skip the long MILPs (year, quarter, week)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="MILP time limit per solve, s")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("numpy", "gymnasium", "highspy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def run(args: argparse.Namespace) -> int:
    steps = args.steps or (3_000 if args.quick else 20_000)
    repeats = args.repeats or (2 if args.quick else 5)
    if steps < 1 or repeats < 1:
        raise ValueError(f"--steps and --repeats must be positive, got {steps} and {repeats}")
    progress = not args.no_progress
    ids = registered_ids(args.env)
    if not ids:
        raise ValueError(f"no registered batterygym/ id matches --env {args.env}; "
                         f"registered: {registered_ids()}")

    rows = [*ids, *REFERENCES]
    meters: dict[tuple[str, str, str], _Meter] = {}
    for label, value in ACTIONS.items():
        for name in rows:
            meters[(name, label, "make")] = _Meter(_make(name), value)
            meters[(name, label, "unwrapped")] = _Meter(_make(name).unwrapped, value)
    _round_robin(list(meters.values()), steps, repeats, progress, "env steps")

    envs, reference = [], []
    for label, value in ACTIONS.items():
        ref_made = meters[("bare battery", label, "make")].median
        ref_bare = meters[("bare battery", label, "unwrapped")].median
        for name in rows:
            made, bare = meters[(name, label, "make")], meters[(name, label, "unwrapped")]
            row = {"action": value, "make_steps_per_s": made.median, "unwrapped_steps_per_s": bare.median}
            if name in REFERENCES:
                reference.append({"name": name, **row})
            else:
                envs.append({"env_id": name, **row, "reset_ms": made.reset_ms,
                             "ratio_make": made.median / ref_made, "ratio_unwrapped": bare.median / ref_bare})

    vector = None
    if not args.no_vector:
        from batterygym.benchmarks.speed_vector import NUM_ENVS, measure_vector

        num_envs = NUM_ENVS if args.num_envs is None else args.num_envs
        seconds = args.vector_seconds if args.vector_seconds is not None else (0.2 if args.quick else 1.0)
        if num_envs < 1 or not seconds > 0:
            raise ValueError(f"--num-envs and --vector-seconds must be positive, got {num_envs} and {seconds}")
        entries = [(s.env_id, s.vector_entry_point) for s in SETTINGS.values() if s.env_id in ids]
        vector = measure_vector(entries, ACTIONS, num_envs=num_envs, seconds=seconds, repeats=repeats,
                                progress=progress)

    milp: dict[str, Any] = {key: None for key in MILP_CASES}
    if not args.no_milp:
        for setting in SETTINGS.values():
            for case in setting.milp_cases:
                if case.long and (args.quick or args.no_year):
                    continue
                if not (_matches(setting.env_id, args.env) or _matches(case.label, args.env)):
                    continue
                if progress and case.long:
                    print(f"solving the {case.label} MILP ...", file=sys.stderr, flush=True)
                quick = bool(args.quick)
                milp[case.key] = {"label": case.label, **measure_milp(case.episodes(quick), args.time_limit,
                                                                      progress, case.label, case.seeds_for(quick))}

    targets = _targets(envs, milp, vector)
    studies = None
    if not (args.no_milp or args.quick or args.no_year):
        for setting in SETTINGS.values():
            if setting.studies is not None and _matches(setting.env_id, args.env):
                module = importlib.import_module(setting.studies)
                studies = module.measure_studies(progress)
                targets += module.study_targets(studies, _target)
    result = {"meta": {**_versions(), "steps": steps, "repeats": repeats, "quick": bool(args.quick)},
              "envs": envs, "reference": reference, "vector": vector, "milp": milp, "studies": studies,
              "targets": targets}
    print(format_report(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2, default=float)
        print(f"\nwrote {args.json}")
    return 0


def _targets(envs: list[dict[str, Any]], milp: dict[str, Any],
             vector: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for env_id, target in ENV_TARGETS.items():
        rates = [e["make_steps_per_s"] for e in envs if e["env_id"] == env_id]
        if rates:
            out.append(_target(f"{env_id} via gym.make, fixed action (slowest)", ">=", target, min(rates), "steps/s"))
    if vector is not None:
        from batterygym.benchmarks.speed_vector import vector_targets

        out += vector_targets(vector, VECTOR_TARGETS, _target)
    for key, case in MILP_CASES.items():
        if milp.get(key):
            out.append(_target(case.target_name, "<", case.target_s, milp[key]["total_s"], "s"))
            if case.ratio_target is not None:
                out.append(_target(f"{case.label}: whole solve_optimal call over HiGHS's own runs (median)", "<=",
                                   case.ratio_target, milp[key]["ratio"], "x"))
    return out


def _target(name: str, op: str, target: float, measured: float, unit: str) -> dict[str, Any]:
    if op not in (">=", "<", "<="):
        raise ValueError(f"op must be '>=', '<' or '<=', got {op!r}")
    ok = measured >= target if op == ">=" else measured <= target if op == "<=" else measured < target
    return {"name": name, "op": op, "target": target, "measured": measured, "unit": unit, "pass": bool(ok)}


def format_report(result: dict[str, Any]) -> str:
    """The printed tables of a :func:`run` result."""
    meta = result["meta"]
    lines = [f"batterygym speed benchmark: python {meta['python']}, numpy {meta['numpy']}, gymnasium "
             f"{meta['gymnasium']}, highspy {meta['highspy']}; median of {meta['repeats']} blocks of "
             f"{meta['steps']:,} steps", ""]
    lines.append("Env steps per second (fixed action, resets included; ratio: rate / the bare battery's, same mode)")
    head = f"{'env':<34}{'action':>7}{'gym.make':>12}{'unwrapped':>12}{'reset ms':>10}{'ratio':>8}{'ratio unw.':>11}"
    lines += [head, "-" * len(head)]
    for e in result["envs"]:
        reset = f"{e['reset_ms']:.3f}" if e["reset_ms"] is not None else "-"
        lines.append(f"{e['env_id']:<34}{e['action']:>7g}{e['make_steps_per_s']:>12,.0f}"
                     f"{e['unwrapped_steps_per_s']:>12,.0f}{reset:>10}{e['ratio_make']:>8.2f}"
                     f"{e['ratio_unwrapped']:>11.2f}")
    for r in result["reference"]:
        lines.append(f"{'reference: ' + r['name']:<34}{r['action']:>7g}{r['make_steps_per_s']:>12,.0f}"
                     f"{r['unwrapped_steps_per_s']:>12,.0f}")
    if result.get("vector"):
        from batterygym.benchmarks.speed_vector import format_vector

        lines += format_vector(result["vector"])
    milp = result["milp"]
    if any(milp.values()):
        lines += ["", "MILPs (Pyomo models read straight into HiGHS; seconds are medians over seeds; solver s: inside "
                      "HiGHS's runs; ratio: call s / solver s)"]
        head = f"{'episode':<40}{'steps':>7}{'build s':>10}{'solve s':>10}{'solver s':>10}{'total s':>10}" \
               f"{'call s':>9}{'ratio':>7}{'binaries':>10}{'rounds':>8}"
        lines += [head, "-" * len(head)]
        for m in milp.values():
            if m:
                label = f"{m.get('label', '')} ({len(m['runs'])} seed{'s' if len(m['runs']) > 1 else ''})"
                lines.append(f"{label:<40}{m['n_steps']:>7}{m['build_s']:>10.3f}{m['solve_s']:>10.3f}"
                             f"{m.get('solver_s', float('nan')):>10.3f}{m['total_s']:>10.3f}{m['call_s']:>9.3f}"
                             f"{m.get('ratio', float('nan')):>7.2f}{m['binaries']:>10}{m['rounds']:>8}")
    st = result.get("studies")
    if st:
        lines += ["", f"Techno-economics of a year ({st['n_steps']:,} steps): sizing {st['sizing_s']:.1f} s "
                      f"(build {st['sizing_build_s']:.1f}, solve {st['sizing_solve_s']:.1f}; chose "
                      f"{st['capacity_kwh']:,.0f} kWh / {st['power_kw']:,.0f} kW), "
                      f"peak memory {st['peak_rss_mb']:,.0f} MB, "
                      f"replay error {st['replay_rel_error']:.1e}; lifetime of 5 caps {st['lifetime_5_s']:.1f} s, "
                      f"sweep of 5 values {st['sweep_5_s']:.1f} s"]
    if result["targets"]:
        lines += ["", "Targets"]
        for t in result["targets"]:
            fmt = {"steps/s": ",.0f", "MB": ",.0f", "rel": ".1e", "us": ".1f", "x": ".2f"}.get(t["unit"], ".3f")
            lines.append(f"  {'PASS' if t['pass'] else 'MISS'}  {t['name']}: {t['measured']:{fmt}} {t['unit']} "
                         f"(target {t['op']} {t['target']:,g} {t['unit']})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run as ``python -m batterygym.benchmarks.speed`` (same options as the CLI command)."""
    parser = argparse.ArgumentParser(prog="batterygym benchmark speed", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
