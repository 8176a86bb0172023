"""``batterygym size | lifetime | sweep industrial``: their JSON keys, their numbers' consistency, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from batterygym.cli import main

SIZE_KEYS = {"capacity_kwh", "power_kw", "capex_eur", "annual_saving_eur", "npv_eur", "irr", "simple_payback_years",
             "discounted_payback_years", "lcos_eur_per_kwh", "years_to_end_of_life"}


def _json(path: Path):
    return json.loads(path.read_text())


def test_size_json_and_plot(tmp_path: Path, capsys) -> None:
    out, fig = tmp_path / "size.json", tmp_path / "size.png"
    assert main(["size", "industrial", "--days", "14", "--json", str(out), "--plot", str(fig)]) == 0
    data = _json(out)
    assert SIZE_KEYS <= set(data)
    assert data["capacity_kwh"] > 0 and data["power_kw"] > 0
    # the printed capex is the finance's capex of the chosen size
    soh0 = 0.8  # the default second-life pack starts at SoH 0.8
    fin = data["finance"]
    capex = (fin["pack_price_eur_per_kwh"] * soh0 * data["capacity_kwh"] + fin["power_price_eur_per_kw"]
             * data["power_kw"] + fin["fixed_cost_eur"])
    assert data["capex_eur"] == pytest.approx(capex, rel=1e-9)
    assert data["simple_payback_years"] == pytest.approx(
        data["capex_eur"] / (data["annual_saving_eur"] - fin["om_share_per_year"] * data["capex_eur"]), rel=1e-9)
    assert fig.stat().st_size > 0
    printed = capsys.readouterr().out
    assert "chosen battery" in printed and "NPV" in printed


def test_size_fixed_choices_and_budget(tmp_path: Path) -> None:
    out = tmp_path / "fixed.json"
    assert main(["size", "industrial", "--days", "7", "--fixed-capacity-kwh", "800", "--json", str(out)]) == 0
    assert _json(out)["capacity_kwh"] in (0.0, pytest.approx(800.0))
    out2 = tmp_path / "budget.json"
    assert main(["size", "industrial", "--days", "7", "--capex-budget-eur", "60000", "--json", str(out2)]) == 0
    assert _json(out2)["capex_eur"] <= 60000 * (1 + 1e-7)


def test_lifetime_json_order_and_slack_cap(tmp_path: Path, capsys) -> None:
    out = tmp_path / "life.json"
    assert main(["lifetime", "industrial", "--days", "14", "--caps", "none,5,0.4", "--json", str(out)]) == 0
    rows = _json(out)
    assert [r["cap"] for r in rows] == [None, 5.0, 0.4]
    for r in rows:
        assert {"cap", "years_to_end_of_life", "life_extension", "annual_saving_eur", "npv_eur"} <= set(r)
    assert rows[0]["life_extension"] == pytest.approx(0.0, abs=1e-9)
    assert rows[1]["binds"] is False and rows[1]["life_extension"] == pytest.approx(0.0, abs=1e-6)
    assert rows[2]["binds"] is True and rows[2]["life_extension"] > 0
    assert rows[2]["annual_saving_eur"] <= rows[0]["annual_saving_eur"] + 1e-6
    assert "do not bind" in capsys.readouterr().out


def test_lifetime_target_extension(tmp_path: Path) -> None:
    out = tmp_path / "life.json"
    assert main(["lifetime", "industrial", "--days", "14", "--caps", "none", "--target-extension", "0.35",
                 "--json", str(out)]) == 0
    rows = _json(out)
    assert rows[-1]["life_extension"] == pytest.approx(0.35, rel=0.01)


def test_sweep_break_even(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    assert main(["sweep", "industrial", "--days", "14", "--param", "tariff_spread", "--values", "0.0,0.3",
                 "--json", str(out)]) == 0
    data = _json(out)
    assert [p["value"] for p in data["points"]] == [0.0, 0.3]
    npv = [p["npv_eur"] for p in data["points"]]
    assert npv[0] < 0 < npv[1]
    assert 0.0 < data["break_even"] < 0.3
    # NPV at the break-even is about zero: re-solve it there
    out2 = tmp_path / "at.json"
    assert main(["sweep", "industrial", "--days", "14", "--param", "tariff_spread", "--values",
                 repr(data["break_even"]), "--json", str(out2)]) == 0
    scale = max(abs(v) for v in npv)
    assert abs(_json(out2)["points"][0]["npv_eur"]) < 0.02 * scale


@pytest.mark.parametrize("param, values", [("pack_price", "40,120"), ("cycle_cap", "none,0.5"),
                                           ("demand_charge", "5,15"), ("load_scale", "0.8,1.2")])
def test_sweep_params(tmp_path: Path, param: str, values: str) -> None:
    out = tmp_path / "sweep.json"
    assert main(["sweep", "industrial", "--days", "7", "--param", param, "--values", values, "--json", str(out)]) == 0
    data = _json(out)
    assert data["param"] == param and len(data["points"]) == 2
    assert "break_even" in data


@pytest.mark.parametrize("argv, named", [
    (["size", "industrial", "--power-price-eur-per-kw", "-1"], "power_price_eur_per_kw"),
    (["size", "industrial", "--discount-rate", "1.5"], "discount_rate"),
    (["size", "industrial", "--horizon-years", "0"], "horizon_years"),
    (["size", "industrial", "--capex-budget-eur", "100"], "--capex-budget-eur"),
    (["size", "industrial", "--max-capacity-kwh", "-5"], "--max-capacity-kwh"),
    (["lifetime", "industrial", "--caps", "none,-1"], "--caps"),
    (["lifetime", "industrial", "--caps", "1,x"], "--caps"),
    (["sweep", "industrial", "--param", "pack_price", "--values", "40,,80"], "--values"),
    (["sweep", "industrial", "--param", "tariff_spread", "--values", "-0.1"], "--values"),
    (["sweep", "industrial", "--param", "load_scale", "--values", "none"], "--values"),
    (["size", "industrial", "--pack-price-eur-per-kwh", "-3"], "pack_price"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys, argv: list[str], named: str) -> None:
    out = tmp_path / "never.json"
    assert main([*argv, "--days", "7", "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named.replace("_", "-") in err[0].replace("_", "-")
    assert not out.exists()
