"""``batterygym benchmark``: train or load PPO and SAC per env, run the baseline ladder on the same
held-out episodes, print the regret table and write ``report.json``, ``report.csv`` and plots.

The ladder, weakest first: idle, the setting's heuristics, MPC on noisy forecasts, MPC on perfect
forecasts, the plain agents (PPO, SAC on the env as it is), the agents built on the suite's wrappers
(``<algo>-<agent>``, :mod:`batterygym.agents.recipes`), and the perfect-foresight MILP (regret 0 by
definition). Every rung plays the same evaluation seeds, which no training run ever sees
(``batterygym.agents.seeds``), and carries its ``kind`` ("heuristic", "learned", "optimal") and a
one-line description in ``report.json``.
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import batterygym
from batterygym.agents.seeds import EVAL_SEED_BASE, eval_seeds, train_seed_range
from batterygym.benchmarks.agent_targets import agent_targets, format_targets
from batterygym.scale.tasks import add_ray_argument


@dataclass
class BenchmarkConfig:
    """What one benchmark run does; ``quick()`` takes 3-5 minutes per env on 2 CPU cores."""

    env_ids: list[str] = field(default_factory=list)  # empty: every registered batterygym id
    algos: list[str] = field(default_factory=lambda: ["ppo", "sac"])
    steps: dict[str, int] = field(default_factory=lambda: {"ppo": 2_000_000, "sac": 100_000, "tqc": 100_000})
    agent_algos: list[str] = field(default_factory=lambda: ["ppo", "sac"])  # for the wrappers' agents
    agent_steps: dict[str, int] = field(default_factory=dict)  # per rung (e.g. "ppo-cap"); default: its recipe's
    quick_run: bool = False  # the recipes' quick step counts
    episodes: int = 20
    mpc_episodes: int = 20
    seed: int = 0
    forecast_noise: float = 0.1
    mpc_horizon: int = 24
    runs_dir: str = "runs"
    out_dir: str = "benchmark"
    retrain: bool = False
    progress: bool = True
    env_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)  # per env id, for training and evaluation
    hyperparams: dict[str, dict[str, Any]] = field(default_factory=dict)  # per algo, over the tuned defaults
    ray: str | None = None  # run training and evaluation as Ray tasks: a cluster address, or "local"
    ray_cpus: int | None = None  # CPUs of a local Ray

    @classmethod
    def quick(cls, **overrides: Any) -> BenchmarkConfig:
        base = dict(steps={"ppo": 150_000, "sac": 8_000, "tqc": 8_000}, episodes=5, mpc_episodes=3, quick_run=True)
        base.update(overrides)
        return cls(**base)


def registered_ids() -> list[str]:
    """The gym id of every setting (:mod:`batterygym.settings`), sorted."""
    from batterygym.settings import SETTINGS

    return sorted(s.env_id for s in SETTINGS.values())


def learned_rungs(env_id: str, cfg: BenchmarkConfig) -> list[tuple[str, str]]:
    """``(algo, agent)`` of every learned rung of ``env_id``: the plain algorithms, then each of the id's
    agents (:func:`batterygym.agents.recipes.recipes_for`) with each of ``cfg.agent_algos``."""
    from batterygym.agents.recipes import recipes_for

    agents = [a for a in recipes_for(env_id) if a != "plain"]
    return [(a, "plain") for a in cfg.algos] + [(a, r) for r in agents for a in cfg.agent_algos]


def rung_steps(env_id: str, algo: str, agent: str, cfg: BenchmarkConfig) -> int:
    """Training steps of a learned rung: ``cfg.steps`` for the plain algorithms, else ``cfg.agent_steps`` or
    the recipe's (its quick count under ``quick_run``)."""
    from batterygym.agents.recipes import recipe, rung_name

    if agent == "plain":
        return cfg.steps[algo]
    name = rung_name(algo, agent)
    if name in cfg.agent_steps:
        return cfg.agent_steps[name]
    r = recipe(env_id, agent)
    table = r.quick_steps if cfg.quick_run else r.steps
    return table.get(algo, table.get("sac", 10_000) if algo == "tqc" else 100_000)


