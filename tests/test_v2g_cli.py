"""``batterygym solve v2g``: the revenue table by stream, its JSON and plot, and options of other settings."""
from __future__ import annotations

import json

import pytest

from batterygym.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUNGS = ("idle", "charge_on_arrival", "rule", "optimal")


def test_solve_v2g_reports_revenue_by_stream(tmp_path, capsys):
    out_json, plot = tmp_path / "v2g.json", tmp_path / "v2g.png"
    assert main(["solve", "v2g", "--seed", "2", "--evs", "15", "--days", "2", "--json", str(out_json),
                 "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "15 EVs" in out and "reg-up EUR" in out and "MILP: optimal" in out
    report = json.loads(out_json.read_text())
    policies = report["policies"]
    assert list(policies) == list(RUNGS)
    for name, row in policies.items():
        parts = (row["reg_up_eur"] + row["reg_down_eur"] - row["energy_cost_eur"] + row["driver_fee_eur"]
                 - row["degradation_eur"])
        assert row["profit_eur"] == pytest.approx(parts, rel=1e-9), name
        assert row["return_eur"] == pytest.approx(row["profit_eur"], rel=1e-6), name
        assert row["profit_eur"] <= policies["optimal"]["profit_eur"] + 1e-6, name
    assert policies["idle"]["reg_up_eur"] == 0.0 and policies["optimal"]["reg_up_eur"] > 0.0
    assert report["scenario"]["n_days"] == 2 and report["scenario"]["n_evs"] == 15
    assert report["solver"]["models"] == 2
    assert plot.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(("argv", "message"), [
    (["solve", "v2g", "--assets", "3"], "--assets: fleet option(s), not for the v2g setting"),
    (["solve", "v2g", "--no-export"], "--no-export: industrial site option(s), not for the v2g setting"),
    (["solve", "v2g", "--csv", "x.csv", "--days", "2"], "--days cannot be used with --csv"),
    (["solve", "v2g", "--evs", "0"], "n_evs must be a positive integer"),
    (["solve", "industrial", "--evs", "10"], "--evs: v2g option(s), not for the industrial setting"),
    (["solve", "fleet", "--evs", "10"], "--evs: v2g option(s), not for the fleet setting"),
])
def test_bad_options_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
