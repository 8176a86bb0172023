"""``batterygym solve microgrid``: money by term and the source's metrics, its JSON and plot, off-grid too."""
from __future__ import annotations

import json

import pytest

from batterygym.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TERMS = ("swap_revenue_eur", "lost_penalty_eur", "resident_revenue_eur", "grid_cost_eur", "unserved_cost_eur",
         "pack_wear_eur", "fast_charge_eur", "storage_wear_eur", "terminal_eur")


@pytest.mark.parametrize("off_grid", [False, True])
def test_solve_microgrid_reports_money_and_metrics(tmp_path, capsys, off_grid):
    out_json, plot = tmp_path / "mg.json", tmp_path / "mg.png"
    argv = ["solve", "microgrid", "--seed", "4", "--json", str(out_json), "--plot", str(plot)]
    assert main(argv + (["--off-grid"] if off_grid else [])) == 0
    out = capsys.readouterr().out
    assert "swaps served" in out and "renewable share" in out and "MILP: optimal" in out
    assert ("off-grid" in out) == off_grid
    report = json.loads(out_json.read_text())
    policies = report["policies"]
    assert list(policies)[0] == "idle" and list(policies)[-1] == "optimal" and "rule" in policies
    signs = {"swap_revenue_eur": 1, "resident_revenue_eur": 1, "terminal_eur": 1}
    for name, row in policies.items():
        parts = sum(signs.get(k, -1) * row[k] for k in TERMS)
        assert row["profit_eur"] == pytest.approx(parts, rel=1e-9, abs=1e-9), name
        assert row["return_eur"] == pytest.approx(row["profit_eur"], rel=1e-6, abs=1e-6), name
        assert row["profit_eur"] <= policies["optimal"]["profit_eur"] + 1e-6, name
        assert 0.0 <= row["swaps_served_share"] <= 1.0 and 0.0 <= row["renewable_share"] <= 1.0
    if off_grid:
        assert all(row["grid_mwh"] == 0.0 for row in policies.values())
    assert report["scenario"]["off_grid"] is off_grid
    assert plot.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(("argv", "message"), [
    (["solve", "microgrid", "--evs", "3"], "--evs: v2g option(s), not for the microgrid setting"),
    (["solve", "microgrid", "--csv", "x.csv"], "--csv is not available for microgrid"),
    (["solve", "v2g", "--off-grid"], "--off-grid: microgrid option(s), not for the v2g setting"),
    (["solve", "industrial", "--off-grid"], "--off-grid: microgrid option(s), not for the industrial setting"),
])
def test_bad_options_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
