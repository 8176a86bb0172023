"""The README's set-up commands are what CI runs."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = [line for line in ci if "pytest" in line and not line.startswith("#")]
    assert len(command) == 1, command
    assert command[0].strip() in (ROOT / "README.md").read_text()


def test_readme_installs_cpu_torch_before_the_rl_extra():
    text = (ROOT / "README.md").read_text()
    assert text.index("pip install -q torch==2.13.0") < text.index('pip install -q -e ".[rl,dev]"')


def test_readme_economics_block_runs(capsys):
    """The README's Python example of the economics API runs as written."""
    import re

    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "batterygym.economics" in b]
    assert blocks, "the README has no batterygym.economics example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "[(None," in capsys.readouterr().out
