"""CSV loading of industrial sites: exact round trip, defaults, and one clear ValueError per bad input."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import batterygym  # noqa: F401 - registers the ids
from batterygym.core import IndustrialSiteConfig, TOUTariff, load_industrial_csv
from batterygym.core.industrial_io import default_connection_kw, write_example_csv


def same_scenario(a, b) -> list[str]:
    """Names of the fields where two scenarios differ."""
    diff = []
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        equal = np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        if not equal:
            diff.append(f.name)
    return diff


@pytest.fixture
def example(tmp_path: Path):
    path = tmp_path / "site.csv"
    scenario = write_example_csv(path, seed=5, days=2)
    return path, scenario


def edit(path: Path, line: int, column: str, value: str) -> Path:
    """Set one cell (``line`` counted from 1 = header) of a CSV written by write_example_csv."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------------------ round trip
def test_round_trip_gives_the_generated_scenario(example):
    path, written = example
    loaded = load_industrial_csv(path, connection_kw=written.connection_kw)
    assert same_scenario(written, loaded) == []


def test_example_is_the_envs_episode_for_the_seed(tmp_path):
    written = write_example_csv(tmp_path / "a.csv", seed=11, days=3)
    env = gym.make("batterygym/Industrial-v0", n_days=3, max_episode_steps=72)
    env.reset(seed=11)
    assert same_scenario(env.unwrapped.scenario, written) == []


def test_defaults_follow_the_documented_rules(example):
    path, written = example
    s = load_industrial_csv(path)
    assert s.battery == IndustrialSiteConfig().battery()
    assert s.demand_charge_eur_per_kw == TOUTariff().demand_charge_for(s.days)
    assert s.allow_export  # the example has an export price column
    need = 1.25 * max(float(s.net_kw.max()), float(-s.net_kw.min()))
    assert need <= s.connection_kw <= need * 1.1 + 1e-9
    digits = f"{s.connection_kw:.0f}".rstrip("0")
    assert len(digits) <= 2, f"connection {s.connection_kw} is not a two-significant-figure round number"


@pytest.mark.parametrize("need", [1.7, 7.3, 99.0, 612.8, 1000.0, 12345.6])
def test_default_connection_rounds_up_to_two_figures(need):
    conn = default_connection_kw(np.array([need / 1.25]), allow_export=False)
    assert conn >= need - 1e-9
    mantissa = conn / 10 ** math.floor(math.log10(conn))
    assert abs(mantissa * 10 - round(mantissa * 10)) < 1e-9  # two significant figures
    assert conn - need < 10 ** (math.floor(math.log10(need)) - 1) + 1e-9  # the next one up


def test_default_connection_is_at_least_one_kw():
    assert default_connection_kw(np.zeros(4), allow_export=True) == 1.0
    exporting = np.array([10.0, -400.0])
    assert default_connection_kw(exporting, allow_export=True) >= 1.25 * 400
    assert default_connection_kw(exporting, allow_export=False) < 1.25 * 400


def test_without_export_column_export_is_barred_and_pv_optional(tmp_path):
    path = tmp_path / "noexp.csv"
    write_example_csv(path, seed=2, days=1, allow_export=False)
    assert "export_price_eur_per_kwh" not in path.read_text().splitlines()[0]
    s = load_industrial_csv(path)
    assert not s.allow_export
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name != "pv_kw"]
    path.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n")
    s2 = load_industrial_csv(path)
    assert np.array_equal(s2.load_kw, s.load_kw) and not s2.pv_kw.any()


def test_step_length_is_inferred_and_time_zones_span_dst(tmp_path):
    path = tmp_path / "quarter.csv"
    stamps = ["2025-03-30T00:45:00+01:00", "2025-03-30T01:00:00+01:00", "2025-03-30T01:15:00+01:00",
              "2025-03-30T01:30:00+01:00", "2025-03-30T01:45:00+01:00", "2025-03-30T03:00:00+02:00",
              "2025-03-30T03:15:00+02:00"]
    rows = [f"{t},{100 + i},0.2" for i, t in enumerate(stamps)]
    path.write_text("timestamp,load_kw,price_eur_per_kwh\n" + "\n".join(rows) + "\n")
    s = load_industrial_csv(path)
    assert s.dt_h == 0.25 and s.n_steps == len(stamps)
    assert s.start == "2025-03-30T00:45"
    assert np.array_equal(s.load_kw, 100.0 + np.arange(len(stamps)))


