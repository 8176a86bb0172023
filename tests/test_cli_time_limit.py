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
