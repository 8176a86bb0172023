"""``batterygym dataset``: the Parquet dataset of optimal actions round-trips through the env, re-runs add only the
missing seeds, a foreign DIR is refused, the Ray path writes the serial path's rows, and bad input exits 2.

The Ray tests use the local 2-CPU Ray of ``tests/conftest.py`` (``local_ray``)."""
from __future__ import annotations

import json
import shutil
import sys

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.cli import main
from batterygym.scale import dataset as D
from batterygym.scale.tasks import TaskError, map_tasks

pytest.importorskip("pyarrow")

V2G = "batterygym/V2G-v0"
V2G_KW = {"n_evs": 2}  # the smallest V2G episode: 24 steps, 6 actions
IND_KW = {"n_days": 1}  # a one-day industrial episode


@pytest.fixture(scope="module")
def v2g_dir(tmp_path_factory):
    """Seeds 0 and 1 of the small V2G episode, written once for the module; tests copy it before changing it."""
    out = tmp_path_factory.mktemp("v2g") / "data"
    summary = D.write_dataset(V2G, range(2), out, env_kwargs=V2G_KW)
    return out, summary


def copy_of(v2g_dir, tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(v2g_dir[0], dst)
    return dst


def test_the_dataset_round_trips_through_the_env(v2g_dir):
    out, summary = v2g_dir
    assert summary["solved"] == [0, 1] and summary["skipped"] == []
    df = D.load_dataset(out)
    assert list(df.columns) == [*D.STEP_COLUMNS, *D.EPISODE_COLUMNS]
    assert summary["rows"] == len(df) == summary["dataset"]["rows"]
    env = gym.make(V2G, **V2G_KW)
    for seed, ep in df.groupby("seed"):
        obs, _ = env.reset(seed=int(seed))
        assert list(ep["step"]) == list(range(len(ep)))
        for row in ep.itertuples():
            np.testing.assert_array_equal(row.observation, obs)
            obs, reward, terminated, truncated, _ = env.step(row.action.reshape(env.action_space.shape))
            assert reward == row.reward
            np.testing.assert_array_equal(row.next_observation, obs)
            assert (terminated, truncated) == (row.terminated, row.truncated)
        assert terminated or truncated
        assert ep["status"].nunique() == 1 and ep["objective"].nunique() == 1
        assert ep["reward"].sum() == pytest.approx(ep["objective"].iloc[0], rel=1e-6)
    meta = json.loads((out / D.METADATA).read_text())
    assert meta["env_id"] == V2G and meta["env_kwargs"] == V2G_KW and meta["seeds"] == [0, 1]
    assert meta["observation"]["shape"] == list(env.observation_space.shape)
    assert meta["action"]["shape"] == list(env.action_space.shape)
    assert meta["batterygym_version"] == batterygym.__version__
    # the two readers the docs name read the seeds' files as one table, the description file skipped
    import pyarrow.dataset as ds

    assert len(pd.read_parquet(out)) == ds.dataset(out).count_rows() == len(df)


def test_load_arrays_gives_2d_arrays_of_the_env_shapes(tmp_path):
    out = tmp_path / "ind"
    summary = D.write_dataset("industrial", "0:2", out, env_kwargs=IND_KW)
    env = gym.make("batterygym/Industrial-v0", **IND_KW)
    arrays = D.load_arrays(out)
    rows = summary["rows"]
    assert arrays["observation"].shape == arrays["next_observation"].shape == (rows, *env.observation_space.shape)
    assert arrays["action"].shape == (rows, *env.action_space.shape)
    assert arrays["observation"].dtype == arrays["action"].dtype == np.float32
    df = D.load_dataset(out)
    np.testing.assert_array_equal(arrays["observation"], np.stack(df["observation"]))
    np.testing.assert_array_equal(arrays["reward"], df["reward"].to_numpy())
    assert set(arrays["status"]) <= {"optimal", "time_limit"}


def test_a_rerun_solves_only_the_missing_seeds(v2g_dir, tmp_path):
    out = copy_of(v2g_dir, tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("seed=*.parquet")}
    summary = D.write_dataset("v2g", range(3), out, env_kwargs=V2G_KW)
    assert summary["solved"] == [2] and summary["skipped"] == [0, 1]
    assert summary["dataset"]["seeds"] == 3
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("seed=*.parquet") if p.name in before} == before
    assert json.loads((out / D.METADATA).read_text())["seeds"] == [0, 1, 2]
    again = D.write_dataset(V2G, range(3), out, env_kwargs=V2G_KW)
    assert again["solved"] == [] and again["rows"] == 0 and again["dataset"] == summary["dataset"]


def test_a_dir_of_another_env_or_kwargs_is_refused(v2g_dir):
    out = v2g_dir[0]
    with pytest.raises(ValueError, match=r"--env: .* 'batterygym/V2G-v0', not 'batterygym/Industrial-v0'"):
        D.write_dataset("industrial", range(1), out, env_kwargs=IND_KW)
    with pytest.raises(ValueError, match=r'--env-kwargs: .* \{"n_evs": 2\}, not \{"n_evs": 3\}'):
        D.write_dataset(V2G, range(3), out, env_kwargs={"n_evs": 3})
    assert D.present_seeds(out) == [0, 1]


