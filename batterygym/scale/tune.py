"""``batterygym tune``: a Ray Tune search over an agent's hyper-parameters, scored on validation episodes.

Each trial trains ``algo`` as ``agent`` on ``env_id`` (:func:`batterygym.agents.train.train`) with one
configuration drawn from :data:`SPACES`, a search space centred on the shipped defaults
(``batterygym/agents/hyperparams/<algo>.toml``), and is scored by the mean share of the optimum's gain
over idle it captures on the validation episodes (:func:`batterygym.agents.seeds.validation_seeds`), which
neither training nor the held-out evaluation ever plays. The best configuration is written as the full
table (defaults merged with its overrides) under the key the shipped file would use, ready to paste into
``hyperparams/<algo>.toml`` or to pass to ``batterygym train --hyperparams``.

Ray (and Ray Tune) come with the ``scale`` extra; Optuna's sampler is used when ``optuna`` is installed,
else Tune's random search.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import math
import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from batterygym.agents.seeds import MAX_EVAL_EPISODES, train_seed_range, validation_seeds
from batterygym.scale.tasks import LOCAL, SCALE_EXTRA, TaskError, add_ray_argument, connect, require_ray

METRIC = "captured"  # mean share of the optimum's gain over idle on the validation episodes (maximised)

# The knobs searched per algorithm, each centred on the shipped table's value (the algorithm's own default
# where the table has none):
#   ("log", lo, hi)       the default times a log-uniform factor in [lo, hi] (at most 1 for tau)
#   ("discount", lo, hi)  a discount uniform in [1 - (1 - default) * hi, 1 - (1 - default) * lo]: the horizon
#                         1 / (1 - gamma) between the default's / hi and / lo
#   ("times", factors)    the default times one of the factors (an integer stays a positive integer)
#   ("choice", values)    one of the values, the default added if it is not among them
# PPO's ``minibatches`` is the number of minibatches per epoch: batch_size = n_steps * n_envs / minibatches,
# so every batch size drawn divides the rollout, whatever n_steps and n_envs are.
SPACES: dict[str, dict[str, tuple[Any, ...]]] = {
    "ppo": {
        "learning_rate": ("log", 0.2, 5.0),
        "n_steps": ("times", (0.5, 1, 2)),
        "minibatches": ("times", (0.5, 1, 2)),
        "gamma": ("discount", 0.5, 2.0),
        "ent_coef": ("choice", (0.0, 1e-3, 1e-2)),
    },
    "sac": {
        "learning_rate": ("log", 0.2, 5.0),
        "batch_size": ("times", (0.5, 1, 2)),
        "tau": ("log", 0.5, 4.0),
        "train_freq": ("times", (0.5, 1, 2)),
        "gradient_steps": ("times", (0.5, 1, 2)),
        "ent_coef": ("choice", ("auto", "auto_0.1", "auto_0.01")),
    },
}
SPACES["tqc"] = SPACES["sac"]

DEFAULT_SAMPLES = 8
DEFAULT_EPISODES = 5


def knob_defaults(algo: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every knob of :data:`SPACES` in ``table`` (a hyper-parameter table), else the algorithm's."""
    out: dict[str, Any] = {}
    for name in SPACES[algo]:
        if name == "minibatches":
            out[name] = max(1, round(table["n_steps"] * table.get("n_envs", 1) / table["batch_size"]))
        elif name in table:
            out[name] = table[name]
        else:
            out[name] = _algo_default(algo, name)
    return out


def _algo_default(algo: str, name: str) -> Any:
    from batterygym.agents.recipes import algo_class

    value = inspect.signature(algo_class(algo)).parameters[name].default
    if value is inspect.Parameter.empty:
        raise ValueError(f"{algo} has no default for {name!r}; give it in hyperparams/{algo}.toml")
    return value


