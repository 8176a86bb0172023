"""``solve``: the time limit scales with the episode, and a time-limited plan is not called optimal."""
from __future__ import annotations

import json
from pathlib import Path

import batterygym.baselines as baselines
from batterygym.cli import main


def test_default_time_limit_scales_with_the_days(tmp_path: Path, monkeypatch) -> None:
    seen = {}
    real = baselines.solve_optimal

    def spy(scenario, **kw):
        seen.update(kw)
        return real(scenario, **kw)

    monkeypatch.setattr(baselines, "solve_optimal", spy)
    assert main(["solve", "industrial", "--days", "3", "--json", str(tmp_path / "a.json")]) == 0
    assert seen["time_limit"] == 180.0
    assert json.loads((tmp_path / "a.json").read_text())["solver"]["time_limit_s"] == 180.0
    assert main(["solve", "industrial", "--days", "3", "--time-limit", "7"]) == 0
    assert seen["time_limit"] == 7.0


def test_a_time_limited_plan_is_labelled_with_its_status_and_gap(monkeypatch, capsys) -> None:
    real = baselines.solve_optimal

    def stopped(scenario, **kw):
        plan = real(scenario, **kw)
        plan.status, plan.mip_gap = "time_limit", 3e-3
        return plan

    monkeypatch.setattr(baselines, "solve_optimal", stopped)
    assert main(["solve", "industrial", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "best found (time_limit, gap 3.0e-03)" in out
    assert "\noptimal " not in out


def test_a_time_limited_plan_says_so_beside_the_number_and_in_the_json(tmp_path: Path, monkeypatch, capsys) -> None:
    real = baselines.solve_optimal

    def stopped(scenario, **kw):
        plan = real(scenario, **kw)
        plan.status, plan.mip_gap = "time_limit", 3.1e-3
        return plan

    out_json = tmp_path / "stopped.json"
    monkeypatch.setattr(baselines, "solve_optimal", stopped)
    assert main(["solve", "industrial", "--days", "1", "--time-limit", "0.5", "--json", str(out_json)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("MILP:"))
    assert "EUR (time limit: gap 0.31 %, not proven optimal)" in line
    solver = json.loads(out_json.read_text())["solver"]
    assert solver["proven_optimal"] is False and solver["mip_gap"] == 3.1e-3 and solver["status"] == "time_limit"
    monkeypatch.setattr(baselines, "solve_optimal", real)
    assert main(["solve", "industrial", "--days", "1", "--json", str(out_json)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("MILP:"))
    assert "not proven optimal" not in line
    assert json.loads(out_json.read_text())["solver"]["proven_optimal"] is True
