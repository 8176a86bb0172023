"""Meter timestamps to evenly spaced steps: UTC offsets, local time with daylight saving, and what is refused.

Real exports come in three forms, each read in absolute time:

- **with UTC offsets** (``2025-03-30T03:00+02:00``): the offsets give absolute time, so a DST change
  is no gap;
- **local time with a time zone** (``timezone="Europe/Rome"``): each wall-clock time is placed in the
  zone. In spring the wall clock skips an hour (02:00-03:00 does not exist): a row at 01:00 followed
  by one at 03:00 is one hour apart, no data missing. In autumn it repeats an hour: the second of
  two rows at 02:00 is the later hour (the file's order is time's order). A wall time that does not
  exist in the zone is refused;
- **naive without a time zone**: read as they stand. A gap or a repeat of exactly one hour at the
  end of March or October is refused with a hint to give the time zone.

Refused, each with its own message: rows out of order, a repeated timestamp, and missing rows (a
gap of whole steps, with their count and where). The episode's clock (the env's hour and weekday
features and the billing months) runs from the first row's wall-clock time in steps of ``dt_h``.
"""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HOUR = 3600.0


def zone(name: str) -> ZoneInfo:
    """An IANA time zone (``Europe/Rome``), or a ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"timezone {name!r} is not an IANA time zone name (e.g. Europe/Rome, UTC)") from None


def _localize(stamps: list[datetime], tz: ZoneInfo, where: list[str], notes: list[str]) -> list[datetime]:
    """Naive wall-clock times placed in ``tz``, repeated autumn hours resolved by the file's order."""
    out: list[datetime] = []
    skipped = repeated = 0
    for i, naive in enumerate(stamps):
        aware = naive.replace(tzinfo=tz, fold=0)
        utc = aware.astimezone(UTC)
        if utc.astimezone(tz).replace(tzinfo=None) != naive:
            raise ValueError(f"{where[i]}: {naive.isoformat()} does not exist in {tz.key} (the clock skips it "
                             "when daylight saving starts); check the export's time zone")
        if out and utc <= out[-1]:
            later = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
            if later > out[-1] and later != utc:
                utc = later
                repeated += 1
        elif out and (naive - stamps[i - 1]) > (utc - out[-1]):
            skipped += 1
        out.append(utc)
    if skipped:
        notes.append(f"{tz.key}: the wall clock skipped an hour {skipped} time(s) (daylight saving starts); "
                     "no data is missing there")
    if repeated:
        notes.append(f"{tz.key}: {repeated} repeated wall-clock hour(s) (daylight saving ends) read as the later "
                     "hour, in the file's order")
    return out


def _dst_hint(prev: datetime, cur: datetime, step: float) -> str:
    """A hint when a naive series jumps or repeats by one hour at a European or US DST season."""
    gap = (cur - prev).total_seconds()
    if cur.month in (3, 4, 10, 11) and abs(gap - step) == HOUR:
        return (" - this looks like a daylight-saving change in local time: give the export's time zone "
                "(timezone=..., --timezone Europe/Rome)")
    return ""


def regular_steps(path: Path, column: str, cells: list[str], lines: list[int], tz_name: str | None = None,
                  notes: list[str] | None = None) -> tuple[str, float]:
    """The first row's wall-clock time (ISO) and the step in hours of a column of timestamps.

    ``notes`` collects what was done (DST changes read through) for the caller to tell the user.
    """
    notes = [] if notes is None else notes
    stamps: list[datetime] = []
    where = [f"{path}: column {column!r}, line {line}" for line in lines]
    for i, cell in enumerate(cells):
        text = cell.strip()
        if not text:
            raise ValueError(f"{where[i]}: empty cell (every row needs a timestamp)")
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{where[i]}: {text!r} is not an ISO 8601 timestamp (e.g. 2025-01-06T13:00)") from None
        if stamps and (stamp.tzinfo is None) != (stamps[0].tzinfo is None):
            raise ValueError(f"{where[i]}: {text!r} mixes time-zone-aware and naive timestamps")
        stamps.append(stamp)
    if len(stamps) < 2:
        raise ValueError(f"{path}: needs at least two rows to infer the step length, got {len(stamps)}")
    aware = stamps[0].tzinfo is not None
    if tz_name is not None and aware:
        raise ValueError(f"{path}: timezone={tz_name!r} was given but the timestamps carry UTC offsets "
                         f"({cells[0].strip()!r}); drop the time zone, the offsets already say it")
    absolute = _localize(stamps, zone(tz_name), where, notes) if tz_name is not None else stamps
    naive_unzoned = not aware and tz_name is None
    for i in range(1, len(absolute)):  # order first, so an unsorted file is not called irregular
        if absolute[i] < absolute[i - 1]:
            hint = _dst_hint(stamps[i - 1], stamps[i], HOUR) if naive_unzoned else ""
            raise ValueError(f"{where[i]}: timestamps are not sorted: {cells[i].strip()!r} comes after "
                             f"{cells[i - 1].strip()!r} (line {lines[i - 1]}); sort the file{hint}")
        if absolute[i] == absolute[i - 1]:
            hint = _dst_hint(stamps[i - 1], stamps[i], HOUR) if naive_unzoned else ""
            raise ValueError(f"{where[i]}: duplicate timestamp {cells[i].strip()!r} (also on line "
                             f"{lines[i - 1]}){hint}")
    gaps = [(absolute[i] - absolute[i - 1]).total_seconds() for i in range(1, len(absolute))]
    step = Counter(gaps).most_common(1)[0][0]  # the file's step: its most common spacing
    for i in range(1, len(absolute)):
        gap = (absolute[i] - absolute[i - 1]).total_seconds()
        if gap == step:
            continue
        hint = _dst_hint(stamps[i - 1], stamps[i], step) if naive_unzoned else ""
        missing = gap / step - 1
        if missing == int(missing):
            raise ValueError(f"{where[i]}: {int(missing)} row(s) missing between {cells[i - 1].strip()!r} and "
                             f"{cells[i].strip()!r} (steps of {step / HOUR:g} h); fill them{hint}")
        raise ValueError(f"{where[i]}: irregular spacing: {cells[i].strip()!r} is {gap / HOUR:g} h after the "
                         f"previous row, expected {step / HOUR:g} h (the file's step) or a multiple of it{hint}")
    first = stamps[0].replace(tzinfo=None)  # wall-clock time of the first step
    whole_minute = first.second == 0 and first.microsecond == 0
    return first.isoformat(timespec="minutes" if whole_minute else "auto"), step / HOUR
