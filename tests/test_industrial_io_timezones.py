"""Real meter exports: local time with daylight saving, UTC offsets, missing and unsorted rows."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from batterygym.core.industrial_io import load_industrial_csv


def _write(path: Path, stamps: list[str]) -> Path:
    rows = ["timestamp,load_kw,price_eur_per_kwh"] + [f"{s},{100 + i},0.2" for i, s in enumerate(stamps)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _local_year_of_hours(zone: str, start: str, hours: int) -> list[str]:
    """Naive local wall-clock stamps of consecutive absolute hours, as a meter exports them."""
    utc = pd.date_range(pd.Timestamp(start, tz=zone).tz_convert("UTC"), periods=hours, freq="h")
    return [t.tz_convert(zone).tz_localize(None).isoformat() for t in utc]


def test_spring_change_in_local_time_reads_with_the_zone(tmp_path: Path) -> None:
    stamps = _local_year_of_hours("Europe/Rome", "2025-03-29T00:00", 72)  # across 30 March
    assert "2025-03-30T02:00:00" not in stamps  # the hour the clock skips
    path = _write(tmp_path / "spring.csv", stamps)
    with pytest.raises(ValueError, match="timezone"):
        load_industrial_csv(path)  # without the zone: a one-hour jump, refused with the hint
    notes: list[str] = []
    s = load_industrial_csv(path, timezone="Europe/Rome", notes=notes)
    assert s.n_steps == 72 and s.dt_h == 1.0 and s.start == "2025-03-29T00:00"
    assert any("skipped an hour" in n for n in notes)


def test_autumn_repeated_hour_reads_in_file_order(tmp_path: Path) -> None:
    stamps = _local_year_of_hours("Europe/Rome", "2025-10-25T00:00", 72)  # across 26 October
    assert stamps.count("2025-10-26T02:00:00") == 2
    path = _write(tmp_path / "autumn.csv", stamps)
    with pytest.raises(ValueError, match="duplicate timestamp.*timezone"):
        load_industrial_csv(path)
    notes: list[str] = []
    s = load_industrial_csv(path, timezone="Europe/Rome", notes=notes)
    assert s.n_steps == 72 and list(s.load_kw[:3]) == [100, 101, 102]
    assert any("repeated" in n for n in notes)


def test_utc_offsets_need_no_zone_and_refuse_one(tmp_path: Path) -> None:
    utc = pd.date_range(pd.Timestamp("2025-03-29T00:00", tz="Europe/Rome"), periods=48, freq="h")
    path = _write(tmp_path / "offsets.csv", [t.isoformat() for t in utc])
    assert load_industrial_csv(path).n_steps == 48
    with pytest.raises(ValueError, match="carry UTC offsets"):
        load_industrial_csv(path, timezone="Europe/Rome")


def test_a_wall_time_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    stamps = ["2025-03-30T00:00", "2025-03-30T01:00", "2025-03-30T02:00", "2025-03-30T03:00"]
    with pytest.raises(ValueError, match="does not exist in Europe/Rome"):
        load_industrial_csv(_write(tmp_path / "bad.csv", stamps), timezone="Europe/Rome")


def test_missing_rows_unsorted_rows_and_unknown_zone(tmp_path: Path) -> None:
    hours = [f"2025-06-01T{h:02d}:00" for h in range(10)]
    gap = hours[:4] + hours[7:]
    with pytest.raises(ValueError, match="3 row\\(s\\) missing between '2025-06-01T03:00' and '2025-06-01T07:00'"):
        load_industrial_csv(_write(tmp_path / "gap.csv", gap))
    swapped = [hours[1], hours[0], *hours[2:]]  # the first two rows out of order
    with pytest.raises(ValueError, match="not sorted"):
        load_industrial_csv(_write(tmp_path / "unsorted.csv", swapped))
    with pytest.raises(ValueError, match="not an IANA time zone"):
        load_industrial_csv(_write(tmp_path / "ok.csv", hours), timezone="Mars/Olympus")


def test_cli_timezone_option_and_its_note(tmp_path: Path, capsys) -> None:
    from batterygym.cli import main

    path = _write(tmp_path / "spring.csv", _local_year_of_hours("Europe/Rome", "2025-03-29T00:00", 48))
    assert main(["solve", "industrial", "--csv", str(path)]) == 2
    assert "--timezone" in capsys.readouterr().err
    assert main(["solve", "industrial", "--csv", str(path), "--timezone", "Europe/Rome"]) == 0
    assert "skipped an hour" in capsys.readouterr().err
    assert main(["solve", "fleet", "--timezone", "Europe/Rome"]) == 2
    assert "--timezone" in capsys.readouterr().err
