"""The Ray path of the commands on a local 2-CPU cluster: the same numbers as the serial path, and a
failing piece reported by its key."""
from __future__ import annotations

import json
import sys
from dataclasses import replace

import pandas as pd
import pytest

from batterygym.agents.policy import PackedRun
from batterygym.benchmarks.benchmark import BenchmarkConfig, run_benchmark, train_piece
from batterygym.benchmarks.regret import evaluate_policies
from batterygym.cli import main
from batterygym.scale.tasks import TaskError, map_tasks, require_ray

ENV = "batterygym/Industrial-v0"
DAY = {"n_days": 1, "max_episode_steps": 24}
TINY_PPO = {"n_envs": 2, "n_steps": 64, "batch_size": 64, "n_epochs": 1}


def _square_but_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"no square for {x}")
    return x * x


def test_map_tasks_keeps_order_and_names_what_failed(local_ray):
    assert map_tasks(_square_but_three, [4, 1, 2], ray=local_ray) == [16, 1, 4] == map_tasks(_square_but_three,
                                                                                             [4, 1, 2])
    with pytest.raises(TaskError) as err:
        map_tasks(_square_but_three, [1, 3, 2], keys=["seed 1", "seed 3", "seed 2"], ray=local_ray, desc="squares")
    assert err.value.failures == [("seed 3", "ValueError: no square for 3")]
    assert "squares: 1 task(s) failed" in str(err.value) and "seed 3" in str(err.value)
    with pytest.raises(ValueError, match="no square for 3"):  # serially it propagates as raised
        map_tasks(_square_but_three, [1, 3])


def test_the_cli_exits_3_naming_the_failed_pieces(monkeypatch, capsys):
    import batterygym.benchmarks.economics as economics

    def failing(*_args, **_kwargs):
        raise TaskError("caps", [("cap 0.5", "SolverError: HiGHS stopped")])

    monkeypatch.setattr(economics, "lifetime", failing)
    assert main(["lifetime", "industrial", "--days", "3", "--caps", "0.5"]) == 3
    assert "caps: 1 task(s) failed after 1 retry: cap 0.5: SolverError: HiGHS stopped" in capsys.readouterr().err


def test_evaluation_on_ray_equals_the_serial_rows(local_ray):
    from batterygym.baselines.industrial_heuristics import WaterFillingCap

    policies = {"cap": WaterFillingCap}
    seeds = [1_000_000_000, 1_000_000_001, 1_000_000_002]
    serial = evaluate_policies(policies, ENV, seeds, DAY)
    remote = evaluate_policies(policies, ENV, seeds, DAY, ray=local_ray)
    pd.testing.assert_frame_equal(serial, remote)
    with pytest.raises(TaskError, match=f"{ENV} seed -1"):  # a seed the env refuses
        evaluate_policies(policies, ENV, [1_000_000_000, -1], DAY, ray=local_ray)


def test_benchmark_on_ray_reports_the_serial_numbers(local_ray, tmp_path):
    cfg = BenchmarkConfig(env_ids=[ENV], algos=["ppo"], steps={"ppo": 128}, episodes=2, mpc_episodes=1,
                          runs_dir=str(tmp_path / "runs"), out_dir=str(tmp_path / "serial"), progress=False,
                          env_kwargs={ENV: DAY}, hyperparams={"ppo": TINY_PPO}, agent_algos=[])
    serial = run_benchmark(cfg)["summary_frame"]
    # the same trained run, loaded: the Ray tasks play it from its packed files
    remote = run_benchmark(replace(cfg, out_dir=str(tmp_path / "ray"), ray=local_ray))["summary_frame"]
    pd.testing.assert_frame_equal(serial, remote)
    saved = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert saved["config"]["ray"] == local_ray and saved["summary"] == json.loads(
        (tmp_path / "serial" / "report.json").read_text())["summary"]


def test_a_run_trained_as_a_ray_task_comes_back_whole(local_ray, tmp_path):
    piece = (ENV, "ppo", 128, 0, str(tmp_path / "ppo"), DAY, TINY_PPO, "plain", False, True)
    (packed,) = map_tasks(train_piece, [piece], ray=local_ray)
    assert isinstance(packed, PackedRun) and {"run.json", "model.zip"} <= set(packed.files)
    run_dir = packed.unpack(tmp_path / "ppo")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    here = tmp_path / "here"
    assert train_piece((*piece[:4], str(here), *piece[5:9], False)) is None
    from stable_baselines3 import PPO

    there, local = (PPO.load(d / "model.zip", device="cpu").policy.state_dict() for d in (run_dir, here))
    assert all(bool((there[k] == local[k]).all()) for k in local)  # the same weights, trained here or there
    rows = evaluate_policies({"ppo": str(run_dir)}, ENV, [1_000_000_000], DAY, ray=local_ray)
    assert (rows["regret"] >= 0).all() and len(rows) == 1


@pytest.mark.parametrize("argv", [
    ["lifetime", "industrial", "--days", "3", "--caps", "none,1,0.5"],
    ["sweep", "industrial", "--days", "3", "--param", "tariff_spread", "--values", "0.05,0.3"],
])
def test_techno_economic_commands_on_ray_print_the_serial_json(local_ray, tmp_path, argv):
    serial, remote = tmp_path / "serial.json", tmp_path / "ray.json"
    assert main([*argv, "--json", str(serial)]) == 0
    assert main([*argv, "--json", str(remote), "--ray"]) == 0
    assert json.loads(serial.read_text()) == json.loads(remote.read_text())


def test_ray_cpus_is_checked_and_ray_missing_says_what_to_install(monkeypatch, capsys):
    assert main(["lifetime", "industrial", "--days", "3", "--caps", "none", "--ray", "--ray-cpus", "0"]) == 2
    assert "--ray-cpus must be at least 1" in capsys.readouterr().err
    assert main(["lifetime", "industrial", "--days", "3", "--caps", "none", "--ray-cpus", "2"]) == 2
    assert "--ray-cpus 2: it sizes the Ray that --ray starts" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"batterygym\[scale\]"):
        require_ray()