def test_a_half_written_file_is_neither_a_seed_nor_read(v2g_dir, tmp_path):
    out = copy_of(v2g_dir, tmp_path)
    (out / ".seed=7.parquet.123.tmp").write_bytes(b"PAR1 cut short")
    assert D.present_seeds(out) == [0, 1]
    assert len(pd.read_parquet(out)) == len(D.load_dataset(v2g_dir[0]))


def test_a_folder_that_is_not_a_dataset_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"--out .* holds no dataset"):
        D.write_dataset(V2G, range(1), tmp_path, env_kwargs=V2G_KW)
    with pytest.raises(FileNotFoundError, match="holds no batterygym dataset"):
        D.load_dataset(tmp_path)


def test_without_pyarrow_the_error_names_the_scale_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"scale extra: pip install \"batterygym\[scale\]\""):
        D.write_dataset(V2G, range(1), tmp_path / "d", env_kwargs=V2G_KW)


def test_the_ray_path_writes_the_serial_rows(v2g_dir, local_ray, tmp_path):
    out = tmp_path / "ray"
    summary = D.write_dataset(V2G, range(2), out, env_kwargs=V2G_KW, ray=local_ray)
    assert summary["solved"] == [0, 1]
    pd.testing.assert_frame_equal(D.load_dataset(out), D.load_dataset(v2g_dir[0]))


def test_a_failing_seed_is_reported_by_its_seed_on_ray(local_ray):
    tasks = [D.EpisodeTask(V2G, -1, json.dumps(V2G_KW)), D.EpisodeTask(V2G, 0, json.dumps(V2G_KW))]
    with pytest.raises(TaskError, match="seed -1") as err:
        map_tasks(D.solve_episode, tasks, keys=[f"seed {t.seed}" for t in tasks], ray=local_ray)
    assert [key for key, _ in err.value.failures] == ["seed -1"]
    # what write_dataset does with such a chunk: the seeds that can be solved are still returned, to be written
    done, tables, failures = D._solve_chunk(tasks, local_ray, None, "dataset")
    assert [t.seed for t in done] == [0] and tables[0].num_rows == 24
    assert [key for key, _ in failures] == ["seed -1"]


def test_seeds_that_fail_on_ray_are_named_together_and_leave_no_file(local_ray, tmp_path):
    with pytest.raises(TaskError) as err:  # no MILP finds a schedule in a nanosecond
        D.write_dataset(V2G, range(2), tmp_path / "d", env_kwargs=V2G_KW, ray=local_ray, time_limit=1e-9)
    assert [key for key, _ in err.value.failures] == ["seed 0", "seed 1"]
    assert D.present_seeds(tmp_path / "d") == []


def test_a_seed_that_fails_serially_is_named_in_its_error(tmp_path):
    from batterygym.baselines import SolverError

    with pytest.raises(SolverError, match="^seed 3: "):
        D.write_dataset(V2G, range(3, 5), tmp_path / "d", env_kwargs=V2G_KW, time_limit=1e-9)
    assert D.present_seeds(tmp_path / "d") == []


def test_the_command_writes_the_dataset_and_its_summary(tmp_path, capsys):
    out, report = tmp_path / "d", tmp_path / "summary.json"
    args = ["dataset", "--env", "batterygym/Industrial-v0", "--env-kwargs", json.dumps(IND_KW), "--seeds", "3:5",
            "--out", str(out), "--time-limit", "30", "--json", str(report)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    summary = json.loads(report.read_text())
    assert summary["solved"] == [3, 4] and D.present_seeds(out) == [3, 4]
    assert summary["rows"] == len(D.load_dataset(out)) and f"{summary['rows']}" in printed
    assert "this run" in printed and "optimal" in printed


@pytest.mark.parametrize("seeds", ["5:2", "x", "3", "-1:2", "2:2"])
def test_bad_seeds_exit_2_with_one_line(seeds, tmp_path, capsys):
    assert main(["dataset", "--env", "v2g", f"--seeds={seeds}", "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--seeds" in err and repr(seeds) in err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(("option", "value"), [("--env", "v2g-v0"), ("--env-kwargs", "[1]"),
                                               ("--env-kwargs", '{"n_evz": 2}'), ("--time-limit", "0")])
def test_bad_options_exit_2_naming_the_option(option, value, tmp_path, capsys):
    args = {"--env": "v2g", "--seeds": "0:1", "--out": str(tmp_path / "d"), option: value}
    assert main(["dataset", *[x for kv in args.items() for x in kv]]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err
    assert not (tmp_path / "d").exists()


def test_help_says_the_range_is_half_open(capsys):
    with pytest.raises(SystemExit):
        main(["dataset", "--help"])
    assert "half-open" in capsys.readouterr().out
