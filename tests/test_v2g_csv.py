"""V2G prices from an hourly CSV (the source's Italian market layout) and ``batterygym solve v2g --csv``."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from batterygym.cli import main
from batterygym.core.v2g_generator import (
    PRICE_COLUMNS,
    V2GConfig,
    generate_quarter,
    load_v2g_prices,
    v2g_scenario_from_prices,
)

HEADER = "timestamp,energy_eur_per_mwh,reg_up_eur_per_mwh,reg_down_eur_per_mwh\n"


def write_prices(path, scenario, days=None):
    """The scenario's own prices as a CSV (floats written exactly), ``days`` of them (default: all)."""
    n = scenario.n_steps if days is None else 24 * days
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["timestamp", *PRICE_COLUMNS])
        for t, stamp in enumerate(scenario.timestamps[:n]):
            values = (repr(float(getattr(scenario, f)[t])) for f in PRICE_COLUMNS.values())
            writer.writerow([stamp.isoformat(), *values])


def test_quarter_prices_round_trip(tmp_path):
    quarter = generate_quarter(seed=4, n_evs=3)
    path = tmp_path / "prices.csv"
    write_prices(path, quarter)
    prices = load_v2g_prices(path)
    assert prices.n_days == 92 and prices.start == "2019-08-01"
    s = v2g_scenario_from_prices(prices, np.random.default_rng(7), V2GConfig(n_evs=5))
    assert s.n_days == 92 and s.n_evs == 5 and s.start == quarter.start
    for field in PRICE_COLUMNS.values():
        assert np.array_equal(getattr(s, field), getattr(quarter, field)), field
    again = v2g_scenario_from_prices(prices, np.random.default_rng(7), V2GConfig(n_evs=5))
    assert np.array_equal(again.arrival_hour, s.arrival_hour) and np.array_equal(again.arrival_soc, s.arrival_soc)


def test_solve_v2g_csv_replays_its_optimum(tmp_path, capsys):
    quarter = generate_quarter(seed=1, n_evs=2)
    path, out_json = tmp_path / "prices.csv", tmp_path / "v2g.json"
    write_prices(path, quarter, days=2)
    assert main(["solve", "v2g", "--csv", str(path), "--seed", "3", "--evs", "6", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert f"prices from CSV {path}, EVs from seed 3" in out and "6 EVs" in out and "MILP: optimal" in out
    report = json.loads(out_json.read_text())
    assert report["source"] == {"csv": str(path)}
    assert report["scenario"]["n_days"] == 2 and report["scenario"]["n_evs"] == 6
    optimal = report["policies"]["optimal"]
    assert optimal["return_eur"] == pytest.approx(report["solver"]["objective_eur"], rel=1e-9)
    assert all(row["profit_eur"] <= optimal["profit_eur"] + 1e-6 for row in report["policies"].values())
    assert report["scenario"]["mean_price_eur_per_mwh"]["energy"] == pytest.approx(quarter.energy_price[:48].mean())


def _day(energy="50", up="60", down="20", day="2019-08-01", hours=range(24)):
    return "".join(f"{day}T{h:02d}:00,{energy},{up},{down}\n" for h in hours)


def test_negative_energy_price_is_allowed(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _day(energy="-5.5"))
    assert load_v2g_prices(path).energy_price.tolist() == [-5.5] * 24


@pytest.mark.parametrize(("text", "message"), [
    ("timestamp,energy_eur_per_mwh,reg_up_eur_per_mwh\n2019-08-01T00:00,1,1\n",
     "missing column(s) 'reg_down_eur_per_mwh'"),
    (HEADER + _day().replace("T05:00,50", "T05:00,nan"), "column 'energy_eur_per_mwh', line 7: 'nan' is not a finite"),
    (HEADER + _day().replace("T03:00,50,60", "T03:00,50,-1"),
     "column 'reg_up_eur_per_mwh', line 5: '-1' is negative"),
    (HEADER + _day().replace("T09:00,50,60,20", "T09:00,50,60,-0.5"),
     "column 'reg_down_eur_per_mwh', line 11: '-0.5' is negative"),
    (HEADER + _day(hours=range(23)), "line 24: the last day is partial: 23 hourly rows"),
    (HEADER + _day(hours=[h for h in range(24) if h != 12]), "1 row(s) missing between '2019-08-01T11:00'"),
    (HEADER + _day(hours=range(1, 24)) + "2019-08-02T00:00,50,60,20\n", "line 2: the first row '2019-08-01T01:00' is "
     "not at 00:00"),
    (HEADER + "".join(f"2019-08-01T{h // 4:02d}:{15 * (h % 4):02d},1,1,1\n" for h in range(96)), "are hourly"),
])
def test_bad_csv_is_one_line_naming_file_column_value_line(tmp_path, text, message, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_v2g_prices(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert main(["solve", "v2g", "--csv", str(path), "--evs", "2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_days_with_csv_is_refused(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _day())
    assert main(["solve", "v2g", "--csv", str(path), "--days", "2"]) == 2
    assert "--days cannot be used with --csv" in capsys.readouterr().err
    assert main(["solve", "v2g", "--timezone", "Europe/Rome"]) == 2
    assert "--timezone: industrial site option(s)" in capsys.readouterr().err