def test_options_reach_the_scenario(example):
    path, _ = example
    s = load_industrial_csv(path, connection_kw=2000.0, demand_charge_eur_per_kw=4.5, allow_export=False,
                            initial_peak_kw=300.0)
    assert (s.connection_kw, s.demand_charge_eur_per_kw, s.allow_export, s.initial_peak_kw) == (2000.0, 4.5, False,
                                                                                                 300.0)
    assert not s.price_export.any()


# ------------------------------------------------------------------------------------------ bad input
def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        load_industrial_csv("nowhere.csv")


@pytest.mark.parametrize(
    ("line", "column", "value", "expected"),
    [
        (5, "load_kw", "abc", ["load_kw", "'abc'", "line 5", "not a number"]),
        (7, "price_eur_per_kwh", "", ["price_eur_per_kwh", "line 7", "empty"]),
        (9, "pv_kw", "NaN", ["pv_kw", "'NaN'", "line 9", "not a finite number"]),
        (4, "load_kw", "-12.5", ["load_kw", "'-12.5'", "line 4", "negative"]),
        (6, "pv_kw", "-1", ["pv_kw", "'-1'", "line 6", "negative"]),
        (3, "load_kw", "1,5", ["load_kw", "line 3"]),  # a decimal comma splits the row
        (8, "export_price_eur_per_kwh", "inf", ["export_price_eur_per_kwh", "'inf'", "line 8"]),
        (10, "timestamp", "yesterday", ["timestamp", "'yesterday'", "line 10", "ISO 8601"]),
    ],
)
def test_bad_cell_names_file_column_value_and_line(example, line, column, value, expected):
    path, _ = example
    edit(path, line, column, value)
    with pytest.raises(ValueError) as err:
        load_industrial_csv(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_missing_column_lists_required_and_found(example):
    path, _ = example
    text = path.read_text().replace("load_kw", "load", 1)
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_industrial_csv(path)
    message = str(err.value)
    assert "missing column(s) 'load_kw'" in message
    assert "required: timestamp, load_kw, price_eur_per_kwh" in message
    assert "found: 'timestamp', 'load'" in message


def test_semicolon_file_gets_a_hint(example):
    path, _ = example
    path.write_text(path.read_text().replace(",", ";"))
    with pytest.raises(ValueError, match="comma-separated"):
        load_industrial_csv(path)


def test_short_row_is_a_length_mismatch(example):
    path, _ = example
    lines = path.read_text().splitlines()
    lines[11] = ",".join(lines[11].split(",")[:-2])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 12 has 3 field\(s\) but the header has 5.*mismatched lengths"):
        load_industrial_csv(path)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("duplicate", ["duplicate timestamp", "line 6", "also on line 5"]),
        ("unsorted", ["not sorted", "line 6"]),
        ("irregular", ["irregular spacing", "line 6", "expected 1 h"]),
    ],
)
def test_bad_timestamps(example, case, expected):
    path, written = example
    ts = written.timestamps
    replacement = {"duplicate": ts[3], "unsorted": ts[2], "irregular": ts[4] + (ts[1] - ts[0]) / 2}[case]
    edit(path, 6, "timestamp", replacement.isoformat())
    with pytest.raises(ValueError) as err:
        load_industrial_csv(path)
    message = str(err.value)
    assert "timestamp" in message and replacement.isoformat() in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_industrial_csv(empty)
    header = tmp_path / "header.csv"
    header.write_text("timestamp,load_kw,price_eur_per_kwh\n")
    with pytest.raises(ValueError, match="no data rows"):
        load_industrial_csv(header)


def test_scenario_checks_name_the_file(example):
    path, written = example
    edit(path, 5, "export_price_eur_per_kwh", "9.5")
    with pytest.raises(ValueError) as err:
        load_industrial_csv(path)
    message = str(err.value)
    assert str(path) in message and "price_export" in message and "9.5" in message
    assert "at step 3 (line 5)" in message


def test_connection_below_the_load_is_named(example):
    path, written = example
    too_small = float(written.net_kw.max()) / 2
    with pytest.raises(ValueError, match="connection_kw"):
        load_industrial_csv(path, connection_kw=too_small)


def test_unknown_option_is_a_type_error(example):
    path, _ = example
    with pytest.raises(TypeError, match="initial_peak_kw"):
        load_industrial_csv(path, inital_peak_kw=3.0)
