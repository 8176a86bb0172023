"""``batterygym dataset``: the optimal actions of many episodes as a Parquet dataset (behaviour cloning, offline RL).

Each seed of the range is one piece of :func:`~batterygym.scale.tasks.map_tasks`: make the env, reset it
with the seed, solve the episode's perfect-foresight MILP, replay the plan in the env recording every
step (observation, action, reward, flags, next observation) and check that the replay earns the plan's
objective. The driver (this process, also on a remote cluster) writes one Parquet file per seed,
``DIR/seed=<seed>.parquet``, atomically (a hidden temp name, then a rename), and the dataset's
description ``DIR/_dataset.json`` (env id and kwargs, version, shapes, seeds present). Its leading
underscore makes pandas and pyarrow skip it, so ``pd.read_parquet(DIR)`` and
``pyarrow.dataset.dataset(DIR)`` read the seeds' files as one table. A re-run adds the missing seeds
and skips the present ones; one into a DIR of another env id or other env kwargs is refused.

pyarrow comes with the ``scale`` extra and is imported only inside the functions that need it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batterygym.agents.train import json_object_arg
from batterygym.scale.tasks import SCALE_EXTRA, TaskError, add_ray_argument, connect, map_tasks

METADATA = "_dataset.json"  # "_": pandas and pyarrow skip it when they read DIR
FORMAT = "batterygym-dataset/1"
FILE_RE = re.compile(r"^seed=(\d+)\.parquet$")
REL_TOL = 1e-6  # the replayed return against the plan's objective
MIN_CHUNK = 32  # seeds solved between two writes of their files (at least; 4 per CPU on Ray)
STEP_COLUMNS = ("seed", "step", "observation", "action", "reward", "terminated", "truncated", "next_observation")
EPISODE_COLUMNS = ("status", "mip_gap", "objective")
VECTOR_COLUMNS = ("observation", "action", "next_observation")


def require_pyarrow() -> Any:
    """The ``pyarrow`` module (with ``pyarrow.parquet``), or an ImportError that says how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - the submodule is what reads and writes the files
    except ImportError as exc:
        raise ImportError(f"batterygym datasets need pyarrow, which is in the scale extra: {SCALE_EXTRA}") from exc
    return pyarrow


def schema(pa: Any) -> Any:
    """The Arrow schema of every file: one row per step; the vectors are flat lists of float32."""
    vec = pa.list_(pa.float32())
    return pa.schema([("seed", pa.int64()), ("step", pa.int64()), ("observation", vec), ("action", vec),
                      ("reward", pa.float64()), ("terminated", pa.bool_()), ("truncated", pa.bool_()),
                      ("next_observation", vec), ("status", pa.string()), ("mip_gap", pa.float64()),
                      ("objective", pa.float64())])


# ---------------------------------------------------------------------------------------------- input
def resolve_env(name: str) -> str:
    """The env id of a setting's name (``v2g``) or of its id (``batterygym/V2G-v0``), as the registry has it."""
    from batterygym.settings import SETTINGS

    if name in SETTINGS:
        return SETTINGS[name].env_id
    ids = [s.env_id for s in SETTINGS.values()]
    if name in ids:
        return name
    raise ValueError(f"--env must be a setting {sorted(SETTINGS)} or its id {ids}, got {name!r}")


def parse_seeds(text: str) -> range:
    """``"A:B"`` as ``range(A, B)``: the seeds A, A + 1, ..., B - 1, with 0 <= A < B."""
    lo, sep, hi = str(text).partition(":")
    try:
        seeds = range(int(lo), int(hi)) if sep else None
    except ValueError:
        seeds = None
    if seeds is None or seeds.start < 0 or not len(seeds):
        raise ValueError(f"--seeds must be A:B with 0 <= A < B (the seeds A..B-1), got {text!r}")
    return seeds


def _kwargs_json(env_kwargs: Mapping[str, Any] | None) -> str:
    """The env kwargs as canonical JSON (sorted keys): what the dataset records and a re-run is compared by."""
    try:
        return json.dumps(dict(env_kwargs or {}), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--env-kwargs must be plain JSON values, got {env_kwargs!r} ({exc})") from None


def _seed_list(seeds: Iterable[int] | str) -> list[int]:
    out = parse_seeds(seeds) if isinstance(seeds, str) else seeds
    checked = []
    for s in out:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"--seeds must be non-negative integers, got {s!r}")
        checked.append(int(s))
    if not checked:
        raise ValueError("--seeds is empty")
    return sorted(set(checked))


