"""Industrial site data from CSV files: loading with validation, and an example file to start from.

The format, one row per step (a header row first; other columns are ignored):

=============================  ========  =====================================================
column                         required  meaning
=============================  ========  =====================================================
``timestamp``                  yes       ISO 8601 start of the step, sorted, unique and equally
                                         spaced (the step length ``dt_h`` is inferred from it)
``load_kw``                    yes       site load, kW, >= 0
``price_eur_per_kwh``          yes       import price, EUR/kWh
``pv_kw``                      no        on-site PV output, kW, >= 0 (0 without the column)
``export_price_eur_per_kwh``   no        export price, EUR/kWh; its presence allows export
=============================  ========  =====================================================

Timestamps may carry UTC offsets, or be local time with ``timezone="Europe/Rome"`` (``--timezone``):
the spacing is checked in absolute time, so a daylight-saving change is no gap, and the repeated
autumn hour is read in the file's order (:mod:`batterygym.core.timestamps` states the policy). Rows
out of order, repeated timestamps and missing rows are refused, each with its own message. The
episode's clock (the env's hour and weekday features) starts at the first row's local time.

Demand charge: ``load_industrial_csv(..., billing=...)`` says how the peak import is billed
(``"auto"``, ``"episode"`` or ``"month"``; :meth:`TOUTariff.billing`). With ``"auto"`` (the default)
a CSV longer than a month (365.25 / 12 days) is billed per calendar month, each month's peak at the
monthly rate, a month the data covers in part pro-rated by the share of it covered; a shorter CSV
pays one peak at the monthly rate pro-rated to its length. With ``billing="month"`` even a CSV
shorter than a month is billed per calendar month, so it pays its partial month pro-rated by the
share of the month it covers (7 days of a 31-day month: 7 / 31 of the monthly rate).

Every bad input raises a ``ValueError`` that names the file, the column and the offending value and
line, so the CLI can print it as one line. Lines are counted as in a text editor (the header is 1).
"""
from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.industrial import IndustrialScenario
from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial
from batterygym.core.tables import TIMESTAMP, parse_number, read_table
from batterygym.core.tariff import TOUTariff, monthly_periods, resolve_billing
from batterygym.core.timestamps import regular_steps

LOAD = "load_kw"
PRICE = "price_eur_per_kwh"
PV = "pv_kw"
EXPORT_PRICE = "export_price_eur_per_kwh"
REQUIRED_COLUMNS = (TIMESTAMP, LOAD, PRICE)
OPTIONAL_COLUMNS = (PV, EXPORT_PRICE)

CONNECTION_HEADROOM = 1.25
_STEP = re.compile(r"at step (\d+)")
# IndustrialScenario fields the file fills in; the others may be passed as scenario_options
_FROM_FILE = {"load_kw", "price_import", "pv_kw", "price_export", "start", "dt_h",
              "battery", "connection_kw", "demand_charge_eur_per_kw", "allow_export"}


def default_connection_kw(net_kw: np.ndarray, allow_export: bool) -> float:
    """A grid connection for a site whose connection size is not given.

    ``1.25 x`` the largest net import (load - PV), or the largest export (PV - load) when export is
    allowed if that is larger, rounded up to two significant figures (766 kW -> 770, 1263 -> 1300);
    at least 1 kW. The headroom leaves the battery room to charge at the site's peak hours.
    """
    need = float(np.max(net_kw))
    if allow_export:
        need = max(need, float(-np.min(net_kw)))
    need *= CONNECTION_HEADROOM
    if need <= 1.0:
        return 1.0
    unit = 10.0 ** (math.floor(math.log10(need)) - 1)
    return math.ceil(round(need / unit, 9)) * unit


