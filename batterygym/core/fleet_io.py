"""Fleet data from CSV files: market prices (one column per market and its direction) and the
fleet's assets (one row per battery, with its prequalification per market), loaded with validation;
and an example file to start from. Every bad input is a ``ValueError`` naming the file, the column,
the value and the line.

A price CSV has a ``timestamp`` column and one column per market with its price in EUR/MWh; each
market's direction is given by the caller or by its column name ending in ``_up`` or ``_down`` (a given
direction that contradicts the name's suffix is refused). An assets CSV (:func:`load_fleet_assets`) has one
row per asset: ``name``, ``capacity_kwh``, ``power_kw`` (charge and discharge), ``eta_charge``,
``eta_discharge``, ``soc_min``, ``soc0`` and optionally ``prequalified_kw:<market>`` per market (a market
without the column takes each asset's full rating in its direction).
"""
from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from batterygym.core.battery import BatteryParams
from batterygym.core.fleet import DIRECTIONS, UP, FleetScenario
from batterygym.core.fleet_generator import FleetConfig, fixed_layout, generate_fleet


def _market_directions(path: Path, header: list[str], directions: Mapping[str, str] | Sequence[str] | None
                       ) -> tuple[list[str], list[str]]:
    """The market columns (as in the header) and their directions."""
    from batterygym.core.tables import TIMESTAMP

    others = [c for c in header if c and c != TIMESTAMP]
    if isinstance(directions, str):
        directions = [d.strip() for d in directions.split(",")]
    if directions is None:
        names, dirs = [], []
        for c in others:
            suffix = c.rsplit("_", 1)[-1] if "_" in c else ""
            if suffix not in DIRECTIONS:
                raise ValueError(
                    f"{path}: column {c!r} does not say its direction: name market columns '<name>_up' or "
                    "'<name>_down', or pass directions (e.g. --directions up,down,...)"
                )
            names.append(c)
            dirs.append(suffix)
    elif isinstance(directions, Mapping):
        names, dirs = [], []
        for name, d in directions.items():
            key = str(name).strip().lower()
            if key not in header:
                found = ", ".join(repr(c) for c in header)
                raise ValueError(f"{path}: missing market column {key!r} (given a direction); found: {found}")
            names.append(key)
            dirs.append(str(d).strip().lower())
    else:
        dirs = [str(d).strip().lower() for d in directions]
        if len(dirs) != len(others):
            raise ValueError(f"{path}: {len(dirs)} direction(s) given for {len(others)} market column(s) "
                             f"({', '.join(repr(c) for c in others)}); give one per market column")
        names = others
    for name, d in zip(names, dirs, strict=True):
        if d not in DIRECTIONS:
            raise ValueError(f"{path}: market {name!r} has direction {d!r}; expected 'up' or 'down'")
        suffix = name.rsplit("_", 1)[-1] if "_" in name else ""
        if directions is not None and suffix in DIRECTIONS and suffix != d:
            raise ValueError(f"{path}: market {name!r} is given direction {d!r} but its column name says "
                             f"{suffix!r}; fix --directions or rename the column")
    if not names:
        raise ValueError(f"{path}: no market columns besides {TIMESTAMP!r}; expected one price column per market")
    return names, dirs