# ----------------------------------------------------------------------------------------- the task
@dataclass(frozen=True)
class EpisodeTask:
    """One seed's piece: the env to make (kwargs as canonical JSON), the seed, the solver's options."""

    env_id: str
    seed: int
    env_kwargs_json: str = "{}"
    solve_options: tuple[tuple[str, Any], ...] = ()


def default_time_limit(scenario: Any) -> float:
    """The MILP's time limit when none is given: the ``solve`` command's, per day of the episode."""
    from batterygym.benchmarks.episode import SECONDS_PER_DAY

    days = scenario.n_steps * getattr(scenario, "dt_h", 1.0) / 24.0
    return SECONDS_PER_DAY * max(1.0, days)


def solve_episode(task: EpisodeTask) -> Any:
    """The rows of one seed's episode as a pyarrow Table: its optimum solved, replayed in the env and checked.

    Raises naming the seed when the seed is bad, the solver fails, or the replay does not earn the plan's
    objective (to ``REL_TOL``) or does not end on the plan's last action.
    """
    import gymnasium as gym

    from batterygym.baselines import SolverError, solve_optimal

    pa = require_pyarrow()
    seed = task.seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed {seed}: an episode seed must be a non-negative integer")
    t0 = time.perf_counter()
    env = gym.make(task.env_id, **json.loads(task.env_kwargs_json))
    try:
        obs, _ = env.reset(seed=int(seed))
        options = dict(task.solve_options)
        options.setdefault("time_limit", default_time_limit(env.unwrapped.scenario))
        try:
            plan = solve_optimal(env.unwrapped.scenario, **options)
        except SolverError as exc:
            raise type(exc)(f"seed {seed}: {exc}") from exc
        cols = _replay(env, obs, np.asarray(plan.actions), seed)
    finally:
        env.close()
    total = math.fsum(cols["reward"])
    if abs(total - plan.objective) > REL_TOL * max(1.0, abs(total), abs(plan.objective)):
        raise AssertionError(f"seed {seed}: the replayed return {total!r} differs from the plan's objective "
                             f"{plan.objective!r}")
    n = len(cols["reward"])
    cols.update(seed=np.full(n, seed, dtype=np.int64), step=np.arange(n, dtype=np.int64),
                status=[plan.status] * n, mip_gap=np.full(n, plan.mip_gap), objective=np.full(n, plan.objective))
    sch = schema(pa)
    arrays = [_list_array(pa, cols[f.name]) if f.name in VECTOR_COLUMNS else pa.array(cols[f.name], type=f.type)
              for f in sch]
    info = {"seed": int(seed), "status": plan.status, "objective": plan.objective, "mip_gap": plan.mip_gap,
            "replayed_return": total, "build_seconds": plan.build_seconds, "solve_seconds": plan.solve_seconds,
            "seconds": time.perf_counter() - t0, "solve_options": options}
    return pa.Table.from_arrays(arrays, schema=sch.with_metadata({"batterygym": json.dumps(info)}))


def _replay(env: Any, obs: Any, actions: np.ndarray, seed: int) -> dict[str, Any]:
    """Step ``env`` (just reset, showing ``obs``) through ``actions``; every step's vectors, reward and flags."""
    n = len(actions)
    if n == 0:
        raise AssertionError(f"seed {seed}: the plan has no actions")
    first = np.asarray(obs, dtype=np.float32).reshape(-1)
    o = np.empty((n, first.size), dtype=np.float32)
    o_next = np.empty_like(o)
    reward = np.empty(n)
    term = np.zeros(n, dtype=bool)
    trunc = np.zeros(n, dtype=bool)
    o[0] = first
    for t in range(n):
        if t:
            o[t] = o_next[t - 1]
        nxt, r, term[t], trunc[t], _ = env.step(actions[t])
        o_next[t] = np.asarray(nxt, dtype=np.float32).reshape(-1)
        reward[t] = float(r)
        if (term[t] or trunc[t]) and t < n - 1:
            raise AssertionError(f"seed {seed}: the episode ended at step {t}, before the plan's {n} actions")
    if not (term[-1] or trunc[-1]):
        raise AssertionError(f"seed {seed}: the episode did not end on the plan's last action ({n})")
    return {"observation": o, "action": actions.reshape(n, -1).astype(np.float32), "reward": reward,
            "terminated": term, "truncated": trunc, "next_observation": o_next}


