"""Independent pieces of work (training runs, evaluation episodes, MILP solves), in order or as Ray tasks.

:func:`map_tasks` is the one place the suite fans work out: a command builds its list of pieces and
gets their results back in the same order, whether they ran one after the other in this process
(``ray=None``) or as Ray tasks on a cluster (``ray="local"`` starts a Ray for the run, any other
string is a cluster address such as ``"auto"`` or ``"ray://head:10001"``). Seeds travel inside the
pieces, so both paths compute the same numbers. A Ray task that raises is retried once; a piece that
fails twice is reported by its key (its seed, its parameter value) in a :class:`TaskError` once the
others are done, never dropped.

Ray comes with the ``scale`` extra (``pip install "batterygym[scale]"``) and is imported only here,
only when a command is given ``--ray``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

LOCAL = "local"  # --ray without an address: a Ray started on this machine for the run
RETRIES = 1
SCALE_EXTRA = 'pip install "batterygym[scale]"'


class TaskError(RuntimeError):
    """Pieces of work that failed (after their retry), each named by its key with its error."""

    def __init__(self, what: str, failures: Sequence[tuple[Any, str]]) -> None:
        self.failures = list(failures)
        lines = "; ".join(f"{k}: {msg}" for k, msg in self.failures)
        super().__init__(f"{what}: {len(self.failures)} task(s) failed after {RETRIES} retry: {lines}")


def add_ray_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--ray [ADDRESS]`` and ``--ray-cpus N`` on a command (or a group of its options) whose pieces can
    run as Ray tasks."""
    parser.add_argument("--ray", nargs="?", const=LOCAL, default=None, metavar="ADDRESS",
                        help="run the independent pieces as Ray tasks: on the cluster at ADDRESS ('auto' finds the "
                             f"one this machine belongs to), or on a Ray started for the run when no address is "
                             f"given; needs the scale extra ({SCALE_EXTRA}); the numbers equal the serial run's")
    parser.add_argument("--ray-cpus", type=int, default=None, metavar="N",
                        help="CPUs of the Ray started for the run (default: all of this machine's)")


def require_ray() -> Any:
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(f"--ray needs Ray, which is in the scale extra: {SCALE_EXTRA}") from exc
    return ray


def connect(address: str, num_cpus: int | None = None) -> Any:
    """Ray, connected to ``address`` or started locally (``"local"``) with ``num_cpus``; re-used if already up."""
    ray = require_ray()
    if num_cpus is not None and num_cpus < 1:
        raise ValueError(f"--ray-cpus must be at least 1, got {num_cpus}")
    if not ray.is_initialized():
        if address == LOCAL:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                     logging_level="error", runtime_env={"env_vars": {"PYTHONWARNINGS": "ignore"}})
        else:
            if num_cpus is not None:
                raise ValueError("--ray-cpus sizes a local Ray only; a cluster at an address has its own CPUs")
            ray.init(address=address, log_to_driver=False, logging_level="error")
    return ray


def _progress(total: int, desc: str, unit: str, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=None if show else True)


def map_tasks(fn: Callable[[T], R], items: Sequence[T], *, keys: Sequence[Any] | None = None,
              ray: str | None = None, ray_cpus: int | None = None, desc: str = "tasks", unit: str = "task",
              num_cpus: float = 1.0, progress: bool = True) -> list[R]:
    """``[fn(item) for item in items]``, in order: here, or as Ray tasks when ``ray`` names a cluster.

    ``fn`` must be importable by the workers (a module-level function of an installed package) and
    ``items`` picklable. ``keys`` name the items in progress and errors (default: their positions).
    ``progress`` False hides the bar. Serially, an exception propagates as raised. On Ray, each task
    is retried once on any error; the items that still fail are reported together, by key, in a
    :class:`TaskError`.
    """
    items = list(items)
    keys = list(range(len(items))) if keys is None else list(keys)
    if len(keys) != len(items):
        raise ValueError(f"keys: {len(keys)} keys for {len(items)} items")
    if ray is None:
        if ray_cpus is not None:
            raise ValueError(f"--ray-cpus {ray_cpus}: it sizes the Ray that --ray starts; give --ray too")
        bar = _progress(len(items), desc, unit, progress)
        out = []
        for item in items:
            out.append(fn(item))
            bar.update()
        bar.close()
        return out
    mod = connect(ray, ray_cpus)
    remote = mod.remote(num_cpus=num_cpus, max_retries=RETRIES, retry_exceptions=True)(_call)
    refs = [remote.remote(fn, item) for item in items]
    index = {ref: i for i, ref in enumerate(refs)}
    results: list[Any] = [None] * len(items)
    failures: list[tuple[Any, str]] = []
    pending = list(refs)
    bar = _progress(len(items), f"{desc} (ray)", unit, progress)
    while pending:
        done, pending = mod.wait(pending, num_returns=1)
        for ref in done:
            i = index[ref]
            try:
                results[i] = mod.get(ref)
            except Exception as exc:  # noqa: BLE001 - every failure is reported with its key below
                failures.append((keys[i], _message(exc)))
            bar.update()
    bar.close()
    if failures:
        raise TaskError(desc, sorted(failures, key=lambda f: keys.index(f[0])))
    return results


def _call(fn: Callable[[T], R], item: T) -> R:
    """The body of every Ray task (Ray sets the task's threads, OMP_NUM_THREADS, to its CPUs)."""
    return fn(item)


def _message(exc: BaseException) -> str:
    """The original error of a failed Ray task, in one line."""
    cause = getattr(exc, "cause", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[-1]}" if lines else type(cause).__name__
