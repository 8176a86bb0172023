"""``batterygym solve``: the table of idle, rule and optimum, its JSON and plot, on generated and CSV episodes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.baselines import solve_optimal
from batterygym.baselines.rollout import Idle, rollout
from batterygym.cli import main
from batterygym.core.industrial_io import write_example_csv

POLICIES = ("idle", "rule", "cap", "optimal")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def table_rows(out: str) -> dict[str, list[str]]:
    """The printed table's rows by policy name (first token of a line)."""
    rows = {}
    for line in out.splitlines():
        tokens = line.split()
        if tokens and tokens[0] in POLICIES:
            rows[tokens[0]] = tokens[1:]
    return rows


def check_report(report: dict) -> None:
    """Invariants of a breakdown that any correct run satisfies."""
    policies = report["policies"]
    assert list(policies) == list(POLICIES)
    for name, row in policies.items():
        parts = row["energy_eur"] + row["demand_eur"] + row["degradation_eur"] - row["terminal_credit_eur"]
        assert row["total_cost_eur"] == pytest.approx(parts, rel=1e-9), name
        assert row["total_cost_eur"] == pytest.approx(-row["return_eur"], rel=1e-6), name
        assert row["saving_eur"] == pytest.approx(
            policies["idle"]["total_cost_eur"] - row["total_cost_eur"], rel=1e-9, abs=1e-9)
    best = policies["optimal"]["total_cost_eur"]
    assert all(best <= row["total_cost_eur"] + 1e-6 for row in policies.values())  # nobody beats the optimum
    assert policies["optimal"]["return_eur"] == pytest.approx(report["solver"]["objective_eur"], rel=1e-5)
    assert policies["idle"]["degradation_eur"] == 0.0
    assert policies["optimal"]["share_of_optimum"] == pytest.approx(1.0)
    assert report["solver"]["status"] == "optimal"


def test_solve_generated_episode_prints_table_and_writes_outputs(tmp_path, capsys):
    plot, out_json = tmp_path / "plots" / "dispatch.png", tmp_path / "out.json"
    code = main(["solve", "industrial", "--seed", "3", "--days", "2", "--plot", str(plot), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    rows = table_rows(out)
    assert set(rows) == set(POLICIES)
    assert "MILP: optimal" in out and "build" in out and "solve" in out
    assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 20_000
    report = json.loads(out_json.read_text())
    check_report(report)
    assert report["source"] == {"seed": 3} and report["scenario"]["n_steps"] == 48

    # the same episode played independently: idle's cost and the optimum agree with the report
    env = gym.make("batterygym/Industrial-v0", n_days=2, max_episode_steps=48)
    idle_return, _ = rollout(env, Idle(env), seed=3)
    assert report["policies"]["idle"]["return_eur"] == pytest.approx(idle_return, rel=1e-12)
    plan = solve_optimal(env.unwrapped.scenario)
    assert report["solver"]["objective_eur"] == pytest.approx(plan.objective, rel=1e-7)
    # the printed totals are the report's, rounded to cents
    for name in POLICIES:
        printed = {f"{report['policies'][name]['total_cost_eur']:,.2f}"}
        assert printed & set(rows[name]), f"{name}: {rows[name]} lacks the total {printed}"


def test_solve_site_options_change_the_episode(tmp_path, capsys):
    out_json = tmp_path / "small.json"
    assert main(["solve", "industrial", "--seed", "3", "--days", "1", "--capacity-kwh", "100", "--power-kw", "50",
                 "--pv-kwp", "0", "--no-export", "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    check_report(report)
    battery = report["scenario"]["battery"]
    assert (battery["capacity_kwh"], battery["p_charge_kw"], report["scenario"]["allow_export"]) == (100, 50, False)


def test_solve_csv_episode(tmp_path, capsys):
    site = tmp_path / "site.csv"
    written = write_example_csv(site, seed=4, days=2)
    plot, out_json = tmp_path / "csv.svg", tmp_path / "csv.json"
    code = main(["solve", "industrial", "--csv", str(site), "--connection-kw", str(written.connection_kw),
                 "--plot", str(plot), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    assert set(table_rows(out)) == set(POLICIES)
    assert f"CSV {site}" in out
    assert plot.read_text().lstrip().startswith("<?xml")
    report = json.loads(out_json.read_text())
    check_report(report)
    assert report["source"] == {"csv": str(site)}
    # the CSV holds the seed's episode, so it costs what the generated episode costs
    env = gym.make("batterygym/Industrial-v0", n_days=2, max_episode_steps=48)
    idle_return, _ = rollout(env, Idle(env), seed=4)
    assert report["policies"]["idle"]["return_eur"] == pytest.approx(idle_return, rel=1e-12)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--days", "2"], "--days cannot be used with --csv"),
        (["--plot", "out.bmpx"], "unknown image format"),
        (["--time-limit", "0"], "--time-limit"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, argv, expected):
    site = tmp_path / "site.csv"
    write_example_csv(site, seed=0, days=1)
    assert main(["solve", "industrial", "--csv", str(site), *argv]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_bad_csv_in_process_exit_2(tmp_path, capsys):
    site = tmp_path / "bad.csv"
    write_example_csv(site, seed=0, days=1)
    site.write_text(site.read_text().replace("price_eur_per_kwh", "price", 1))
    assert main(["solve", "industrial", "--csv", str(site)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "missing column(s) 'price_eur_per_kwh'" in captured.err and len(captured.err.strip().splitlines()) == 1


def _console(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "batterygym.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_console_script_bad_csv_is_one_line_exit_2(tmp_path):
    site = tmp_path / "bad.csv"
    write_example_csv(site, seed=0, days=1)
    lines = site.read_text().splitlines()
    lines[4] = lines[4].replace(lines[4].split(",")[1], "twelve")
    site.write_text("\n".join(lines) + "\n")
    res = _console("solve", "industrial", "--csv", str(site), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "'load_kw'" in res.stderr and "'twelve'" in res.stderr and "line 5" in res.stderr
    assert res.stdout == ""


def test_console_script_solves(tmp_path):
    res = _console("solve", "industrial", "--seed", "1", "--days", "1", "--plot", "d.png", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert set(table_rows(res.stdout)) == set(POLICIES)
    assert (tmp_path / "d.png").read_bytes().startswith(PNG_MAGIC)