def _list_array(pa: Any, rows: np.ndarray) -> Any:
    """A 2-D float32 array as a list<float32> column, without copying the values."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    offsets = np.arange(len(rows) + 1, dtype=np.int32) * np.int32(rows.shape[1])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(rows.reshape(-1)))


# ---------------------------------------------------------------------------------------- the files
def present_seeds(out: str | Path) -> list[int]:
    """The seeds whose file is in ``out`` (complete: a file appears only by its final rename)."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(int(m.group(1)) for p in out.iterdir() if (m := FILE_RE.match(p.name)))


def _spaces(env_id: str, kwargs_json: str) -> dict[str, Any]:
    """Shapes and dtypes of the env's observation and action (an unknown or bad kwarg is refused here)."""
    import gymnasium as gym

    try:
        env = gym.make(env_id, **json.loads(kwargs_json))
    except ValueError as exc:
        raise ValueError(f"--env-kwargs {kwargs_json}: {exc}") from None
    try:
        spaces = {"observation": env.observation_space, "action": env.action_space}
        return {k: {"shape": list(s.shape), "dtype": str(np.dtype(s.dtype)), "size": int(np.prod(s.shape))}
                for k, s in spaces.items()}
    finally:
        env.close()


def _open(out: Path, env_id: str, kwargs_json: str, spaces: dict[str, Any]) -> dict[str, Any]:
    """The dataset description of ``out``, created when new; ValueError when ``out`` holds another dataset."""
    from batterygym import __version__

    path = out / METADATA
    if path.is_file():
        meta = json.loads(path.read_text())
        if meta.get("env_id") != env_id:
            raise ValueError(f"--env: {out} holds a dataset of {meta.get('env_id')!r}, not {env_id!r}")
        old = json.dumps(meta.get("env_kwargs", {}), sort_keys=True)
        if old != kwargs_json:
            raise ValueError(f"--env-kwargs: {out} was made with {old}, not {kwargs_json}")
        for key in spaces:
            if meta.get(key) != spaces[key]:
                raise ValueError(f"--out: {out} has {key}s {meta.get(key)}, but {env_id} now makes {spaces[key]}")
        return meta
    if out.exists() and (not out.is_dir() or any(not p.name.startswith((".", "_")) for p in out.iterdir())):
        raise ValueError(f"--out {out} is not empty and holds no dataset ({METADATA} missing)")
    meta = {"format": FORMAT, "env_id": env_id, "env_kwargs": json.loads(kwargs_json), "batterygym_version":
            __version__, **spaces, "files": "seed=<seed>.parquet", "seeds": []}
    out.mkdir(parents=True, exist_ok=True)
    _write_metadata(out, meta)
    return meta


def _write_metadata(out: Path, meta: dict[str, Any]) -> None:
    meta["seeds"] = present_seeds(out)
    tmp = out / f".{METADATA}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, out / METADATA)


def _write_table(out: Path, seed: int, table: Any) -> None:
    """``table`` as ``out/seed=<seed>.parquet``: written under a hidden name, then renamed (atomic)."""
    import pyarrow.parquet as pq

    final = out / f"seed={seed}.parquet"
    tmp = out / f".{final.name}.{os.getpid()}.tmp"
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _chunk_size(ray: str | None, ray_cpus: int | None) -> int:
    if ray is None:
        return MIN_CHUNK
    cpus = connect(ray, ray_cpus).cluster_resources().get("CPU", 1)
    return max(MIN_CHUNK, 4 * int(cpus))