def _same_run(record: dict[str, Any], env_id: str, algo: str, cfg: BenchmarkConfig, agent: str = "plain") -> bool:
    from batterygym.agents.hyperparams import load_hyperparams

    wanted = load_hyperparams(algo, env_id, cfg.hyperparams.get(algo), agent)
    trained = {**record.get("hyperparams", {}), "n_envs": record.get("n_envs"), "policy": record.get("policy"),
               "env": record.get("env_wrappers")}
    return (record.get("status") == "done" and record.get("env_id") == env_id and record.get("algo") == algo
            and record.get("agent", "plain") == agent
            and record.get("requested_timesteps") == rung_steps(env_id, algo, agent, cfg)
            and record.get("seed") == cfg.seed
            and record.get("env_kwargs", {}) == cfg.env_kwargs.get(env_id, {})
            and json.loads(json.dumps(wanted)) == json.loads(json.dumps(trained)))


def train_or_load(env_id: str, algo: str, cfg: BenchmarkConfig, agent: str = "plain") -> tuple[Any, dict[str, Any]]:
    """The trained run of ``algo`` as ``agent`` on ``env_id`` (its directory, a policy spec of
    :func:`~batterygym.benchmarks.regret.as_policy`): loaded when a matching run exists, else trained."""
    return train_or_load_all([(env_id, algo, agent)], cfg)[(env_id, algo, agent)]


