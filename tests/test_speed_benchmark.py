"""`batterygym benchmark speed --quick` runs and reports what it documents (no timing assertions)."""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import gymnasium as gym
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.benchmarks import speed
from batterygym.cli import main

ENV_KEYS = {"env_id", "action", "make_steps_per_s", "unwrapped_steps_per_s", "reset_ms", "ratio_make",
            "ratio_unwrapped"}
REF_KEYS = {"name", "action", "make_steps_per_s", "unwrapped_steps_per_s"}
MILP_KEYS = {"label", "n_steps", "build_s", "solve_s", "total_s", "call_s", "binaries", "rounds", "runs"}
TARGET_KEYS = {"name", "op", "target", "measured", "unit", "pass"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict]:
    out = tmp_path_factory.mktemp("speed") / "speed.json"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["benchmark", "speed", "--quick", "--steps", "500", "--no-progress", "--json", str(out)])
    return code, buf.getvalue(), json.loads(out.read_text())


def test_quick_run_prints_a_row_per_registered_env(quick_run):
    code, text, _ = quick_run
    assert code == 0
    ids = sorted(i for i in gym.registry if i.startswith("batterygym/"))
    assert ids
    rows = text.splitlines()
    for env_id in ids:
        assert sum(line.startswith(env_id) for line in rows) == len(speed.ACTIONS), env_id
    assert "reference: bare battery" in text and "reference: CartPole-v1" in text
    assert "default week" in text and "one day" in text
    assert "full year" not in text and "quarter" not in text  # --quick skips the long MILPs
    assert ("PASS" in text) or ("MISS" in text)


def test_quick_json_has_the_documented_keys(quick_run):
    _, _, data = quick_run
    assert set(data) == {"meta", "envs", "reference", "milp", "studies", "targets"}
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
    expected = len([i for i in speed.ENV_TARGETS if i in ids]) + sum(
        1 for key, case in speed.MILP_CASES.items() if not case.long)
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


def test_study_rows_on_a_short_site(monkeypatch):
    """The techno-economic rows run end to end (on two weeks instead of a year) and the sized plan replays."""
    from gymnasium.utils.seeding import np_random

    from batterygym.benchmarks import speed, speed_studies
    from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial

    monkeypatch.setattr(speed_studies, "year_scenario",
                        lambda seed=0: generate_industrial(np_random(seed)[0], IndustrialSiteConfig(n_days=14)))
    m = speed_studies.measure_studies(progress=False)
    assert m["n_steps"] == 14 * 24 and m["capacity_kwh"] > 0
    assert m["replay_rel_error"] < speed_studies.TARGET_REPLAY_REL
    targets = speed_studies.study_targets(m, speed._target)
    assert len(targets) == 5 and all(t["measured"] >= 0 for t in targets)
    text = speed.format_report({"meta": {"python": "3", "numpy": "2", "gymnasium": "1", "highspy": "1",
                                         "repeats": 1, "steps": 1}, "envs": [], "reference": [],
                                "milp": {}, "studies": m, "targets": targets})
    assert "Techno-economics of a year" in text and "replay error" in text
