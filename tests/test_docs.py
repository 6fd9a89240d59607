"""Docs that are generated from code stay current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    env = {**os.environ, "COLUMNS": "100"}
    cog = Path(sys.executable).with_name("cog")
    proc = subprocess.run([str(cog), "--check", str(ROOT / "docs" / "cli.md")], env=env, capture_output=True,
                          text=True)
    stale = "docs/cli.md is stale: run `COLUMNS=100 cog -r docs/cli.md`\n"
    assert proc.returncode == 0, stale + proc.stdout + proc.stderr


def _python_blocks(text: str, heading: str) -> list[str]:
    """The ```python blocks of the section ``heading`` (up to the next heading of the same level)."""
    level = heading.split(" ", 1)[0]
    section = text.split(heading, 1)[1].split(f"\n{level} ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]


def test_the_processor_contract_examples_run(host):
    """Every example of docs/plugins.md's processor contract runs, in order, as written."""
    blocks = _python_blocks((ROOT / "docs" / "plugins.md").read_text(), "## The processor contract")
    assert len(blocks) >= 7
    namespace: dict[str, object] = {}
    exec(compile("\n".join(blocks), "docs/plugins.md", "exec"), namespace)


def test_readme_and_tutorial_numbers_come_from_the_recorded_demo():
    """The README's demo table and the tutorial's claims are rendered from docs/results/demo.json by cog."""
    cog = Path(sys.executable).with_name("cog")
    proc = subprocess.run([str(cog), "--check", str(ROOT / "README.md"), str(ROOT / "docs" / "tutorial.md")],
                          capture_output=True, text=True, cwd=ROOT)
    stale = "README.md/docs/tutorial.md are stale: run `cog -r README.md docs/tutorial.md`\n"
    assert proc.returncode == 0, stale + proc.stdout + proc.stderr