def train_or_load_all(rungs: list[tuple[str, str, str]], cfg: BenchmarkConfig
                      ) -> dict[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    """:func:`train_or_load` for every ``(env_id, algo, agent)``: the runs to train are the pieces of one
    :func:`~batterygym.scale.tasks.map_tasks` (Ray tasks under ``cfg.ray``, each returning its run's files
    for the runs directory here)."""
    from batterygym.agents.policy import read_run
    from batterygym.agents.recipes import rung_name
    from batterygym.scale.tasks import map_tasks

    dirs = {k: Path(cfg.runs_dir) / k[0].replace("/", "_") / rung_name(k[1], k[2]) for k in rungs}
    todo = []
    for key, run_dir in dirs.items():
        env_id, algo, agent = key
        record = read_run(run_dir) if (run_dir / "run.json").exists() else {}
        if cfg.retrain or not _same_run(record, env_id, algo, cfg, agent):
            steps = rung_steps(env_id, algo, agent, cfg)
            print(f"training {rung_name(algo, agent)} on {env_id} for {steps:,} steps -> {run_dir}", flush=True)
            remote = cfg.ray is not None
            todo.append((key, (env_id, algo, steps, cfg.seed, str(run_dir), cfg.env_kwargs.get(env_id, {}),
                               cfg.hyperparams.get(algo), agent, cfg.progress and not remote, remote)))
        else:
            print(f"loading {rung_name(algo, agent)} on {env_id} from {run_dir} "
                  f"(trained {record['total_timesteps']:,} steps)")
    packed = map_tasks(train_piece, [p for _, p in todo], keys=[f"{k[0]} {rung_name(k[1], k[2])}" for k, _ in todo],
                       ray=cfg.ray, ray_cpus=cfg.ray_cpus, desc="training", unit="run", progress=False)
    for (key, _), files in zip(todo, packed, strict=True):
        if files is not None:
            files.unpack(dirs[key])
    return {k: (str(d), read_run(d)) for k, d in dirs.items()}


def train_piece(piece: tuple) -> Any:
    """One training run: ``(env_id, algo, steps, seed, out, env_kwargs, hyperparams, agent, progress, pack)``;
    with ``pack``, trained in a private directory and returned as a
    :class:`~batterygym.agents.policy.PackedRun` (a Ray task's result), else written to ``out``."""
    import tempfile

    from batterygym.agents.policy import PackedRun
    from batterygym.agents.train import train

    env_id, algo, steps, seed, out, env_kwargs, hyperparams, agent, progress, pack = piece
    if not pack:
        train(env_id, algo, steps, seed=seed, out=out, env_kwargs=env_kwargs, hyperparams=hyperparams,
              progress_bar=progress, agent=agent)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / Path(out).name
        train(env_id, algo, steps, seed=seed, out=run_dir, env_kwargs=env_kwargs, hyperparams=hyperparams,
              progress_bar=False, agent=agent)
        return PackedRun.of(run_dir)


def ladder(env_id: str, cfg: BenchmarkConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cheap rungs (every episode) and MPC rungs (the first ``mpc_episodes``), as policy specs, weakest first."""
    from batterygym.baselines.mpc import mpc_class
    from batterygym.baselines.rollout import heuristic_classes

    env = gym.make(env_id, **cfg.env_kwargs.get(env_id, {}))
    cheap: dict[str, Any] = dict(heuristic_classes(env))
    mpc: dict[str, Any] = {}
    cls = mpc_class(env)
    if cls is not None:
        mpc["mpc_noisy"] = functools.partial(cls, horizon=cfg.mpc_horizon, forecast_noise=cfg.forecast_noise)
        mpc["mpc_perfect"] = functools.partial(cls, horizon=cfg.mpc_horizon)
    env.close()
    return cheap, mpc


def run_benchmark(cfg: BenchmarkConfig) -> dict[str, Any]:
    """Run the whole benchmark; returns the report (also written to ``cfg.out_dir``)."""
    from batterygym.agents.train import versions
    from batterygym.benchmarks.regret import evaluate_policies, summarize

    t_start = time.perf_counter()
    env_ids = cfg.env_ids or registered_ids()
    unknown = [i for i in env_ids if i not in gym.registry]
    if unknown:
        raise ValueError(f"unknown env id(s) {unknown}; registered: {registered_ids()}")
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = eval_seeds(cfg.episodes)
    frames, runs, all_policies = [], {}, {}
    rungs: dict[str, list[str]] = {}  # env id -> its rungs, weakest first
    from batterygym.agents.recipes import rung_name

    kinds: dict[tuple[str, str], tuple[str, str]] = {}
    trained = train_or_load_all([(e, a, g) for e in env_ids for a, g in learned_rungs(e, cfg)], cfg)
    for env_id in env_ids:
        cheap, mpc = ladder(env_id, cfg)
        learned = learned_rungs(env_id, cfg)
        names = [rung_name(a, g) for a, g in learned]
        rungs[env_id] = [*cheap, *mpc, *names, "optimal"]
        kinds.update({(env_id, k): v for k, v in rung_kinds(env_id, cheap, mpc, learned).items()})
        for (algo, agent), name in zip(learned, names, strict=True):
            cheap[name], runs[f"{env_id}:{name}"] = trained[(env_id, algo, agent)]
        env_kwargs = cfg.env_kwargs.get(env_id, {})
        if cfg.mpc_episodes <= 0:
            mpc = {}
        all_policies[env_id] = {**cheap, **mpc}
        scale = {"ray": cfg.ray, "ray_cpus": cfg.ray_cpus}
        frames.append(evaluate_policies(cheap, env_id, seeds, env_kwargs, progress=cfg.progress, **scale))
        if mpc:
            frames.append(evaluate_policies(mpc, env_id, seeds[: cfg.mpc_episodes], env_kwargs,
                                            progress=cfg.progress, **scale))
    episodes = pd.concat(frames, ignore_index=True)
    optimum = (episodes.drop_duplicates(["env_id", "seed"])
               .assign(policy="optimal", **{"return": lambda d: d["optimum"]}, regret=0.0, captured=1.0))
    episodes = pd.concat([episodes, optimum], ignore_index=True)
    summary = summarize(episodes)
    rank = [rungs[e].index(p) for e, p in zip(summary["env_id"], summary["policy"], strict=True)]
    summary = (summary.assign(_rank=rank).sort_values(["env_id", "_rank"], kind="stable")
               .drop(columns="_rank").reset_index(drop=True))
    summary["kind"] = [kinds.get((e, p), ("optimal", ""))[0] for e, p in zip(summary["env_id"], summary["policy"],
                                                                             strict=True)]
    summary["description"] = [kinds.get((e, p), ("", "the perfect-foresight MILP: the episode's true optimum"))[1]
                              for e, p in zip(summary["env_id"], summary["policy"], strict=True)]
    report = {
        "batterygym": batterygym.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "config": asdict(cfg),
        "versions": versions(),
        "split": {
            "evaluation_seeds": seeds,
            "training_seed_ranges": {k: r.get("train_episode_seeds", {"allowed": list(train_seed_range(cfg.seed))})
                                     for k, r in runs.items()},
            "disjoint": all(s >= EVAL_SEED_BASE for s in seeds) and train_seed_range(cfg.seed)[1] <= EVAL_SEED_BASE,
        },
        "runs": {k: {key: r.get(key) for key in ("algo", "agent", "total_timesteps", "wall_seconds",
                                                 "steps_per_second", "hyperparams", "seed")} for k, r in runs.items()},
        "solver": {
            "statuses": episodes["solver_status"].value_counts().to_dict(),
            "max_gap": float(episodes["solver_gap"].max()),
        },
        "summary": summary.to_dict(orient="records"),
        "wall_seconds": time.perf_counter() - t_start,
    }
    report["targets"] = agent_targets(summary, cfg.quick_run, report["wall_seconds"],
                                      set(env_ids) == set(registered_ids()))
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_json_default))
    episodes.to_csv(out / "report.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    report["plots"] = write_plots(summary, all_policies, seeds[0], out, cfg.env_kwargs)
    return report | {"summary_frame": summary}


def rung_kinds(env_id: str, cheap: dict[str, Any], mpc: dict[str, Any], learned: list[tuple[str, str]]
               ) -> dict[str, tuple[str, str]]:
    """Each rung's ``(kind, description)``: heuristics (idle, the setting's rules, MPC) and learned rungs; a
    learned rung that corrects a heuristic says so."""
    from batterygym.agents.recipes import recipe, rung_name

    out = {}
    for name, spec in cheap.items():
        doc = (getattr(spec, "__doc__", None) or "").strip().split("\n")[0]
        out[name] = ("heuristic", "no action: the site as it is" if name == "idle" else doc)
    for name in mpc:
        noise = "noisy" if "noisy" in name else "perfect"
        out[name] = ("heuristic", f"model-predictive control on {noise} forecasts of its horizon, re-solved each step")
    for algo, agent in learned:
        r = recipe(env_id, agent)
        text = f"{algo.upper()}: {r.description}"
        if r.corrects:
            text += f" (a learned correction of the '{r.corrects}' heuristic)"
        out[rung_name(algo, agent)] = ("learned", text)
    return out


def _json_default(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


def write_plots(summary: pd.DataFrame, policies: dict[str, dict[str, Any]], seed: int, out: Path,
                env_kwargs: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Regret by policy and env, and one held-out episode's dispatch of every policy beside the optimum
    (each setting's own plot of its settled records)."""
    from batterygym.baselines import solve_optimal
    from batterygym.benchmarks.episode import command, play
    from batterygym.benchmarks.regret import as_policy
    from batterygym.benchmarks.regret_plots import plot_regret
    from batterygym.settings import setting_of_id

    paths = [str(plot_regret(summary, out / "regret.png"))]
    for env_id, specs in policies.items():
        adapter = command(setting_of_id(env_id).name).adapter()
        env = gym.make(env_id, **(env_kwargs or {}).get(env_id, {}))
        env.reset(seed=seed)
        scenario = env.unwrapped.scenario
        schedules = {name: play(env, as_policy(spec, env), seed, adapter, name)[1] for name, spec in specs.items()}
        schedules["optimal"] = solve_optimal(scenario).schedule
        path = out / f"dispatch_{env_id.split('/')[-1]}.png"
        adapter.plot(schedules, path, f"{env_id}, held-out episode seed {seed}")
        paths.append(str(path))
        env.close()
    return paths


def format_table(summary: pd.DataFrame) -> str:
    """The printed regret table: money rounded, shares in percent (the descriptions stay in ``report.json``)."""
    rows = summary.drop(columns=[c for c in ("description",) if c in summary.columns])
    rows["captured"] = (100 * rows["captured"]).map(lambda v: f"{v:6.1f} %" if np.isfinite(v) else "    n/a")
    rows["captured_std"] = (100 * rows["captured_std"]).map(lambda v: f"{v:5.1f}" if np.isfinite(v) else "n/a")
    for col in ("mean_return", "mean_regret", "regret_std"):
        rows[col] = rows[col].map(lambda v: f"{v:,.1f}")
    rows = rows.rename(columns={"mean_return": "return", "mean_regret": "regret", "regret_std": "regret sd",
                                "captured": "gain captured", "captured_std": "captured sd"})
    return rows.to_string(index=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a short run: 3-5 minutes per env on 2 CPU cores")
    parser.add_argument("--env", action="append", dest="env_ids", metavar="ID",
                        help="env id to include (repeatable; default: every batterygym id)")
    parser.add_argument("--algo", action="append", dest="algos", choices=["ppo", "sac", "tqc"],
                        help="plain agent to train/load (repeatable; default: ppo and sac)")
    parser.add_argument("--agent-algo", action="append", dest="agent_algos", choices=["ppo", "sac", "tqc"],
                        help="algorithm of the wrappers' agents, e.g. ppo-cap, sac-item (repeatable; default: ppo "
                             "and sac)")
    parser.add_argument("--no-agents", action="store_true", help="no agents built on the wrappers")
    parser.add_argument("--ppo-steps", type=int, help="PPO training steps")
    parser.add_argument("--sac-steps", type=int, help="SAC training steps")
    parser.add_argument("--episodes", type=int, help="held-out evaluation episodes per env")
    parser.add_argument("--mpc-episodes", type=int, help="episodes for the (slower) MPC rungs")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--runs", default="runs", help="where trained runs are kept and reused")
    parser.add_argument("--out", default="benchmark", help="where report.json, report.csv and plots go")
    parser.add_argument("--retrain", action="store_true", help="train even if a matching run exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_ray_argument(parser)


def config_from_args(args: argparse.Namespace) -> BenchmarkConfig:
    over: dict[str, Any] = {"seed": args.seed, "runs_dir": args.runs, "out_dir": args.out,
                            "retrain": args.retrain, "progress": not args.no_progress,
                            "ray": args.ray, "ray_cpus": args.ray_cpus}
    if args.env_ids:
        over["env_ids"] = args.env_ids
    if args.algos:
        over["algos"] = list(dict.fromkeys(args.algos))
    if args.no_agents:
        over["agent_algos"] = []
    elif args.agent_algos:
        over["agent_algos"] = list(dict.fromkeys(args.agent_algos))
    if args.episodes is not None:
        over["episodes"] = args.episodes
    if args.mpc_episodes is not None:
        over["mpc_episodes"] = args.mpc_episodes
    cfg = BenchmarkConfig.quick(**over) if args.quick else BenchmarkConfig(**over)
    if args.ppo_steps is not None:
        cfg.steps["ppo"] = args.ppo_steps
    if args.sac_steps is not None:
        cfg.steps["sac"] = args.sac_steps
    if cfg.episodes < 1:
        raise ValueError(f"--episodes must be at least 1, got {cfg.episodes}")
    return cfg


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    report = run_benchmark(cfg)
    print()
    print(format_table(report["summary_frame"]))
    if report["targets"]:
        print("\n" + format_targets(report["targets"]))
    print(f"\nheld-out seeds {cfg.episodes} from {EVAL_SEED_BASE}; training seeds from {train_seed_range(cfg.seed)[0]}"
          f"; wall {report['wall_seconds']:.0f} s")
    print(f"report: {Path(cfg.out_dir) / 'report.json'}, {Path(cfg.out_dir) / 'report.csv'}; "
          f"plots: {', '.join(report['plots'])}")
    return 0
