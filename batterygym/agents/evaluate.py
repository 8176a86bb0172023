"""``batterygym evaluate RUN``: score a trained run on held-out episodes against the optimum."""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from batterygym.agents.policy import read_run
from batterygym.agents.seeds import eval_seeds


def evaluate(run_dir: str | Path, episodes: int = 20, progress: bool = True) -> pd.DataFrame:
    """Per-episode return, optimum, idle, regret and captured share of a run on held-out seeds."""
    from batterygym.benchmarks.regret import evaluate_policies

    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    from batterygym.agents.recipes import rung_name

    record = read_run(run_dir)
    name = rung_name(record["algo"], record.get("agent", "plain"))
    return evaluate_policies({name: str(run_dir)}, record["env_id"], eval_seeds(episodes),
                             record.get("env_kwargs") or {}, progress=progress)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a directory written by `batterygym train`")
    parser.add_argument("--episodes", type=int, default=20, help="held-out episodes")
    parser.add_argument("--csv", help="also write the per-episode table here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from batterygym.benchmarks.benchmark import format_table
    from batterygym.benchmarks.regret import summarize

    df = evaluate(args.run_dir, args.episodes, progress=not args.no_progress)
    print(format_table(summarize(df)))
    if args.csv:
        df.to_csv(args.csv, index=False)
        print(f"per-episode table: {args.csv}")
    return 0
