"""What ``batterygym solve`` needs of a setting: its options, its episode, its settlement and its report.

Each setting's module (``batterygym.benchmarks.<setting>_episode``) defines one :class:`EpisodeCommand`
named by its entry in :mod:`batterygym.settings`. The command part is light (argparse only), since the
CLI builds its parser from every setting's; :attr:`EpisodeCommand.adapter` imports the rest when an
episode is solved.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# the set-points the env applied: an info key, keys stacked on a last axis, or a function of the info
PowerKey = str | tuple[str, ...] | Callable[[dict[str, Any]], np.ndarray]


@dataclass(frozen=True)
class EpisodeAdapter:
    """A setting's episode, settlement and breakdown, and how its table, JSON and plot look."""

    make_env: Callable[[argparse.Namespace], Any]  # args -> env, ready for reset(seed=args.seed)
    describe: Callable[[Any, argparse.Namespace], str]  # (scenario, args) -> lines about the episode
    schedule: Callable[[Any, np.ndarray], pd.DataFrame]  # (scenario, power per step) -> settled record
    breakdown: Callable[[pd.DataFrame], dict[str, float]]  # record -> money terms and metrics
    power_key: PowerKey
    columns: dict[str, str]  # breakdown key -> printed header, in order
    note: str  # the line printed under the table
    scenario_json: Callable[[Any], dict[str, Any]]  # scenario -> its JSON block
    plot: Callable[[dict[str, pd.DataFrame], Path, str], Any]  # (schedules, path, title) -> file


@dataclass(frozen=True)
class EpisodeCommand:
    """A setting's part of ``batterygym solve``.

    ``add_arguments`` adds the setting's own options (each defaulting to None or False, so a given one
    can be told apart) to the parser; the other settings refuse them, naming them ``owner`` options,
    except those they list in ``borrows``. ``examples`` and ``csv_format`` go into ``--help``.
    """

    owner: str  # how refusals name this setting's options, e.g. "fleet" in "--assets: fleet option(s)"
    add_arguments: Callable[[argparse.ArgumentParser], None]
    adapter: Callable[[], EpisodeAdapter]
    default_days: int  # a generated episode's length when --days is not given
    examples: str  # lines of `batterygym solve ...` examples
    csv_format: str = ""  # what --csv reads for this setting ("" if it reads none)
    borrows: tuple[str, ...] = ()  # other settings' options (dests) this one reads

    def option_dests(self) -> tuple[str, ...]:
        """The ``args`` attributes of the setting's own options, in the order they are added."""
        parser = argparse.ArgumentParser(add_help=False)
        self.add_arguments(parser)
        return tuple(vars(parser.parse_args([])))


def given_options(args: argparse.Namespace, dests: tuple[str, ...]) -> list[str]:
    """The options among ``dests`` given on the command line, as ``--option`` names."""
    return [f"--{k.replace('_', '-')}" for k in dests if getattr(args, k, None) not in (None, False)]


def refuse(args: argparse.Namespace, dests: tuple[str, ...], owner: str, setting: str) -> None:
    """A one-line error naming the options of ``owner`` among ``dests`` given to ``setting``."""
    given = given_options(args, dests)
    if given:
        raise ValueError(f"{', '.join(given)}: {owner} option(s), not for the {setting} setting")


def env_scenarios(setting: str, seeds: Any, **env_kwargs: Any) -> list[Any]:
    """The episodes the setting's env draws for ``seeds`` (``reset(seed=s)`` each), with ``env_kwargs``."""
    import gymnasium as gym

    import batterygym  # noqa: F401 - registers the ids
    from batterygym.settings import SETTINGS

    env = gym.make(SETTINGS[setting].env_id, **env_kwargs).unwrapped
    out = []
    for s in seeds:
        env.reset(seed=s)
        out.append(env.scenario)
    return out