def _solve_chunk(chunk: list[EpisodeTask], ray: str | None, ray_cpus: int | None, desc: str
                 ) -> tuple[list[EpisodeTask], list[Any], list[tuple[Any, str]]]:
    """The tasks of ``chunk`` that succeeded, their tables, and the failures (Ray's TaskError, by seed).

    A chunk with failures is run again without them, so every seed that can be solved gets its file."""
    failures: list[tuple[Any, str]] = []
    while chunk:
        try:
            return chunk, map_tasks(solve_episode, chunk, keys=[f"seed {t.seed}" for t in chunk], ray=ray,
                                    ray_cpus=ray_cpus, desc=desc, unit="episode"), failures
        except TaskError as exc:
            failures.extend(exc.failures)
            bad = {key for key, _ in exc.failures}
            chunk = [t for t in chunk if f"seed {t.seed}" not in bad]
    return [], [], failures


def write_dataset(env_id: str, seeds: Iterable[int] | str, out: str | Path, env_kwargs: Mapping[str, Any] | None = None,
                  ray: str | None = None, ray_cpus: int | None = None, **solve_options: Any) -> dict[str, Any]:
    """Solve and record every episode of ``seeds`` not yet in ``out``; the run's summary.

    ``env_id`` is an id or a setting's name; ``seeds`` integers or ``"A:B"`` (half-open); ``solve_options``
    go to ``solve_optimal`` (``time_limit``: default 60 s per day of the episode; ``mip_gap``). Seeds run
    in chunks, each chunk's files written as it returns, so an interrupted run keeps the chunks done. On
    Ray a seed that fails stops no other seed; the failures are raised together (TaskError) at the end.
    """
    pa = require_pyarrow()
    t0 = time.perf_counter()
    env_id = resolve_env(env_id)
    kwargs_json = _kwargs_json(env_kwargs)
    wanted = _seed_list(seeds)
    out = Path(out)
    meta = _open(out, env_id, kwargs_json, _spaces(env_id, kwargs_json))
    have = set(present_seeds(out))
    skipped = [s for s in wanted if s in have]
    todo = [EpisodeTask(env_id, s, kwargs_json, tuple(sorted(solve_options.items()))) for s in wanted if s not in have]
    infos: list[dict[str, Any]] = []
    rows = 0
    failures: list[tuple[Any, str]] = []
    size = _chunk_size(ray, ray_cpus) if todo else 1
    for at in range(0, len(todo), size):
        chunk, tables, failed = _solve_chunk(todo[at:at + size], ray, ray_cpus, f"dataset {env_id}")
        failures.extend(failed)
        for task, table in zip(chunk, tables, strict=True):
            _write_table(out, task.seed, table)
            infos.append(json.loads(table.schema.metadata[b"batterygym"]))
            rows += table.num_rows
        _write_metadata(out, meta)
    if failures:
        raise TaskError(f"dataset {env_id}", failures)
    present = present_seeds(out)
    total_rows = sum(pa.parquet.ParquetFile(out / f"seed={s}.parquet").metadata.num_rows for s in present)
    statuses: dict[str, int] = {}
    for info in infos:
        statuses[info["status"]] = statuses.get(info["status"], 0) + 1
    return {"env_id": env_id, "env_kwargs": json.loads(kwargs_json), "out": str(out), "seeds": wanted,
            "solved": [i["seed"] for i in infos], "skipped": skipped, "rows": rows, "statuses": statuses,
            "solve_seconds": sum(i["build_seconds"] + i["solve_seconds"] for i in infos),
            "seconds": time.perf_counter() - t0, "dataset": {"seeds": len(present), "rows": total_rows}}


# ---------------------------------------------------------------------------------------- reading
def read_metadata(out: str | Path) -> dict[str, Any]:
    """The dataset's description (``out/_dataset.json``); FileNotFoundError when ``out`` holds no dataset."""
    path = Path(out) / METADATA
    if not path.is_file():
        raise FileNotFoundError(f"{out} holds no batterygym dataset ({METADATA} missing)")
    return json.loads(path.read_text())


def load_dataset(out: str | Path) -> pd.DataFrame:
    """Every row of the dataset, sorted by seed and step; the vector columns hold float32 numpy arrays."""
    pa = require_pyarrow()
    read_metadata(out)
    if not present_seeds(out):
        return schema(pa).empty_table().to_pandas()
    df = pd.read_parquet(out)
    return df.sort_values(["seed", "step"], kind="stable").reset_index(drop=True)