def search_space(algo: str, table: Mapping[str, Any]) -> dict[str, tuple[str, Any, ...]]:
    """The concrete search space around ``table``: knob -> ("loguniform"|"uniform", lo, hi) or ("choice", values)."""
    out: dict[str, tuple[str, Any, ...]] = {}
    for name, default in knob_defaults(algo, table).items():
        kind, *spec = SPACES[algo][name]
        if kind == "log":
            hi = default * spec[1]
            out[name] = ("loguniform", default * spec[0], min(hi, 1.0) if name == "tau" else hi)
        elif kind == "discount":
            out[name] = ("uniform", 1 - (1 - default) * spec[1], 1 - (1 - default) * spec[0])
        elif kind == "times":
            out[name] = ("choice", sorted({max(1, round(default * f)) for f in spec[0]}))
        elif kind == "choice":
            out[name] = ("choice", list(spec[0]) + ([] if default in spec[0] else [default]))
        else:
            raise ValueError(f"SPACES[{algo!r}][{name!r}]: unknown kind {kind!r}")
    return out


def overrides_of(algo: str, table: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The hyper-parameters a trial trains with: ``config`` (a draw of the search space), floats rounded to 3
    significant digits (of 1 - gamma for gamma) and PPO's ``minibatches`` turned into ``batch_size``."""
    out: dict[str, Any] = {}
    for name, value in config.items():
        if name == "gamma":
            out[name] = round(1 - float(f"{1 - value:.3g}"), 12)
        elif isinstance(value, float) and name != "ent_coef":
            out[name] = float(f"{value:.3g}")
        else:
            out[name] = value
    if "minibatches" in out:
        n_steps = out.get("n_steps", table["n_steps"])
        out["batch_size"] = max(2, n_steps * table.get("n_envs", 1) // out.pop("minibatches"))
    return out


@dataclass(frozen=True)
class TuneJob:
    """What every trial of one search shares: the env, algorithm, agent, budget, seeds and the defaults."""

    env_id: str
    algo: str
    agent: str
    steps: int
    seed: int
    seeds: tuple[int, ...]  # validation episodes
    defaults: dict[str, Any]  # the shipped table the search is centred on
    runs_dir: str  # each trial's run directory is runs_dir/<trial id>
    env_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialResult:
    """One trial: its overrides, its captured share (mean and per validation episode), its run directory."""

    trial_id: str
    overrides: dict[str, Any]
    captured: float
    episodes: tuple[float, ...]
    run_dir: str
    error: str | None = None


@dataclass(frozen=True)
class TuneResult:
    """A search: its trials and the best one's full table, under the key ``hyperparams/<algo>.toml`` would use."""

    env_id: str
    algo: str
    agent: str
    key: str
    steps: int
    seed: int
    validation_seeds: tuple[int, ...]
    trials: tuple[TrialResult, ...]
    best_trial: str
    best: dict[str, Any]
    storage: str  # the experiment's directory (Tune's results, the trials' runs, best.toml)

    @property
    def best_result(self) -> TrialResult:
        return next(t for t in self.trials if t.trial_id == self.best_trial)


def table_key(env_id: str, agent: str) -> str:
    """The key of ``env_id``'s table for ``agent`` in ``hyperparams/<algo>.toml``."""
    return env_id if agent == "plain" else f"{env_id}:{agent}"


def score_run(run_dir: str | Path, env_id: str, seeds: list[int] | tuple[int, ...],
              env_kwargs: Mapping[str, Any] | None = None) -> list[float]:
    """The captured share of a run on each of ``seeds`` (``evaluate_policies``' column, played serially)."""
    from batterygym.benchmarks.regret import evaluate_policies

    df = evaluate_policies({"trial": str(run_dir)}, env_id, seeds=list(seeds), env_kwargs=dict(env_kwargs or {}))
    return [float(x) for x in df["captured"]]


def run_trial(config: dict[str, Any], job: TuneJob) -> None:
    """One Tune trial: train with the drawn configuration, score on the validation episodes, report."""
    from ray import tune as ray_tune

    from batterygym.agents.train import train

    overrides = overrides_of(job.algo, job.defaults, config)
    run_dir = Path(job.runs_dir) / ray_tune.get_context().get_trial_id()
    train(job.env_id, job.algo, job.steps, seed=job.seed, out=run_dir, env_kwargs=job.env_kwargs,
          hyperparams=overrides, agent=job.agent, progress_bar=False)
    episodes = score_run(run_dir, job.env_id, job.seeds, job.env_kwargs)
    finite = [x for x in episodes if math.isfinite(x)]
    ray_tune.report({METRIC: sum(finite) / len(finite) if finite else math.nan, "episodes": json.dumps(episodes),
                     "overrides": json.dumps(overrides), "run_dir": str(run_dir)})


def default_steps(env_id: str, algo: str, agent: str) -> int:
    """The quick benchmark's training budget for the rung (the recipe's quick steps for an agent)."""
    from batterygym.benchmarks.benchmark import BenchmarkConfig, rung_steps

    return rung_steps(env_id, algo, agent, BenchmarkConfig.quick())


def check_options(env_id: str, algo: str, samples: int, agent: str, steps: int | None, episodes: int,
                  seed: int) -> None:
    """One-line ValueErrors, each naming the option and its value."""
    from batterygym.agents.recipes import recipes_for

    if algo not in SPACES:
        raise ValueError(f"--algo must be one of {sorted(SPACES)}, got {algo!r}")
    if samples < 1:
        raise ValueError(f"--samples must be at least 1, got {samples}")
    if steps is not None and steps < 1:
        raise ValueError(f"--steps must be at least 1, got {steps}")
    if not 1 <= episodes <= MAX_EVAL_EPISODES:
        raise ValueError(f"--episodes must be in [1, {MAX_EVAL_EPISODES:,}], got {episodes}")
    try:
        known = recipes_for(env_id)
    except ValueError as exc:
        raise ValueError(f"--env: {exc}") from None
    if agent not in known:
        raise ValueError(f"--agent {agent!r} is not one of {env_id}'s agents: {sorted(known)}")
    try:
        train_seed_range(seed)
    except ValueError as exc:
        raise ValueError(f"--seed: {exc}") from None


def tune(env_id: str, algo: str = "ppo", samples: int = DEFAULT_SAMPLES, *, agent: str = "plain",
         steps: int | None = None, episodes: int = DEFAULT_EPISODES, seed: int = 0, storage: str | Path | None = None,
         ray: str | None = None, ray_cpus: int | None = None, env_kwargs: Mapping[str, Any] | None = None,
         progress: bool = True) -> TuneResult:
    """Search ``samples`` configurations of ``algo`` as ``agent`` on ``env_id`` with Ray Tune, one CPU per trial.

    Every trial trains ``steps`` steps (default :func:`default_steps`) with run seed ``seed`` and is scored on
    ``validation_seeds(episodes)``; ``seed`` also seeds the sampler, so a search repeats its draws. Results go
    under ``storage`` (default ``runs/tune/<env>/<algo>-<agent>``), in a new experiment directory per search.
    ``ray``: a cluster address, or None (``"local"``) for a Ray started here with ``ray_cpus`` CPUs; a Ray already
    running in this process is used as it is.
    """
    from batterygym.agents.hyperparams import load_hyperparams

    algo = algo.lower()
    check_options(env_id, algo, samples, agent, steps, episodes, seed)
    steps = default_steps(env_id, algo, agent) if steps is None else steps
    require_ray()
    from ray import tune as ray_tune

    _require_tomli_w()

    defaults = load_hyperparams(algo, env_id, None, agent)
    space = search_space(algo, defaults)
    storage = Path(storage or Path("runs") / "tune" / env_id.replace("/", "_") / f"{algo}-{agent}").resolve()
    name = _experiment_name(storage)
    job = TuneJob(env_id, algo, agent, steps, seed, tuple(validation_seeds(episodes)), defaults,
                  str(storage / name / "runs"), dict(env_kwargs or {}))
    connect(ray or LOCAL, ray_cpus)
    tuner = ray_tune.Tuner(
        ray_tune.with_resources(ray_tune.with_parameters(run_trial, job=job), {"cpu": 1}),
        param_space={k: _domain(ray_tune, spec) for k, spec in space.items()},
        tune_config=ray_tune.TuneConfig(metric=METRIC, mode="max", num_samples=samples,
                                        search_alg=_searcher(seed), trial_dirname_creator=_trial_dirname),
        run_config=ray_tune.RunConfig(name=name, storage_path=str(storage), verbose=0,
                                      failure_config=ray_tune.FailureConfig(max_failures=1),
                                      callbacks=[_progress_callback(samples, f"tuning {algo} on {env_id}", progress)]),
    )
    with _quiet():
        grid = tuner.fit()
    trials = sorted((_trial_result(r, algo, defaults) for r in grid), key=lambda t: t.trial_id)
    done = [t for t in trials if t.error is None and math.isfinite(t.captured)]
    if not done:
        raise TaskError(f"tuning {algo} on {env_id} (tracebacks: {storage / name}/trial_<id>/error.txt)",
                        [(t.trial_id, t.error or "no captured share") for t in trials])
    best = max(done, key=lambda t: t.captured)
    return TuneResult(env_id, algo, agent, table_key(env_id, agent), steps, seed, job.seeds, tuple(trials),
                      best.trial_id, load_hyperparams(algo, env_id, best.overrides, agent), str(storage / name))


def _require_tomli_w() -> None:
    """tomli_w writes the best table: checked before a search, not after it."""
    try:
        import tomli_w  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"batterygym tune writes TOML with tomli-w, which is in the scale extra: {SCALE_EXTRA}") \
            from exc


def _domain(ray_tune: Any, spec: tuple[str, Any, ...]) -> Any:
    kind, *args = spec
    return {"loguniform": ray_tune.loguniform, "uniform": ray_tune.uniform}[kind](*args) if kind != "choice" \
        else ray_tune.choice(args[0])


def _searcher(seed: int) -> Any:
    """Optuna's TPE when optuna is installed, else Tune's random search; seeded either way."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        from ray.tune.search import BasicVariantGenerator

        return BasicVariantGenerator(random_state=seed)
    from ray.tune.search.optuna import OptunaSearch

    return OptunaSearch(seed=seed)


def _trial_dirname(trial: Any) -> str:
    return f"trial_{trial.trial_id}"


def _experiment_name(storage: Path) -> str:
    base = time.strftime("search-%Y%m%d-%H%M%S")
    name, i = base, 1
    while (storage / name).exists():
        name, i = f"{base}-{i}", i + 1
    return name


def _progress_callback(total: int, desc: str, show: bool) -> Any:
    """A Tune callback moving a tqdm bar (stderr) as trials end."""
    from ray.tune import Callback
    from tqdm.auto import tqdm

    class Progress(Callback):
        def __init__(self) -> None:
            self.bar: Any = None

        def _tick(self) -> None:
            self._open()
            self.bar.update()

        def _open(self) -> None:
            if self.bar is None:
                self.bar = tqdm(total=total, desc=desc, unit="trial", file=sys.stderr, disable=None if show else True)

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self._open()

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self._tick()

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self._tick()

        def on_experiment_end(self, trials: list, **info: Any) -> None:
            if self.bar is not None:
                self.bar.close()

    return Progress()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Tune without its status tables and logs (restored afterwards): a failed trial is reported by
    :func:`tune` in one line, its traceback left in ``trial_<id>/error.txt``."""
    old = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    loggers = [logging.getLogger(n) for n in ("ray", "ray.tune", "ray.train")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("RAY_AIR_NEW_OUTPUT", None)
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = old
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _trial_result(r: Any, algo: str, defaults: Mapping[str, Any]) -> TrialResult:
    m = r.metrics or {}
    trial_id = m.get("trial_id") or Path(r.path).name.removeprefix("trial_")
    error = None
    if r.error is not None:
        cause = getattr(r.error, "cause", None) or r.error
        lines = str(cause).strip().splitlines()
        error = f"{type(cause).__name__}: {lines[-1]}" if lines else type(cause).__name__
    if METRIC not in m:
        return TrialResult(trial_id, overrides_of(algo, defaults, r.config), math.nan, (), "",
                           error or "the trial reported nothing")
    return TrialResult(trial_id, json.loads(m["overrides"]), float(m[METRIC]), tuple(json.loads(m["episodes"])),
                       m["run_dir"], error)


def best_toml(result: TuneResult) -> str:
    """The best table as TOML, in the shipped files' form, with a comment saying where it comes from."""
    import tomli_w

    b = result.best_result
    head = (f"# batterygym tune: {result.algo.upper()} as {result.agent} on {result.env_id}, {result.steps:,} steps, "
            f"best of {len(result.trials)} trials: {100 * b.captured:.1f} % of the optimum's gain over idle on "
            f"{len(result.validation_seeds)} validation episode(s)\n")
    return head + tomli_w.dumps({result.key: result.best})


def trials_frame(result: TuneResult) -> Any:
    """The trials as a table: id, each knob drawn, captured share (%), error."""
    import pandas as pd

    rows = [{"trial": t.trial_id, **t.overrides, "captured_%": 100 * t.captured, "error": t.error or ""}
            for t in result.trials]
    df = pd.DataFrame(rows)
    return df if any(t.error for t in result.trials) else df.drop(columns="error")


def result_json(result: TuneResult) -> dict[str, Any]:
    """The search as JSON-ready data: every trial and the best (its overrides and full table)."""
    out = asdict(result)
    for t in out["trials"]:  # a failed trial's share is None (JSON has no NaN)
        t["captured"] = t["captured"] if math.isfinite(t["captured"]) else None
    out["best"] = {"trial_id": result.best_trial, "captured": result.best_result.captured,
                   "overrides": result.best_result.overrides, "key": result.key, "table": result.best}
    out.pop("best_trial")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="registered env id, e.g. batterygym/V2G-v0")
    parser.add_argument("--algo", default="ppo", choices=sorted(SPACES), help="algorithm to tune")
    parser.add_argument("--agent", default="plain", help="what the algorithm trains on: plain or one of the env's "
                        "agents (batterygym.agents.recipes)")
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="configurations tried (trials)")
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per trial (default: the quick benchmark's budget for the rung)")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES,
                        help="validation episodes scoring each trial (never training's nor the held-out ones)")
    parser.add_argument("--seed", type=int, default=0, help="run seed of every trial, and the sampler's")
    parser.add_argument("--out", default=None, metavar="FILE.toml",
                        help="where to write the best table (default: best.toml in the experiment's directory)")
    parser.add_argument("--storage", default=None, metavar="DIR",
                        help="Tune's results and the trials' runs (default: runs/tune/<env>/<algo>-<agent>)")
    add_ray_argument(parser)
    for action in parser._actions:  # the trials always run on Ray: say where
        if action.dest == "ray":
            action.help = ("the Ray cluster at ADDRESS runs the trials, one CPU each ('auto' finds the one this "
                           "machine belongs to); without it, a Ray started for the search (or the one already up)")
    parser.add_argument("--json", default=None, metavar="FILE", help="write the trials and the best as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    result = tune(args.env, args.algo, args.samples, agent=args.agent, steps=args.steps, episodes=args.episodes,
                  seed=args.seed, storage=args.storage, ray=args.ray, ray_cpus=args.ray_cpus,
                  progress=not args.no_progress)
    return report(result, args.out, args.json)


