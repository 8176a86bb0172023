"""`batterygym benchmark speed --quick` runs and reports what it documents (no timing assertions)."""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.benchmarks import speed
from batterygym.cli import main

ENV_KEYS = {"env_id", "action", "make_steps_per_s", "unwrapped_steps_per_s", "reset_ms", "ratio_make",
            "ratio_unwrapped"}
REF_KEYS = {"name", "action", "make_steps_per_s", "unwrapped_steps_per_s"}
VECTOR_KEYS = {"env_id", "status", "action", "batteries_per_env", "env_steps_per_s", "battery_steps_per_s", "ratio",
               "reset_us"}
VECTOR_REF_KEYS = {"name", "action", "env_steps_per_s", "battery_steps_per_s", "reset_us"}
SYNC_KEYS = {"env_id", "action", "num_envs", "vector_env_steps_per_s", "sync_env_steps_per_s", "speedup"}
QUICK_NUM_ENVS = 64  # the vector rows' machinery at a test's size (the targets are measured at 1024)
MILP_KEYS = {"label", "n_steps", "build_s", "solve_s", "solver_s", "total_s", "call_s", "ratio", "binaries", "rounds",
             "runs"}
TARGET_KEYS = {"name", "op", "target", "measured", "unit", "pass"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict]:
    out = tmp_path_factory.mktemp("speed") / "speed.json"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["benchmark", "speed", "--quick", "--steps", "500", "--no-progress", "--json", str(out),
                     "--num-envs", str(QUICK_NUM_ENVS), "--vector-seconds", "0.05"])
    return code, buf.getvalue(), json.loads(out.read_text())


def test_quick_run_prints_a_row_per_registered_env(quick_run):
    code, text, _ = quick_run
    assert code == 0
    ids = sorted(i for i in gym.registry if i.startswith("batterygym/"))
    assert ids
    scalar, vector = text.split("Vector envs", 1)
    for env_id in ids:
        assert sum(line.startswith(env_id) for line in scalar.splitlines()) == len(speed.ACTIONS), env_id
        assert sum(line.startswith(env_id) for line in vector.split("Native vector env")[0].splitlines()) in (
            1, len(speed.ACTIONS)), env_id  # skipped, or one row per action
    assert "reference: bare battery" in text and "reference: CartPole-v1" in text
    assert "default week" in text and "one day" in text
    assert "full year" not in text and "quarter" not in text  # --quick skips the long MILPs
    assert ("PASS" in text) or ("MISS" in text)


def test_quick_json_has_the_documented_keys(quick_run):
    _, _, data = quick_run
    assert set(data) == {"meta", "envs", "reference", "vector", "milp", "studies", "targets"}
    assert data["studies"] is None  # --quick skips the year-long studies
    assert {"python", "platform", "numpy", "gymnasium", "highspy", "steps", "repeats", "quick"} <= set(data["meta"])
    assert data["meta"]["quick"] is True and data["meta"]["steps"] == 500
    ids = sorted(i for i in gym.registry if i.startswith("batterygym/"))
    assert sorted({e["env_id"] for e in data["envs"]}) == ids
    for row in data["envs"]:
        assert set(row) == ENV_KEYS
        assert row["make_steps_per_s"] > 0 and row["unwrapped_steps_per_s"] > 0
    assert {r["name"] for r in data["reference"]} == set(speed.REFERENCES)
    for row in data["reference"]:
        assert set(row) == REF_KEYS
    assert set(data["milp"]) == set(speed.MILP_CASES)
    assert data["milp"]["year"] is None and data["milp"]["v2g_quarter"] is None
    assert data["milp"]["microgrid_week"] is None and data["milp"]["microgrid_day"]["n_steps"] == 24
    week = data["milp"]["week"]
    assert set(week) == MILP_KEYS and week["n_steps"] == 168 and len(week["runs"]) == 3
    assert all(r["status"] == "optimal" for r in week["runs"])
    assert week["total_s"] > 0 and week["rounds"] >= 1
    day = data["milp"]["v2g_day"]
    assert set(day) == MILP_KEYS and day["n_steps"] == 24 and len(day["runs"]) == 1  # --quick: one seed
    names = [t["name"] for t in data["targets"]]
    measured = {e["env_id"] for e in data["vector"]["envs"] if e["status"] == "ok"}
    expected = len([i for i in speed.ENV_TARGETS if i in ids]) + sum(
        1 + (case.ratio_target is not None) for case in speed.MILP_CASES.values() if not case.long) + 2 * len(measured)
    assert len(names) == expected and all(set(t) == TARGET_KEYS for t in data["targets"])
    assert all(isinstance(t["pass"], bool) for t in data["targets"])


