"""The industrial setting's episodes for the commands: ``batterygym solve industrial`` and the MILP speed cases.

Its options are the site's (:mod:`batterygym.benchmarks.site_options`, shared with ``size``,
``lifetime`` and ``sweep``); its table is the energy, demand, degradation and terminal terms.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from batterygym.benchmarks.episode_adapter import EpisodeAdapter, EpisodeCommand, env_scenarios
from batterygym.benchmarks.site_options import (
    add_site_arguments,
    describe_industrial,
    industrial_env,
    industrial_scenario_json,
)

DEFAULT_DAYS = 7

EXAMPLES = """\
  batterygym solve industrial --seed 3 --plot dispatch.png
  batterygym solve industrial --csv site.csv --capacity-kwh 1000 --power-kw 400 --json costs.json
  batterygym solve industrial --days 365 --billing month --max-cycles-per-day none --eta-charge 0.93
"""

CSV_FORMAT = """\
An industrial CSV has one row per step: timestamp (ISO 8601, evenly spaced), load_kw, price_eur_per_kwh and
optionally pv_kw and export_price_eur_per_kwh (export is allowed when that column is present).
Its demand charge (--demand-charge-eur-per-kw-month) is billed per calendar month when it covers more
than a month (--billing auto), a partly covered month pro-rated by its share.
"""

COLUMNS = {"energy_eur": "energy EUR", "demand_eur": "demand EUR", "degradation_eur": "degradation EUR",
           "terminal_credit_eur": "terminal credit EUR", "total_cost_eur": "total cost EUR", "peak_kw": "peak kW",
           "saving_eur": "saving vs idle EUR", "share_of_optimum": "share of optimum"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The site's and battery's options, in their own group."""
    add_site_arguments(parser.add_argument_group("site"))


def _plot(schedules: dict[str, Any], path: Any, title: str) -> Any:
    from batterygym.benchmarks.industrial_plots import plot_dispatch

    return plot_dispatch(schedules, path, title=title)


def adapter() -> EpisodeAdapter:
    """What ``solve industrial`` settles and reports (imports the industrial model)."""
    from batterygym.core.industrial import cost_breakdown, simulate

    return EpisodeAdapter(
        make_env=industrial_env, describe=describe_industrial, schedule=simulate, breakdown=cost_breakdown,
        power_key="battery_kw", columns=COLUMNS,
        note="total cost = energy + demand + degradation - terminal credit (the energy left in the battery, "
             "valued against its start; < 0: it ended emptier)",
        scenario_json=industrial_scenario_json, plot=_plot)


COMMAND = EpisodeCommand(owner="industrial site", add_arguments=add_arguments, adapter=adapter,
                         default_days=DEFAULT_DAYS, examples=EXAMPLES, csv_format=CSV_FORMAT)


def speed_scenarios(n_days: int, seeds: Sequence[int]) -> list[Any]:
    """Industrial episodes: the env's default episode for ``n_days == 7``, else ``n_days`` from 1 January."""
    import numpy as np

    from batterygym.core.industrial_generator import IndustrialSiteConfig, generate_industrial

    if n_days == DEFAULT_DAYS:
        return env_scenarios("industrial", seeds)
    cfg = IndustrialSiteConfig(n_days=n_days, random_start=False)
    return [generate_industrial(np.random.default_rng(s), cfg) for s in seeds]
