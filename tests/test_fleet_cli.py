"""``batterygym solve fleet``: the table, JSON and plot of idle, rule and optimum, generated and from a CSV."""
from __future__ import annotations

import json

import gymnasium as gym
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal
from batterygym.cli import main
from batterygym.core.fleet_io import write_example_fleet_csv

POLICIES = ("idle", "rule", "optimal")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_report(report: dict) -> None:
    policies = report["policies"]
    assert list(policies) == list(POLICIES)
    for name, row in policies.items():
        parts = row["revenue_eur"] - row["degradation_eur"] + row["terminal_credit_eur"]
        assert row["profit_eur"] == pytest.approx(parts, rel=1e-9, abs=1e-9), name
        assert row["profit_eur"] == pytest.approx(row["return_eur"], rel=1e-6, abs=1e-9), name
    best = policies["optimal"]["profit_eur"]
    assert all(row["profit_eur"] <= best + 1e-6 for row in policies.values())
    assert policies["optimal"]["return_eur"] == pytest.approx(report["solver"]["objective_eur"], rel=1e-5)
    assert policies["idle"]["profit_eur"] == 0.0 and report["solver"]["status"] == "optimal"


def test_solve_generated_fleet(tmp_path, capsys):
    plot, out_json = tmp_path / "fleet.png", tmp_path / "fleet.json"
    code = main(["solve", "fleet", "--seed", "3", "--assets", "3", "--markets", "3", "--plot", str(plot),
                 "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0 and "fleet episode (seed 3)" in out and "MILP: optimal" in out
    assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 20_000
    report = json.loads(out_json.read_text())
    check_report(report)
    assert len(report["scenario"]["assets"]) == 3 and len(report["scenario"]["markets"]) == 3
    env = gym.make("batterygym/Fleet-v0", n_assets=3, n_markets=3)
    env.reset(seed=3)
    assert report["solver"]["objective_eur"] == pytest.approx(solve_optimal(env.unwrapped.scenario).objective,
                                                              rel=1e-7)


def test_solve_fleet_csv(tmp_path, capsys):
    path = tmp_path / "prices.csv"
    write_example_fleet_csv(path, seed=2, days=1)
    out_json = tmp_path / "csv.json"
    assert main(["solve", "fleet", "--csv", str(path), "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    check_report(report)
    assert report["source"] == {"csv": str(path)}
    assert f"CSV {path}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "expected"), [
    (["--pv-kwp", "10"], "industrial site option"),
    (["--directions", "up,sideways"], "directions must be 'up' or 'down'"),
    (["--assets", "0"], "n_assets must be a positive integer"),
])
def test_bad_fleet_options_exit_2(argv, expected, capsys):
    assert main(["solve", "fleet", *argv]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_fleet_options_are_refused_by_industrial(capsys):
    assert main(["solve", "industrial", "--assets", "3"]) == 2
    assert "fleet option" in capsys.readouterr().err
