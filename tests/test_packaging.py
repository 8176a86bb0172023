"""The wheel ships batterygym's data files, and CI builds that wheel and smoke-tests it.

Fast and offline: it reads pyproject.toml and .ci/run, it builds nothing (.ci/run does that).
"""
from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "batterygym"
CI = ROOT / ".ci" / "run"


def _package_data_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = config["tool"]["setuptools"]["package-data"]
    return list(package_data.get("batterygym", [])) + list(package_data.get("*", []))


def _data_files() -> list[str]:
    return sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    )


def test_the_hyperparams_are_data_files():
    assert {"agents/hyperparams/ppo.toml", "agents/hyperparams/sac.toml"} <= set(_data_files())


@pytest.mark.parametrize("relpath", _data_files())
def test_every_data_file_is_declared_as_package_data(relpath):
    patterns = _package_data_patterns()
    assert any(fnmatch.fnmatch(relpath, pattern) for pattern in patterns), (
        f"batterygym/{relpath} is not in the wheel: add a pattern to "
        f'[tool.setuptools.package-data] "batterygym" in pyproject.toml (now {patterns})'
    )


def _ci_lines() -> list[str]:
    lines = (line.strip() for line in CI.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_ci_lints_builds_the_wheel_and_smoke_tests_it_after_the_tests():
    lines = _ci_lines()
    text = "\n".join(lines)
    test_line = next(i for i, line in enumerate(lines) if "pytest" in line)

    def position(snippet: str) -> int:
        # after the test command, which creates .venv (and installs torch there too)
        found = [i for i, line in enumerate(lines) if snippet in line and i > test_line]
        assert found, f".ci/run does not run {snippet!r} after the test command"
        return found[0]

    assert "set -euo pipefail" in text
    position("ruff check batterygym tests")
    build = position('pip wheel -q --no-deps . -w "$tmp')
    venv = position('python3 -m venv "$tmp')
    torch = position("pip install -q torch==2.13.0")
    wheel = position('pip install -q "$wheel[rl]"')
    cd = position('cd "$tmp')
    solve = position("batterygym solve industrial --seed 0")
    train = position("batterygym train --env batterygym/Industrial-v0 --algo ppo --steps 500")
    evaluate = position("batterygym evaluate ")
    assert build < venv < torch < wheel < cd < solve < train < evaluate
    # the closing line the harness reads
    assert re.fullmatch(r'echo "smoke: \$\w+ passed, 0 failed"', lines[-1]), lines[-1]


def _smoke_commands() -> list[list[str]]:
    commands = [shlex.split(line) for line in _ci_lines() if line.startswith("batterygym ")]
    return [[arg.replace("$tmp", "/tmp/smoke") for arg in command[1:]] for command in commands]


def test_ci_smoke_commands_parse_with_the_real_cli_options():
    pytest.importorskip("stable_baselines3")  # without the rl extra train/evaluate have no options
    from batterygym.cli import build_parser

    commands = _smoke_commands()
    assert [command[0] for command in commands] == ["solve", "train", "evaluate"]
    parser = build_parser()
    parsed = {command[0]: parser.parse_args(command) for command in commands}
    assert parsed["train"].steps == 500
    assert parsed["evaluate"].run_dir == parsed["train"].out  # evaluates the run it trained
    assert parsed["evaluate"].episodes == 1  # the fewest the evaluate command allows