def report(result: TuneResult, out: str | Path | None = None, json_path: str | Path | None = None) -> int:
    """Print the trials and the best, write the best table to ``out`` (default: best.toml in the experiment's
    directory) and, with ``json_path``, the trials and the best as JSON."""
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(trials_frame(result).to_string(index=False))
    b = result.best_result
    out = Path(out) if out else Path(result.storage) / "best.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(best_toml(result))
    print(f"\nbest: trial {b.trial_id}, {100 * b.captured:.1f} % of the optimum's gain over idle on "
          f"{len(result.validation_seeds)} validation episode(s); overrides {json.dumps(b.overrides)}")
    print(f"table [\"{result.key}\"] written to {out} (paste it into batterygym/agents/hyperparams/{result.algo}.toml)")
    print(f"train with it: batterygym train --env {result.env_id} --algo {result.algo} --agent {result.agent} "
          f"--out RUN --hyperparams \"$(python -c 'import json, tomllib; "
          f"print(json.dumps(tomllib.load(open(\"{out}\", \"rb\"))[\"{result.key}\"]))')\"")
    if json_path:
        Path(json_path).write_text(json.dumps(result_json(result), indent=2, default=str))
    failed = [t for t in result.trials if t.error]
    if failed:
        print(f"{len(failed)} trial(s) failed (tracebacks: {result.storage}/trial_<id>/error.txt): "
              + "; ".join(f"{t.trial_id}: {t.error}" for t in failed), file=sys.stderr)
    return 0


__all__ = ["SPACES", "TrialResult", "TuneResult", "best_toml", "overrides_of", "result_json", "score_run",
           "search_space", "trials_frame", "tune"]