def load_arrays(out: str | Path) -> dict[str, np.ndarray]:
    """The dataset as (writable) numpy arrays, sorted by seed and step: ``observation``, ``action`` and
    ``next_observation`` 2-D ``(rows, size)`` float32, the other columns 1-D (``status`` as str)."""
    import pyarrow.dataset as ds

    pa = require_pyarrow()
    meta = read_metadata(out)
    table = ds.dataset(str(out), format="parquet").to_table() if present_seeds(out) else schema(pa).empty_table()
    table = table.sort_by([("seed", "ascending"), ("step", "ascending")])
    arrays: dict[str, np.ndarray] = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if name in VECTOR_COLUMNS:
            size = meta["observation" if name != "action" else "action"]["size"]
            arrays[name] = np.array(col.flatten().to_numpy(zero_copy_only=False)).reshape(len(col), size)
        elif name == "status":
            arrays[name] = np.asarray(col.to_pylist(), dtype=str)
        else:  # a copy: writable, as torch.from_numpy wants it
            arrays[name] = np.array(col.to_numpy(zero_copy_only=False))
    return arrays


# --------------------------------------------------------------------------------------- command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``batterygym dataset``."""
    from batterygym.settings import SETTINGS

    names = ", ".join(SETTINGS)
    parser.epilog = ("examples:\n  batterygym dataset --env v2g --seeds 0:100 --out v2g-data\n"
                     "  batterygym dataset --env industrial --seeds 0:1000 --out ind-data --ray\n"
                     "  batterygym dataset --env batterygym/V2G-v0 --env-kwargs '{\"n_evs\": 10}' --seeds 0:20 "
                     "--out v2g10\n\nread it back: pandas.read_parquet(DIR), or "
                     "batterygym.scale.dataset.load_arrays(DIR)")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--env", required=True, metavar="ID",
                        help=f"the env: a setting ({names}) or its id (e.g. batterygym/V2G-v0)")
    parser.add_argument("--seeds", required=True, metavar="A:B",
                        help="episode seeds A, A+1, ..., B-1 (half-open, like Python's range(A, B))")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="dataset folder: one seed=<seed>.parquet per seed and _dataset.json; seeds already "
                             "there are skipped")
    parser.add_argument("--env-kwargs", default="{}", metavar="JSON",
                        help="JSON object of env keyword arguments, e.g. '{\"n_evs\": 10}' (default: {})")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="MILP time limit per episode (default: 60 s per day of the episode)")
    add_ray_argument(parser)
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the summary as JSON")


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as printed: one row for the run and one for the dataset it leaves."""
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary["statuses"].items())) or "-"
    seeds = summary["seeds"]
    run = {"seeds": f"{seeds[0]}:{seeds[-1] + 1}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else len(seeds),
           "solved": len(summary["solved"]), "skipped": len(summary["skipped"]), "rows": summary["rows"],
           "statuses": statuses, "seconds": f"{summary['seconds']:.1f}"}
    whole = {"seeds": summary["dataset"]["seeds"], "solved": "", "skipped": "", "rows": summary["dataset"]["rows"],
             "statuses": "", "seconds": ""}
    return pd.DataFrame([run, whole], index=["this run", "dataset"]).to_string()


def run(args: argparse.Namespace) -> int:
    """Write the dataset and print its summary; see the module docstring."""
    from batterygym.benchmarks.site_options import check_output_paths

    seeds = parse_seeds(args.seeds)
    env_id = resolve_env(args.env)
    env_kwargs = json_object_arg("--env-kwargs", args.env_kwargs)
    if args.time_limit is not None and not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise ValueError(f"--time-limit must be a positive number of seconds, got {args.time_limit!r}")
    check_output_paths(args)
    options = {} if args.time_limit is None else {"time_limit": args.time_limit}
    summary = write_dataset(env_id, seeds, args.out, env_kwargs=env_kwargs, ray=args.ray, ray_cpus=args.ray_cpus,
                            **options)
    print(f"dataset {args.out}: {env_id} {json.dumps(summary['env_kwargs'])}")
    print(format_summary(summary))
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:
            raise ValueError(f"cannot write {args.json}: {exc.strerror or exc}") from None
        print(f"wrote {args.json}")
    return 0
