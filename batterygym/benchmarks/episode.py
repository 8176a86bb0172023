"""``batterygym solve``: one episode's cost breakdown for idle, the heuristics and the exact optimum.

The episode comes from the env (a seed) or from a site's CSV. Each heuristic plays it in the env,
and its dispatch is settled again by the setting's ``simulate``, which must pay exactly what the
env paid (the one-model rule, checked every run); the optimum's plan is replayed in the env the
same way. The table, the MILP's status and timings are printed; ``--json`` and ``--plot`` save them.
"""
from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand, refuse
from batterygym.benchmarks.site_options import check_output_paths
from batterygym.settings import SETTINGS as REGISTRY
from batterygym.settings import load

REL_TOL_ROLLOUT = 1e-6  # simulate() against the env's own return
REL_TOL_PLAN = 1e-9  # the plan's objective against its replay (exact to rounding)
SECONDS_PER_DAY = 60.0  # the MILP's default time limit per day of the episode

# setting name -> its ``EpisodeCommand`` ("module:attr"), from batterygym.settings
SETTINGS: dict[str, str] = {name: entry.episode for name, entry in REGISTRY.items()}


def command(name: str) -> EpisodeCommand:
    """The ``solve`` command of setting ``name``."""
    if name not in SETTINGS:
        raise ValueError(f"setting must be one of {sorted(SETTINGS)}, got {name!r}")
    return load(SETTINGS[name])


def refuse_foreign_options(args: argparse.Namespace, name: str) -> None:
    """A one-line error when an option of another setting (one ``name`` does not borrow) is given."""
    own = command(name)
    for other in SETTINGS:
        if other != name:
            theirs = command(other)
            dests = tuple(d for d in theirs.option_dests() if d not in own.borrows)
            refuse(args, dests, theirs.owner, name)


# ---------------------------------------------------------------------------------------- command
def _epilog() -> str:
    """Every setting's examples, then what each one's CSV holds."""
    commands = [command(name) for name in SETTINGS]
    formats = "".join(c.csv_format for c in commands)
    return "examples:\n" + "".join(c.examples for c in commands) + ("\n" + formats if formats else "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``batterygym solve``: the episode's, every setting's own, and the outputs'."""
    parser.epilog = _epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("setting", choices=sorted(SETTINGS), help="which setting's episode to solve")
    src = parser.add_argument_group("episode")
    src.add_argument("--seed", type=int, default=0, help="seed of the generated episode (default: 0)")
    src.add_argument("--csv", type=Path, default=None, metavar="FILE",
                     help="data instead of a generated episode (each setting's columns: see below)")
    days = ", ".join(f"{command(name).default_days} {name}" for name in SETTINGS)
    src.add_argument("--days", type=int, default=None,
                     help=f"episode length in days of a generated episode (default: {days})")
    for name in SETTINGS:
        command(name).add_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                     help="MILP time limit (default: 60 s per day of the episode)")
    out.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the breakdown as JSON")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE",
                     help="save the dispatch plot of every policy (format from the suffix, e.g. .png)")


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _check_outputs(args: argparse.Namespace) -> None:
    """Reject bad options before the solve, so a typo costs no time."""
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit!r}")
    check_output_paths(args)


def play(env: Any, policy: Callable[[np.ndarray], np.ndarray], seed: int, setting: EpisodeAdapter,
         name: str) -> tuple[float, pd.DataFrame]:
    """Roll ``policy`` out in ``env`` and settle its dispatch with the setting's model.

    Raises ``AssertionError`` when the settled record does not pay the env's return (the env and
    the model disagree: a bug, never bad input).
    """
    from batterygym.baselines.rollout import rollout

    total, infos = rollout(env, policy, seed=seed)
    keys = setting.power_key
    if isinstance(keys, str):
        power = np.array([info[keys] for info in infos], dtype=np.float64)
    elif callable(keys):
        power = np.array([keys(info) for info in infos], dtype=np.float64)
    else:  # several set-points per step, stacked on a last axis
        power = np.array([np.stack([info[k] for k in keys], axis=-1) for info in infos], dtype=np.float64)
    schedule = setting.schedule(env.unwrapped.scenario, power)
    settled = float(schedule["reward"].sum())
    if not _close(settled, total, REL_TOL_ROLLOUT):
        raise AssertionError(f"one-model rule broken for {name!r}: the env returned {total!r} but the same "
                             f"dispatch settles to {settled!r}")
    return total, schedule


def proven_optimal(plan: Any) -> bool:
    """Whether the solver proved ``plan`` optimal (it did not stop at a time or iteration limit)."""
    return plan.status == "optimal"


def limit_note(plan: Any) -> str:
    """What to print beside a plan's objective: nothing for a proven optimum; otherwise why the solver
    stopped and its gap, e.g. `` (time limit: gap 0.31 %, not proven optimal)``."""
    if proven_optimal(plan):
        return ""
    return f" ({plan.status.replace('_', ' ')}: gap {100 * plan.mip_gap:.2f} %, not proven optimal)"


