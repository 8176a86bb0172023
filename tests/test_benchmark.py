"""`batterygym benchmark` end to end on a tiny configuration."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from batterygym.agents.seeds import EVAL_SEED_BASE
from batterygym.benchmarks.benchmark import BenchmarkConfig, format_table, run_benchmark
from batterygym.cli import main

ENV = "batterygym/Industrial-v0"
DAY = {"n_days": 1, "max_episode_steps": 24}  # one-day episodes keep the MPC rungs fast
TINY_PPO = {"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    cfg = BenchmarkConfig(env_ids=[ENV], algos=["ppo"], steps={"ppo": 128}, episodes=2, mpc_episodes=1,
                          runs_dir=str(root / "runs"), out_dir=str(root / "out"), progress=False,
                          env_kwargs={ENV: DAY}, hyperparams={"ppo": TINY_PPO}, agent_algos=["ppo"],
                          agent_steps={"ppo-cap": 16})
    return cfg, run_benchmark(cfg)


def test_report_files_hold_what_the_table_prints(tiny):
    cfg, report = tiny
    out = cfg.out_dir
    saved = json.loads(open(f"{out}/report.json").read())
    episodes = pd.read_csv(f"{out}/report.csv")
    summary = pd.DataFrame(saved["summary"])
    assert format_table(summary) == format_table(report["summary_frame"])
    ladder = ["idle", "rule", "cap", "mpc_noisy", "mpc_perfect", "ppo", "ppo-cap", "optimal"]
    assert list(summary["policy"]) == ladder
    kinds = dict(zip(summary["policy"], summary["kind"], strict=True))
    assert kinds == {"idle": "heuristic", "rule": "heuristic", "cap": "heuristic", "mpc_noisy": "heuristic",
                     "mpc_perfect": "heuristic", "ppo": "learned", "ppo-cap": "learned", "optimal": "optimal"}
    described = dict(zip(summary["policy"], summary["description"], strict=True))
    assert "correction of the 'cap' heuristic" in described["ppo-cap"] and described["cap"].startswith("The water")
    assert all(described.values())
    for _, row in summary.iterrows():
        rows = episodes[episodes["policy"] == row["policy"]]
        assert len(rows) == row["episodes"]
        assert rows["regret"].mean() == pytest.approx(row["mean_regret"])
    for path in report["plots"]:
        assert open(path, "rb").read(4) == b"\x89PNG"


def test_every_rung_has_non_negative_regret_on_held_out_seeds(tiny):
    cfg, report = tiny
    episodes = pd.read_csv(f"{cfg.out_dir}/report.csv")
    assert (episodes["regret"] >= 0).all()
    assert (episodes["seed"] >= EVAL_SEED_BASE).all()
    saved = json.loads(open(f"{cfg.out_dir}/report.json").read())
    assert saved["split"]["disjoint"] is True
    assert saved["solver"]["statuses"] == {"optimal": len(episodes)}
    run = saved["runs"][f"{ENV}:ppo"]
    assert run["total_timesteps"] >= 128 and run["wall_seconds"] > 0
    assert saved["versions"]["gymnasium"]


def test_a_matching_run_is_loaded_not_retrained(tiny, capsys):
    cfg, _ = tiny
    again = BenchmarkConfig(**{**cfg.__dict__, "out_dir": cfg.out_dir + "_again", "episodes": 1, "mpc_episodes": 0})
    run_benchmark(again)
    printed = capsys.readouterr().out
    assert "loading ppo on" in printed and "training ppo on" not in printed and "loading ppo-cap" in printed
    changed = BenchmarkConfig(**{**again.__dict__, "hyperparams": {"ppo": {**TINY_PPO, "n_epochs": 2}}})
    run_benchmark(changed)
    assert "training ppo on" in capsys.readouterr().out  # other hyper-parameters: a different run


def test_bad_benchmark_requests_fail_clearly():
    assert main(["benchmark", "--env", "batterygym/Nope-v0", "--episodes", "1"]) == 2
    assert main(["benchmark", "--episodes", "0"]) == 2


def test_the_learned_rungs_targets_are_checked_on_the_summary(tiny):
    from batterygym.benchmarks.agent_targets import format_targets
    from batterygym.settings import setting_of_id

    cfg, report = tiny
    summary = report["summary_frame"]
    learned = summary[summary["kind"] == "learned"]["captured"].max()
    heuristic = summary[(summary["kind"] == "heuristic") & (summary["policy"] != "idle")]["captured"].max()
    targets = {t["name"]: t for t in report["targets"]}
    share = targets[f"{ENV}: best learned rung's gain captured"]
    assert share["measured"] == pytest.approx(learned) and share["target"] == setting_of_id(ENV).learned_target
    assert share["pass"] == (learned >= share["target"])
    lead = targets[f"{ENV}: best learned over best heuristic"]
    assert lead["measured"] == pytest.approx(learned - heuristic) and lead["pass"] == (learned > heuristic)
    assert not any("SAC-family" in name for name in targets)  # no SAC rung in this run
    lines = format_targets(report["targets"]).splitlines()
    assert len(lines) == len(targets) and all(line[:4] in ("PASS", "MISS") for line in lines)
    saved = json.loads(open(f"{cfg.out_dir}/report.json").read())
    assert saved["targets"] == json.loads(json.dumps(report["targets"]))
