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