def load_fleet_prices(path: str | os.PathLike[str], directions: Mapping[str, str] | Sequence[str] | str | None = None
                      ) -> tuple[str, float, tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Read a fleet price CSV: ``(start, dt_h, market_names, directions, prices (T, M) in EUR/MWh)``.

    ``directions`` maps market columns to ``"up"``/``"down"`` (other columns are ignored), or lists one
    direction per non-timestamp column in file order (also as ``"up,down,..."``); None reads them from
    the column names' ``_up``/``_down`` suffix. Bad data raises ``ValueError`` naming file, column,
    value and line (as :func:`batterygym.core.industrial_io.load_industrial_csv` does).
    """
    from batterygym.core.tables import TIMESTAMP, parse_number, read_table
    from batterygym.core.timestamps import regular_steps

    path = Path(path)
    header, rows, lines, col = read_table(path, "fleet price CSV")
    if TIMESTAMP not in header:
        found = ", ".join(repr(c) for c in header) or "none"
        hint = " (the file must be comma-separated)" if len(header) == 1 and ";" in header[0] else ""
        raise ValueError(f"{path}: missing column {TIMESTAMP!r}; found: {found}{hint}")
    names, dirs = _market_directions(path, header, directions)
    start, dt_h = regular_steps(path, TIMESTAMP, [row[col[TIMESTAMP]] for row in rows], lines)
    prices = np.array([[parse_number(path, name, row[col[name]], line, False) for name in names]
                       for row, line in zip(rows, lines, strict=True)])
    return start, dt_h, tuple(names), tuple(dirs), prices


def load_fleet_csv(
    path: str | os.PathLike[str],
    directions: Mapping[str, str] | Sequence[str] | str | None = None,
    *,
    assets: Sequence[BatteryParams] | FleetAssets | None = None,
    prequalified_kw: np.ndarray | None = None,
    terminal_value_eur_per_mwh: float = 0.0,
    **fleet: Any,
) -> FleetScenario:
    """A :class:`FleetScenario` with the prices of a CSV (see :func:`load_fleet_prices`).

    The fleet is ``assets`` with ``prequalified_kw`` (assets x markets, in the CSV's market order), or
    when not given, the layout :class:`FleetConfig` draws from ``fleet`` options (``n_assets``,
    ``layout_seed`` (default 0), ``power_kw_max``, ...) for these markets. ``assets`` may also be a
    :class:`FleetAssets` (from :func:`load_fleet_assets`): its names, and its prequalification matched to
    the CSV's markets by name (``prequalified_kw`` must then be None).
    """
    start, dt_h, names, dirs, prices = load_fleet_prices(path, directions)
    asset_names = None
    if isinstance(assets, FleetAssets):
        if prequalified_kw is not None:
            raise ValueError(f"{assets.path}: the assets CSV gives the prequalification; do not pass prequalified_kw")
        prequalified_kw = assets.prequalification(names, dirs)
        assets, asset_names = assets.assets, assets.names
    if (assets is None) != (prequalified_kw is None):
        raise ValueError("give both assets and prequalified_kw, or neither (a generated layout)")
    if assets is None:
        if fleet.get("layout_seed", 0) is None:
            raise ValueError("layout_seed=None draws a layout per episode; a CSV's fleet needs a fixed layout_seed")
        cfg = FleetConfig.from_kwargs(**{"layout_seed": 0, **fleet, "n_markets": len(names), "directions": dirs})
        layout = fixed_layout(cfg)
        assets, prequalified_kw, asset_names = layout.assets, layout.prequalified_kw, layout.asset_names
    elif fleet:
        raise ValueError(f"fleet options {sorted(fleet)} generate a layout; they cannot be used with given assets")
    try:
        return FleetScenario(
            assets=tuple(assets), directions=dirs, prices=prices, prequalified_kw=prequalified_kw,
            market_names=names, asset_names=asset_names, terminal_value_eur_per_mwh=terminal_value_eur_per_mwh,
            start=start, dt_h=dt_h,
        )
    except ValueError as exc:
        raise ValueError(f"{Path(path)}: {exc}") from None


ASSET_COLUMNS = ("name", "capacity_kwh", "power_kw", "eta_charge", "eta_discharge", "soc_min", "soc0")
PREQUALIFIED_PREFIX = "prequalified_kw:"


@dataclass(frozen=True)
class FleetAssets:
    """A fleet's assets as read from a CSV: names, batteries, and per market named in the file the kW each
    asset is prequalified for (``lines`` are the assets' file lines, for messages)."""

    path: Path
    names: tuple[str, ...]
    assets: tuple[BatteryParams, ...]
    prequalified_kw: dict[str, np.ndarray]
    lines: tuple[int, ...]

    def prequalification(self, markets: Sequence[str], directions: Sequence[str]) -> np.ndarray:
        """``(n_assets, n_markets)`` kW for these markets: the file's column, else each asset's full rating."""
        unknown = sorted(set(self.prequalified_kw) - set(markets))
        if unknown:
            raise ValueError(f"{self.path}: column {PREQUALIFIED_PREFIX}{unknown[0]} names no market of the price "
                             f"CSV; its markets: {', '.join(markets)}")
        pq = np.empty((len(self.assets), len(markets)))
        for m, (market, d) in enumerate(zip(markets, directions, strict=True)):
            what = "p_discharge_kw" if d == UP else "p_charge_kw"
            rating = np.array([getattr(b, what) for b in self.assets])
            given = self.prequalified_kw.get(market)
            if given is not None:
                over = np.flatnonzero(given > rating * (1 + 1e-12))
                if over.size:
                    i = int(over[0])
                    raise ValueError(f"{self.path}: column '{PREQUALIFIED_PREFIX}{market}', line {self.lines[i]}: "
                                     f"{float(given[i])!r} exceeds asset {self.names[i]!r}'s power_kw "
                                     f"{float(rating[i])!r} (market {market!r} is {d})")
            pq[:, m] = rating if given is None else given
        return pq


def load_fleet_assets(path: str | os.PathLike[str], config: FleetConfig | None = None) -> FleetAssets:
    """Read a fleet's assets CSV (module docstring), one row per asset.

    Each asset is ``config.battery`` (default :class:`FleetConfig`: its SoC ceiling, wear and cycle cap)
    with the row's capacity, power, efficiencies, ``soc_min`` and ``soc0``. Bad data raises ``ValueError``
    naming file, column, value and line.
    """
    from batterygym.core.tables import parse_number, read_table

    path = Path(path)
    header, rows, lines, col = read_table(path, "fleet assets CSV", ASSET_COLUMNS, f"{PREQUALIFIED_PREFIX}<market>",
                                          " (one row per asset)")
    markets = {c[len(PREQUALIFIED_PREFIX):].strip(): c for c in header if c.startswith(PREQUALIFIED_PREFIX)}
    if "" in markets:
        raise ValueError(f"{path}: column {PREQUALIFIED_PREFIX!r} names no market ({PREQUALIFIED_PREFIX}<market>)")
    cfg = config or FleetConfig()
    names: list[str] = []
    assets: list[BatteryParams] = []
    for row, line in zip(rows, lines, strict=True):
        name = row[col["name"]].strip()
        if not name:
            raise ValueError(f"{path}: column 'name', line {line}: empty cell (every asset needs a name)")
        if name in names:
            raise ValueError(f"{path}: column 'name', line {line}: duplicate asset name {name!r} (also on line "
                             f"{lines[names.index(name)]})")
        v = {c: parse_number(path, c, row[col[c]], line, True) for c in ASSET_COLUMNS[1:]}
        for c in ("capacity_kwh", "power_kw"):
            if v[c] <= 0:
                raise ValueError(f"{path}: column {c!r}, line {line}: {row[col[c]].strip()!r} must be > 0")
        try:
            b = dataclasses.replace(cfg.battery(v["power_kw"], v["capacity_kwh"] / v["power_kw"], 1.0),
                                    eta_charge=v["eta_charge"], eta_discharge=v["eta_discharge"],
                                    soc_min=v["soc_min"], soc0=v["soc0"])
        except ValueError as exc:
            raise ValueError(f"{path}: line {line} (asset {name!r}): {exc}") from None
        names.append(name)
        assets.append(b)
    pq = {m: np.array([parse_number(path, c, row[col[c]], line, True) for row, line in zip(rows, lines, strict=True)])
          for m, c in markets.items()}
    return FleetAssets(path=path, names=tuple(names), assets=tuple(assets), prequalified_kw=pq, lines=tuple(lines))


def write_example_fleet_csv(path: str | os.PathLike[str], seed: int = 0, days: int = 1, **fleet: Any
                            ) -> FleetScenario:
    """Write a generated fleet episode's prices as a CSV (market columns named ``<name>_<direction>``).

    It is the episode ``Fleet-v0`` plays after ``reset(seed=seed)`` with ``n_days=days`` and the
    ``fleet`` options; ``load_fleet_csv(path, **fleet_options)`` gives the same scenario back.
    """
    from gymnasium.utils.seeding import np_random

    from batterygym.core.tables import TIMESTAMP

    cfg = FleetConfig.from_kwargs(n_days=days, **fleet)
    rng, _ = np_random(seed)
    s = generate_fleet(rng, cfg, fixed_layout(cfg))
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([TIMESTAMP, *s.market_names])
        for t, stamp in enumerate(s.timestamps):
            writer.writerow([stamp.isoformat(), *(repr(float(p)) for p in s.prices[t])])
    return s
