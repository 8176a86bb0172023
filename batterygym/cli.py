"""The ``batterygym`` command: parses arguments and hands each command to the module that owns it.

Bad input (a ValueError from validation, a missing file) prints one line and exits with status 2,
without a traceback; a solver failure exits with status 3.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command path -> module owning it ("module" or "module:object"); it has add_arguments(parser) and run(args) -> int
COMMANDS = {
    ("solve",): ("batterygym.benchmarks.episode", "Solve one episode: costs of idle, heuristics and the optimum"),
    ("train",): ("batterygym.agents.train", "Train PPO or SAC on an env and save the run"),
    ("evaluate",): ("batterygym.agents.evaluate", "Score a trained run on held-out episodes against the optimum"),
    ("benchmark",): ("batterygym.benchmarks.benchmark",
                     "Train/load PPO and SAC, run the baseline ladder, print the regret table (the main job)"),
    ("benchmark", "speed"): ("batterygym.benchmarks.speed",
                             "Env and vector env steps/s, MILP build/solve seconds, against their targets"),
    ("size",): ("batterygym.benchmarks.economics_cli:SIZE",
                "Size storage: an industrial site's battery for its year (capacity, power, payback, NPV, IRR) or "
                "a microgrid's second-life packs per category"),
    ("lifetime",): ("batterygym.benchmarks.economics_cli:LIFETIME",
                    "Life of the pack under throughput caps: cycles, fade, years to end of life, NPV"),
    ("economics",): ("batterygym.benchmarks.microgrid_economics",
                     "A year of the BSS microgrid, integrated and standalone: capex, cash flows, payback, NPV, "
                     "IRR, shares, the packs' life cycle"),
    ("sweep",): ("batterygym.benchmarks.economics_cli:SWEEP",
                 "Re-solve for each value of a parameter; the break-even tariff spread or pack price"),
    ("dataset",): ("batterygym.scale.dataset",
                   "Solve the optimum of every episode of a seed range; write observations, optimal actions and "
                   "rewards as Parquet (behaviour cloning, offline RL)"),
    ("tune",): ("batterygym.scale.tune",
                "Search an agent's hyper-parameters with Ray Tune on validation seeds; write the best as TOML"),
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help says its default, unless it already does or there is none to say."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        if "default" in text or d is None or d is False or d == argparse.SUPPRESS or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    from batterygym import __version__

    parser = argparse.ArgumentParser(
        prog="batterygym",
        description="Battery-dispatch Gymnasium envs with exact MILP optima.",
    )
    parser.add_argument("--version", action="version", version=f"batterygym {__version__}")
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers: dict[str, argparse.ArgumentParser] = {}
    children: dict[str, argparse._SubParsersAction] = {}
    for path, (module, help_text) in COMMANDS.items():
        if len(path) == 1:
            sub = top.add_parser(path[0], help=help_text, description=help_text)
            parsers[path[0]] = sub
        else:  # a sub-command of a command, e.g. `benchmark speed`
            if path[0] not in children:
                children[path[0]] = parsers[path[0]].add_subparsers(dest="subcommand", required=False,
                                                                    metavar="WHAT")
            sub = children[path[0]].add_parser(path[1], help=help_text, description=help_text)
        try:
            name, _, attr = module.partition(":")
            mod = importlib.import_module(name)
            mod = getattr(mod, attr) if attr else mod
        except ImportError as exc:  # one broken command must not take the others down
            sub.set_defaults(_run=_unavailable(" ".join(path), exc))
            continue
        mod.add_arguments(sub)
        sub.formatter_class = HelpFormatter
        sub.set_defaults(_run=mod.run)
    return parser


def _unavailable(command: str, exc: ImportError):
    def run(_args: argparse.Namespace) -> int:
        raise ImportError(f"`batterygym {command}` is unavailable: {exc}")

    return run


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from batterygym.baselines.plan import SolverError
    from batterygym.scale.tasks import TaskError

    try:
        return int(args._run(args) or 0)
    except TaskError as exc:
        print(f"batterygym: {exc}", file=sys.stderr)
        return 3
    except SolverError as exc:
        print(f"batterygym: solver failed: {exc}", file=sys.stderr)
        return 3
    except (ValueError, FileNotFoundError, ImportError) as exc:  # not TypeError: that is a bug, with its traceback
        print(f"batterygym: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