def _replay(actions: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    it = iter(actions)
    return lambda obs: next(it)


def cost_table(breakdowns: dict[str, dict[str, float]], reference: str = "idle",
               optimum: str = "optimal") -> pd.DataFrame:
    """One row per policy: cost terms, total, peak, saving against ``reference``, share of the optimum's."""
    df = pd.DataFrame.from_dict(breakdowns, orient="index")
    df["saving_eur"] = df.loc[reference, "total_cost_eur"] - df["total_cost_eur"]
    best = float(df.loc[optimum, "saving_eur"])
    df["share_of_optimum"] = df["saving_eur"] / best if abs(best) > 1e-9 else float("nan")
    return df


def format_table(df: pd.DataFrame, columns: dict[str, str]) -> str:
    """The cost table as printed, ``columns`` mapping breakdown keys to headers: EUR and MWh with two
    decimals, kW with one, shares in percent."""
    shown = pd.DataFrame({header: df[key] for key, header in columns.items()})
    formatters = {c: "{:,.2f}".format for c in shown.columns if c.endswith(("EUR", "MWh"))}
    for c in shown.columns:
        if c.endswith("kW"):
            formatters[c] = "{:,.1f}".format
        elif c.endswith(("share", "served")) or c == "share of optimum":
            formatters[c] = lambda x: "n/a" if not math.isfinite(x) else f"{100 * x:.1f} %"
    return shown.to_string(formatters=formatters)


def _json_clean(value: Any) -> Any:
    """Plain JSON: non-finite floats become null, numpy scalars python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    """Solve one episode and print its cost table; see the module docstring."""
    from batterygym.baselines import solve_optimal
    from batterygym.baselines.rollout import heuristics_for

    _check_outputs(args)
    refuse_foreign_options(args, args.setting)
    setting = command(args.setting).adapter()
    env = setting.make_env(args)
    try:
        returns: dict[str, float] = {}
        schedules: dict[str, pd.DataFrame] = {}
        for name, policy in heuristics_for(env).items():
            returns[name], schedules[name] = play(env, policy, args.seed, setting, name)
        scenario = env.unwrapped.scenario
        days = scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0
        limit = args.time_limit if args.time_limit is not None else SECONDS_PER_DAY * max(1.0, days)
        plan = solve_optimal(scenario, time_limit=limit)
        returns["optimal"], schedules["optimal"] = play(env, _replay(plan.actions), args.seed, setting, "optimal")
    finally:
        env.close()
    if plan.status != "optimal":  # a time-limited incumbent is not "the optimum": say so in the row's name
        best = f"best found ({plan.status}, gap {plan.mip_gap:.1e})"
        returns[best], schedules[best] = returns.pop("optimal"), schedules.pop("optimal")
    else:
        best = "optimal"
    if not _close(returns[best], plan.objective, REL_TOL_PLAN):
        raise AssertionError(f"the plan's objective {plan.objective!r} differs from its replay in the env "
                             f"{returns[best]!r}")
    table = cost_table({name: setting.breakdown(df) for name, df in schedules.items()}, optimum=best)

    print(setting.describe(scenario, args))
    print()
    print(format_table(table, setting.columns))
    print(setting.note)
    print()
    bound = plan.bound if plan.bound is not None else float("nan")
    print(f"MILP: {plan.status}, objective {plan.objective:,.2f} EUR{limit_note(plan)} (replayed in the env: "
          f"{returns[best]:,.2f}), bound {bound:,.2f},"
          f" gap {plan.mip_gap:.1e}, build {plan.build_seconds:.2f} s, "
          f"solve {plan.solve_seconds:.2f} s (LP rounds {int(plan.details.get('rounds', 0))}, "
          f"binaries added {int(plan.details.get('binaries', 0))})")

    if args.json is not None:
        report = {
            "setting": args.setting,
            "source": {"csv": str(args.csv)} if args.csv is not None else {"seed": args.seed},
            "scenario": setting.scenario_json(scenario),
            "policies": {name: {"return_eur": returns[name], **row} for name, row in
                         table.to_dict(orient="index").items()},
            "solver": {"status": plan.status, "proven_optimal": proven_optimal(plan), "objective_eur": plan.objective,
                       "bound_eur": plan.bound, "mip_gap": plan.mip_gap, "time_limit_s": limit,
                       "build_seconds": plan.build_seconds, "solve_seconds": plan.solve_seconds,
                       **plan.details},
        }
        _write(args.json, lambda p: p.write_text(json.dumps(_json_clean(report), indent=2, allow_nan=False) + "\n"))
        print(f"wrote {args.json}")
    if args.plot is not None:
        source = f"CSV {args.csv.name}" if args.csv is not None else f"seed {args.seed}"
        days = scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0
        title = f"batterygym {args.setting}: {source}, {scenario.timestamps[0]:%Y-%m-%d}, {days:g} days"
        _write(args.plot, lambda p: setting.plot(schedules, p, title))
        print(f"wrote {args.plot}")
    return 0


def _write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write an output, creating its folder; an unwritable path is bad input (one line, exit 2)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
