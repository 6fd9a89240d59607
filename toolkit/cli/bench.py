"""Comparison commands: ``run``, ``compare``, ``sweep``, ``demo`` (added with the comparison engine)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the comparison commands to ``app``."""
