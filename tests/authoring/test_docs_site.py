"""The documentation site: complete API page, current generated sections, a nav over every page, a strict build."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sigbench
import sigbench.testing
import sigbench.testing.pytest_plugin as pytest_plugin

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_api_page_mentions_every_public_name():
    text = (DOCS / "api.md").read_text()
    missing = [n for n in sigbench.__all__ if f"`sigbench.{n}`" not in text]
    assert not missing, f"docs/api.md lacks {missing}: run `cog -r docs/api.md`"
    testing = [n for n in sigbench.testing.__all__ if callable(getattr(sigbench.testing, n))]
    missing = [n for n in testing if f"`sigbench.testing.{n}`" not in text]
    assert not missing, f"docs/api.md lacks sigbench.testing.{missing}: run `cog -r docs/api.md`"


def test_api_page_is_current():
    cog = Path(sys.executable).with_name("cog")
    proc = subprocess.run([str(cog), "--check", str(DOCS / "api.md")], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=False)
    assert proc.returncode == 0, "docs/api.md is stale: run `cog -r docs/api.md`\n" + proc.stdout + proc.stderr


def test_nav_lists_every_page_and_only_existing_ones():
    config = (ROOT / "mkdocs.yml").read_text()
    listed = re.findall(r":\s*([\w./-]+\.md)\s*$", config, flags=re.MULTILINE)
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(listed)) == pages, "mkdocs.yml nav and docs/*.md differ"


def test_plugin_guide_covers_the_commands_and_fixtures():
    text = (DOCS / "plugins.md").read_text()
    for needle in ("sigbench plugins new", "sigbench plugins validate", "pip install -e", "sigbench compare",
                   "entry point", "check_processor", "check_source",
                   "check_metric", "conformance"):
        assert needle in text, needle
    for fixture in pytest_plugin.__all__:
        assert f"`{fixture}`" in text, f"docs/plugins.md does not document the fixture {fixture}"


def test_strict_build(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    # `python -m mkdocs`, as `make docs` runs it: with the `mkdocs` script, the venv's bin/ is first on
    # sys.path and mkdocstrings' finder would take the `sigbench` console script for the package
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f",
                           str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")], capture_output=True, text=True,
                          check=False, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "plugins" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "Parameters" in api and "Returns" in api  # mkdocstrings rendered the numpydoc sections
