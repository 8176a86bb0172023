"""A fleet's assets from a CSV (``load_fleet_assets``, ``solve fleet --assets-csv``) and directions that
contradict a price CSV's column names."""
from __future__ import annotations

import json

import numpy as np
import pytest

from batterygym.cli import main
from batterygym.core.fleet_generator import FleetConfig
from batterygym.core.fleet_io import load_fleet_assets, load_fleet_csv, load_fleet_prices, write_example_fleet_csv

HEADER = "name,capacity_kwh,power_kw,eta_charge,eta_discharge,soc_min,soc0"
ASSETS = (f"{HEADER},prequalified_kw:m0_up\n"
          "north,4000,2000,0.95,0.94,0.1,0.5,1500\n"
          "south,1000,1000,0.9,0.9,0.05,0.2,0\n")


def prices(tmp_path):
    path = tmp_path / "prices.csv"
    write_example_fleet_csv(path, seed=2, days=1, n_markets=3, directions=("up", "down", "down"))
    return path


def test_assets_csv_builds_the_fleet(tmp_path):
    path = tmp_path / "assets.csv"
    path.write_text(ASSETS)
    fa = load_fleet_assets(path)
    assert fa.names == ("north", "south") and fa.lines == (2, 3)
    north, south = fa.assets
    assert (north.capacity_kwh, north.p_charge_kw, north.p_discharge_kw) == (4000.0, 2000.0, 2000.0)
    assert (north.eta_charge, north.eta_discharge, north.soc_min, north.soc0) == (0.95, 0.94, 0.1, 0.5)
    default = FleetConfig().battery(2000.0, 2.0, 0.9)
    assert north.degradation_cost_per_kwh == default.degradation_cost_per_kwh and north.soc_max == default.soc_max
    s = load_fleet_csv(prices(tmp_path), assets=fa)
    assert s.asset_names == ("north", "south") and s.market_names == ("m0_up", "m1_down", "m2_down")
    assert s.prequalified_kw.tolist() == [[1500, 2000, 2000], [0, 1000, 1000]]  # unnamed markets: full rating


def test_solve_fleet_with_assets_csv(tmp_path, capsys):
    path, out_json = tmp_path / "assets.csv", tmp_path / "fleet.json"
    path.write_text(ASSETS)
    assert main(["solve", "fleet", "--csv", str(prices(tmp_path)), "--assets-csv", str(path),
                 "--json", str(out_json)]) == 0
    assert "north 2 MW/4 MWh" in capsys.readouterr().out
    report = json.loads(out_json.read_text())
    assert [a["name"] for a in report["scenario"]["assets"]] == ["north", "south"]
    assert report["scenario"]["prequalified_kw"][0] == [1500, 2000, 2000]
    optimal = report["policies"]["optimal"]
    assert report["solver"]["status"] == "optimal"
    assert optimal["return_eur"] == pytest.approx(report["solver"]["objective_eur"], rel=1e-9)


@pytest.mark.parametrize(("text", "message"), [
    ("name,capacity_kwh,power_kw,eta_charge,eta_discharge,soc_min\nx,1,1,1,1,0\n", "missing column(s) 'soc0'"),
    (f"{HEADER}\n", "no data rows"),
    (f"{HEADER}\na,1000,500,0.9,0.9,0.1\n", "line 2 has 6 field(s)"),
    (f"{HEADER}\na,1000,500,0.9,nan,0.1,0.5\n", "column 'eta_discharge', line 2: 'nan' is not a finite number"),
    (f"{HEADER}\na,1000,-500,0.9,0.9,0.1,0.5\n", "column 'power_kw', line 2: '-500' is negative"),
    (f"{HEADER}\na,0,500,0.9,0.9,0.1,0.5\n", "column 'capacity_kwh', line 2: '0' must be > 0"),
    (f"{HEADER}\na,1000,500,1.2,0.9,0.1,0.5\n", "line 2 (asset 'a'): eta_charge must be in (0, 1], got 1.2"),
    (f"{HEADER}\na,1000,500,0.9,0.9,0.6,0.5\n", "line 2 (asset 'a'): soc0 must lie in [soc_min, soc_max]"),
    (f"{HEADER}\na,1000,500,0.9,0.9,0.1,0.5\na,1000,500,0.9,0.9,0.1,0.5\n", "line 3: duplicate asset name 'a'"),
    (f"{HEADER}\n,1000,500,0.9,0.9,0.1,0.5\n", "column 'name', line 2: empty cell"),
    (f"{HEADER},prequalified_kw:m0_up\na,1000,500,0.9,0.9,0.1,0.5,-1\n",
     "column 'prequalified_kw:m0_up', line 2: '-1' is negative"),
    (f"{HEADER},prequalified_kw:m0_up\na,1000,500,0.9,0.9,0.1,0.5,600\n",
     "column 'prequalified_kw:m0_up', line 2: 600.0 exceeds asset 'a''s power_kw 500.0 (market 'm0_up' is up)"),
    (f"{HEADER},prequalified_kw:fcr\na,1000,500,0.9,0.9,0.1,0.5,100\n",
     "column prequalified_kw:fcr names no market of the price CSV"),
])
def test_bad_assets_csv_exits_2_with_one_line(tmp_path, text, message, capsys):
    path = tmp_path / "assets.csv"
    path.write_text(text)
    assert main(["solve", "fleet", "--csv", str(prices(tmp_path)), "--assets-csv", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(path) in lines[0]


@pytest.mark.parametrize(("argv", "message"), [
    (["--assets-csv", "a.csv"], "--assets-csv needs --csv"),
    (["--assets", "3"], "--assets cannot be used with --assets-csv"),
    (["--layout-seed", "1"], "--layout-seed cannot be used with --assets-csv"),
])
def test_assets_csv_option_conflicts(tmp_path, argv, message, capsys):
    path = tmp_path / "assets.csv"
    path.write_text(ASSETS)
    extra = [] if argv[0] == "--assets-csv" else ["--csv", str(prices(tmp_path)), "--assets-csv", str(path)]
    assert main(["solve", "fleet", *extra, *argv]) == 2
    assert message in capsys.readouterr().err


def test_assets_csv_is_refused_by_other_settings(capsys):
    assert main(["solve", "v2g", "--assets-csv", "a.csv"]) == 2
    assert "--assets-csv: fleet option(s), not for the v2g setting" in capsys.readouterr().err


def test_directions_contradicting_column_suffixes_are_refused(tmp_path, capsys):
    path = prices(tmp_path)  # columns m0_up, m1_down, m2_down
    with pytest.raises(ValueError, match="market 'm1_down' is given direction 'up' but its column name says 'down'"):
        load_fleet_prices(path, "up,up,down")
    with pytest.raises(ValueError, match="market 'm0_up' is given direction 'down' but its column name says 'up'"):
        load_fleet_prices(path, {"m0_up": "down"})
    assert load_fleet_prices(path, "up,down,down")[3] == ("up", "down", "down")  # agreeing is fine
    assert main(["solve", "fleet", "--csv", str(path), "--directions", "down,down,down"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "market 'm0_up' is given direction 'down'" in lines[0] and str(path) in lines[0]


def test_unsuffixed_columns_take_any_direction(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("timestamp,fcr,afrr\n2025-01-01T00:00,10,20\n2025-01-01T01:00,11,21\n")
    _, _, names, dirs, p = load_fleet_prices(path, "down,up")
    assert names == ("fcr", "afrr") and dirs == ("down", "up") and np.array_equal(p, [[10, 20], [11, 21]])
