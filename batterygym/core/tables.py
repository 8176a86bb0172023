"""Reading CSV tables the same way for every loader: the file, its header, rows and numbers.

Every bad input raises a ``ValueError`` naming the file, the column and the offending value and line
(lines counted as in a text editor, the header is 1), so the CLI prints it as one line.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

TIMESTAMP = "timestamp"


def parse_number(path: Path, column: str, cell: str, line: int, nonnegative: bool) -> float:
    """One cell as a finite float (non-negative if asked), or a ValueError naming file, column and line."""
    text = cell.strip()
    where = f"{path}: column {column!r}, line {line}"
    if not text:
        raise ValueError(f"{where}: empty cell (every row needs a value in every column)")
    try:
        value = float(text)
    except ValueError:
        hint = " (use '.' as the decimal separator)" if "," in text else ""
        raise ValueError(f"{where}: {text!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {text!r} is not a finite number")
    if nonnegative and value < 0:
        raise ValueError(f"{where}: {text!r} is negative; {column} must be >= 0")
    return value


def _read_rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[list[str]], list[int]]:
    """Header (stripped, lower-case), data rows and their line numbers; blank lines are skipped."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            for row in reader:
                if not row or all(not cell.strip() for cell in row) and len(row) == 1:
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in row]
                    n_header_lines = reader.line_num
                    continue
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file: {exc}") from None
    if header is None:
        raise ValueError(f"{path}: the file is empty; expected a header row with {', '.join(required)}")
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise ValueError(f"{path}: column {name!r} appears twice in the header (line {n_header_lines})")
        seen.add(name)
    return header, rows, lines


def read_table(path: Path, what: str, required: tuple[str, ...] = (), optional: str = "", empty: str = ""
               ) -> tuple[list[str], list[list[str]], list[int], dict[str, int]]:
    """A CSV's header, data rows, their lines and the columns' indices, checked the same way for every
    loader: the file exists, the ``required`` columns are there (``optional`` says what else may be),
    there is a data row (``empty`` adds what one is), and every row is as wide as the header."""
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    header, rows, lines = _read_rows(path, required)
    missing = [c for c in required if c not in header]
    if missing:
        found = ", ".join(repr(c) for c in header) or "none"
        hint = " (the file must be comma-separated)" if len(header) == 1 and ";" in header[0] else ""
        raise ValueError(f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}; required: "
                         f"{', '.join(required)}{f' (optional: {optional})' if optional else ''}; found: {found}{hint}")
    if not rows:
        raise ValueError(f"{path}: no data rows after the header{empty}")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise ValueError(f"{path}: line {line} has {len(row)} field(s) but the header has {len(header)} "
                             f"({', '.join(header)}); mismatched lengths")
    return header, rows, lines, {name: i for i, name in enumerate(header)}
