"""The README's set-up commands are what CI runs, and every Python block of the README and docs/ runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A ```python block may be skipped only when this comment is the line right before its fence.
NOT_RUN = "<!-- not run: trains for minutes -->"
FENCE = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)


def python_blocks() -> list[tuple[str, int, str, bool]]:
    """(file, line of the fence, code, skipped) for every ```python block of the README and docs/*.md."""
    blocks = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            blocks.append((path.relative_to(ROOT).as_posix(), line, match.group(1), before.strip() == NOT_RUN))
    return blocks


BLOCKS = python_blocks()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = [line for line in ci if "pytest" in line and not line.startswith("#")]
    assert len(command) == 1, command
    assert command[0].strip() in (ROOT / "README.md").read_text()


def test_readme_installs_cpu_torch_before_the_rl_extra():
    text = (ROOT / "README.md").read_text()
    assert text.index("pip install -q torch==2.13.0") < text.index('pip install -q -e ".[rl,dev]"')


def test_every_not_run_marker_precedes_a_python_block():
    """A stray marker (before prose or a bash block) would skip nothing and mislead the reader."""
    for path in DOCS:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() == NOT_RUN:
                assert i + 1 < len(lines) and lines[i + 1] == "```python", f"{path.name}:{i + 1}"


def test_the_docs_have_python_blocks_and_an_economics_example():
    assert len(BLOCKS) >= 4, BLOCKS
    assert any("batterygym.economics" in code for _, _, code, _ in BLOCKS)


@pytest.mark.parametrize(("where", "line", "code", "skipped"), BLOCKS,
                         ids=[f"{where}:{line}" for where, line, _, _ in BLOCKS])
def test_python_block_runs(where, line, code, skipped, tmp_path, monkeypatch, capsys):
    """Each block runs as written, on its own, in a fresh namespace and an empty working directory."""
    if skipped:
        pytest.skip(f"{where}:{line} is marked {NOT_RUN}")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{where}:{line}", "exec"), {"__name__": "__readme__"})
    if "batterygym.economics" in code:  # the economics example prints the lifetime rows, uncapped first
        assert "[(None," in capsys.readouterr().out


def test_relative_links_point_at_files():
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", path.read_text()):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