def test_env_filter_and_unknown_filter():
    assert speed.registered_ids(["industrial"]) == ["batterygym/Industrial-v0"]
    assert main(["benchmark", "speed", "--quick", "--no-progress", "--no-milp", "--env", "no-such-env"]) == 2


def test_python_api_measures_one_env_and_a_reference():
    row = speed.measure_env_speed("batterygym/Industrial-v0", steps=300, action=0.3, repeats=1)
    assert row["make_steps_per_s"] > 0 and row["unwrapped_steps_per_s"] > 0 and row["reset_ms"] > 0
    ref = speed.measure_reference("bare battery", steps=300, repeats=1)
    assert ref["make_steps_per_s"] > 0


def test_speed_module_imports_neither_pyomo_nor_torch():
    """The CLI imports it to build its parser."""
    code = ("import sys; import batterygym.benchmarks.speed; "
            "print(','.join(m for m in ('pyomo', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_study_rows_on_a_short_site():
    """The techno-economic rows run end to end (on two weeks instead of a year) and the sized plan replays;
    the sizing runs in a spawned process, which reports its own peak memory."""
    from batterygym.benchmarks import speed, speed_studies

    m = speed_studies.measure_studies(progress=False, n_days=14)
    assert m["n_steps"] == 14 * 24 and m["capacity_kwh"] > 0
    assert m["replay_rel_error"] < speed_studies.TARGET_REPLAY_REL
    assert 50 < m["peak_rss_mb"] < 2048  # an interpreter with numpy and pyomo, sizing two weeks
    targets = speed_studies.study_targets(m, speed._target)
    assert len(targets) == 5 and all(t["measured"] >= 0 for t in targets)
    text = speed.format_report({"meta": {"python": "3", "numpy": "2", "gymnasium": "1", "highspy": "1",
                                         "repeats": 1, "steps": 1}, "envs": [], "reference": [],
                                "milp": {}, "studies": m, "targets": targets})
    assert "Techno-economics of a year" in text and "replay error" in text


def test_quick_run_has_a_vector_row_per_setting(quick_run):
    """Each setting's vector env is measured or, while its module does not import, skipped with the reason."""
    _, text, data = quick_run
    vector = data["vector"]
    assert vector["num_envs"] == QUICK_NUM_ENVS
    ids = sorted(i for i in gym.registry if i.startswith("batterygym/"))
    assert sorted({e["env_id"] for e in vector["envs"]}) == ids
    assert "reference: bare battery" in text and "Vector envs" in text
    for row in vector["envs"]:
        if row["status"] == "skipped":
            assert set(row) == {"env_id", "status", "reason"} and "does not import" in row["reason"]
            assert f"{row['env_id']:<34}  skipped: " in text
        else:
            assert set(row) == VECTOR_KEYS and row["batteries_per_env"] >= 1
    assert len(vector["reference"]) == len(speed.ACTIONS)
    assert all(set(r) == VECTOR_REF_KEYS for r in vector["reference"])
    assert all(set(r) == SYNC_KEYS for r in vector["sync"])


def test_no_vector_skips_the_vector_rows(tmp_path):
    out = tmp_path / "s.json"
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        assert main(["benchmark", "speed", "--quick", "--steps", "200", "--repeats", "1", "--no-progress",
                     "--no-milp", "--no-vector", "--env", "Fleet", "--json", str(out)]) == 0
    assert "Vector envs" not in buf.getvalue()
    assert json.loads(out.read_text())["vector"] is None
    assert main(["benchmark", "speed", "--quick", "--no-progress", "--no-milp", "--num-envs", "0"]) == 2


# ---------------------------------------------------------------------------------------- vector rows
def test_bare_battery_vector_env_steps_every_battery_and_autoresets():
    from batterygym.benchmarks.speed_vector import BareBatteryVectorEnv

    env = BareBatteryVectorEnv(num_envs=5, n_steps=4)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (5, 2) and env.observation_space.contains(obs)
    rng = np.random.default_rng(0)
    for _ in range(3):  # two episodes: 4 steps, then the reset step
        for t in range(4):
            a = rng.uniform(-1, 1, size=(5, 1)).astype(np.float32)
            e = obs[:, 0].astype(np.float64) * 500.0
            obs, reward, terminated, truncated, _ = env.step(a)
            p = (obs[:, 0].astype(np.float64) * 500.0 - e)
            assert np.all(obs[:, 0] * 500.0 >= 50.0 - 1e-3) and np.all(obs[:, 0] * 500.0 <= 450.0 + 1e-3)
            assert np.all(np.sign(reward) == -np.sign(p))  # paying for charge, paid for discharge
            assert terminated.all() == (t == 3) and not truncated.any()
        obs, reward, terminated, _, _ = env.step(np.zeros((5, 1), dtype=np.float32))
        assert np.all(reward == 0.0) and not terminated.any() and np.allclose(obs[:, 0], 0.5)


def test_vector_rows_measure_an_importing_vector_env_and_skip_a_missing_one():
    """The rows' machinery on a vector env that imports (the bare battery's, registered for the test) and on one
    whose module does not exist."""
    from gymnasium.envs.registration import register

    from batterygym.benchmarks import speed_vector

    ref = "batterygym.benchmarks.speed_vector:BareBatteryVectorEnv"
    if "BareBatteryVectorTest-v0" not in gym.registry:
        register(id="BareBatteryVectorTest-v0", entry_point=speed.BareBatteryEnv, vector_entry_point=ref)
    v = speed_vector.measure_vector([("BareBatteryVectorTest-v0", ref), ("batterygym/Fleet-v0", "batterygym.nope:X")],
                                    speed.ACTIONS, num_envs=32, seconds=0.02, repeats=1, sync_envs=4)
    ok = [e for e in v["envs"] if e["status"] == "ok"]
    assert [e["env_id"] for e in ok] == ["BareBatteryVectorTest-v0"] * len(speed.ACTIONS)
    for row, ref_row in zip(ok, v["reference"], strict=True):
        assert set(row) == VECTOR_KEYS and row["batteries_per_env"] == 1
        assert row["battery_steps_per_s"] == row["env_steps_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["battery_steps_per_s"] / ref_row["battery_steps_per_s"])
        assert row["reset_us"] >= 0
    skipped = [e for e in v["envs"] if e["status"] == "skipped"]
    assert [e["env_id"] for e in skipped] == ["batterygym/Fleet-v0"] and "batterygym.nope" in skipped[0]["reason"]
    assert [r["num_envs"] for r in v["sync"]] == [4] * len(speed.ACTIONS)
    for r in v["sync"]:
        assert r["speedup"] == pytest.approx(r["vector_env_steps_per_s"] / r["sync_env_steps_per_s"])
    targets = speed_vector.vector_targets(v, {"BareBatteryVectorTest-v0": 0.5, "batterygym/Fleet-v0": 0.2},
                                          speed._target)
    assert [t["unit"] for t in targets] == ["ratio", "us"]  # none for the skipped env
    assert targets[0]["measured"] == min(e["ratio"] for e in ok)
    assert targets[0]["pass"] == (targets[0]["measured"] >= 0.5)
    text = "\n".join(speed_vector.format_vector(v))
    assert "BareBatteryVectorTest-v0" in text and "skipped: batterygym.nope:X does not import" in text
    assert 'vectorization_mode="sync"' in text


def test_batteries_per_env_is_read_from_the_env_or_refused():
    from batterygym.benchmarks.speed_vector import BareBatteryVectorEnv, batteries_per_env

    assert batteries_per_env(BareBatteryVectorEnv(num_envs=2)) == 1
    with pytest.raises(ValueError, match="batteries_per_env"):
        batteries_per_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