def load_industrial_csv(
    path: str | os.PathLike[str],
    *,
    battery: BatteryParams | None = None,
    connection_kw: float | None = None,
    demand_charge_eur_per_kw: float | None = None,
    allow_export: bool | None = None,
    billing: str = "auto",
    timezone: str | None = None,
    notes: list[str] | None = None,
    **scenario_options: Any,
) -> IndustrialScenario:
    """An :class:`IndustrialScenario` from a site's CSV (format in the module docstring).

    Defaults for what a CSV does not say: ``battery`` is ``IndustrialSiteConfig().battery()`` (the
    env's second-life pack); ``connection_kw`` is :func:`default_connection_kw` of the data;
    demand charge is ``TOUTariff()``'s billed as ``billing`` says (:meth:`TOUTariff.billing`, module
    docstring); a given ``demand_charge_eur_per_kw`` is, billed per month, the monthly rate of each
    calendar month (pro-rated by the share covered) and, billed per episode, the rate of the
    episode's one peak (as given, not pro-rated); ``allow_export`` is whether the file has an
    ``export_price_eur_per_kwh`` column (allowed without it, export earns 0). ``scenario_options``
    are the other :class:`IndustrialScenario` fields (``initial_peak_kw``, ``charge_budget_kwh``,
    ``terminal_value_eur_per_kwh``). ``timezone`` (an IANA name) reads naive timestamps as local time
    there, DST changes included; ``notes``, a list, receives what was done (e.g. a DST change read
    through) for the caller to tell the user. Bad data raises ``ValueError`` naming file, column,
    value, line.
    """
    path = Path(path)
    known = {f.name for f in fields(IndustrialScenario)} - _FROM_FILE
    unknown = sorted(set(scenario_options) - known)
    if unknown:
        raise TypeError(f"unknown scenario option(s) {unknown}; known: {sorted(known)}")
    resolve_billing(billing, 0.0)  # a bad mode fails before the file is read
    header, rows, lines, col = read_table(path, "industrial CSV", REQUIRED_COLUMNS, ", ".join(OPTIONAL_COLUMNS))

    def numbers(name: str, nonnegative: bool = False) -> np.ndarray:
        i = col[name]
        pairs = zip(rows, lines, strict=True)
        return np.array([parse_number(path, name, row[i], line, nonnegative) for row, line in pairs])

    start, dt_h = regular_steps(path, TIMESTAMP, [row[col[TIMESTAMP]] for row in rows], lines, timezone, notes)
    load = numbers(LOAD, nonnegative=True)
    price = numbers(PRICE)
    pv = numbers(PV, nonnegative=True) if PV in col else None
    export = numbers(EXPORT_PRICE) if EXPORT_PRICE in col else None
    if allow_export is None:
        allow_export = export is not None

    battery = IndustrialSiteConfig().battery() if battery is None else battery
    net = load - (pv if pv is not None else 0.0)
    if connection_kw is None:
        connection_kw = default_connection_kw(net, allow_export)
    demand = _demand_charge(start, len(rows), dt_h, demand_charge_eur_per_kw, billing)
    try:
        return IndustrialScenario(
            load_kw=load, price_import=price, pv_kw=pv, price_export=export, battery=battery,
            connection_kw=connection_kw, allow_export=allow_export, start=start, dt_h=dt_h,
            **{**demand, **scenario_options},  # a given billing_period / billing_share wins
        )
    except ValueError as exc:  # a scenario-level check: point its steps (data rows from 0) at file lines
        def at_line(match: re.Match[str]) -> str:
            step = int(match.group(1))
            return f"{match.group(0)} (line {lines[step]})" if step < len(lines) else match.group(0)

        raise ValueError(f"{path}: {_STEP.sub(at_line, str(exc))}") from None


def _demand_charge(start: str, n_steps: int, dt_h: float, rate: float | None, billing: str) -> dict[str, Any]:
    """The scenario's demand-charge fields: the default tariff's billing, or ``rate`` on the same periods."""
    if rate is None:
        return TOUTariff().billing(start, n_steps, dt_h, billing)
    if resolve_billing(billing, n_steps * dt_h / 24.0) == "episode":
        return {"demand_charge_eur_per_kw": rate}
    period, share = monthly_periods(start, n_steps, dt_h)
    return {"demand_charge_eur_per_kw": rate, "billing_period": period, "billing_share": share}


def write_example_csv(path: str | os.PathLike[str], seed: int = 0, days: int = 7, **site: Any) -> IndustrialScenario:
    """Write a generated industrial episode as a CSV in the documented format, and return it.

    It is the episode ``Industrial-v0`` plays after ``reset(seed=seed)`` with ``n_days=days`` and
    the ``site`` options (fields of :class:`IndustrialSiteConfig`). Floats are written exactly, so
    ``load_industrial_csv(path, connection_kw=...)`` gives the same series back.
    """
    from gymnasium.utils.seeding import np_random

    rng, _ = np_random(seed)
    s = generate_industrial(rng, IndustrialSiteConfig.from_kwargs(n_days=days, **site))
    columns = [TIMESTAMP, LOAD, PRICE, PV] + ([EXPORT_PRICE] if s.allow_export else [])
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for t, stamp in enumerate(s.timestamps):
            row = [stamp.isoformat(), repr(float(s.load_kw[t])), repr(float(s.price_import[t])),
                   repr(float(s.pv_kw[t]))]
            if s.allow_export:
                row.append(repr(float(s.price_export[t])))
            writer.writerow(row)
    return s
