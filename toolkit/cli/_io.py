"""Shell pipes for the CLI: ``-`` reads a signal file from stdin, ``-o -`` writes the HDF5 file to stdout.

HDF5 needs a seekable file, so stdin is copied into a private temporary folder first (``0700``, removed
afterwards, at most :func:`~sigbench.h5.memory_budget_bytes` bytes), and output is written to a temporary
file which is copied to ``sys.stdout.buffer`` only once the command has succeeded. Binary output is never
written to a terminal. Path arguments that accept ``-`` are checked by :func:`input_path` with typer's own
wording (``Invalid value for 'FILE': File '…' does not exist.``, exit 2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

from sigbench.errors import FileFormatError, ValidationError

__all__ = ["DASH", "check_stdout", "display", "input_argument", "input_path", "is_dash", "stdin_file",
           "stdin_source", "stdout_file"]

DASH = "-"
_CHUNK = 1 << 20


def is_dash(path: Any) -> bool:
    """True for ``-`` (stdin/stdout)."""
    return path is not None and str(path) == DASH


def display(path: Any, stream: str = "stdout") -> str:
    """How to name ``path`` in messages: ``stdin``/``stdout`` for ``-``."""
    return stream if is_dash(path) else str(path)


def input_path(value: Optional[Path]) -> Optional[Path]:
    """Typer callback: ``-`` passes; otherwise the path must be an existing, readable file (exit 2)."""
    if value is None or is_dash(value):
        return value
    if not value.exists():
        raise typer.BadParameter(f"File '{value}' does not exist.")
    if value.is_dir():
        raise typer.BadParameter(f"File '{value}' is a directory.")
    if not os.access(value, os.R_OK):
        raise typer.BadParameter(f"File '{value}' is not readable.")
    return value


def input_argument(help: str) -> Any:
    """A ``FILE`` argument that also accepts ``-`` (stdin)."""
    return typer.Argument(..., callback=input_path, metavar="FILE", help=f"{help} '-' reads it from stdin.")


def check_stdout(output: Any, *, json_out: bool = False) -> None:
    """Refuse ``-o -`` when stdout is a terminal, or together with ``--json`` (both want stdout).

    Raises
    ------
    ValidationError
        A usage error (exit 2), before any work is done.
    """
    if not is_dash(output):
        return
    if json_out:
        raise ValidationError("expected either --json or -o - (both write to stdout); received: both")
    if sys.stdout.isatty():
        raise ValidationError("refusing to write binary HDF5 to a terminal; redirect stdout (-o - > file.h5) "
                              "or pipe it into another command (-o - | sigbench info -)")


@contextlib.contextmanager
def _private_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="sigbench-pipe-"))  # mode 0700
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def stdin_file(path: Path, *, suffix: str = ".h5") -> Iterator[Path]:
    """``path``, or for ``-`` a private temporary copy of stdin (removed on exit).

    Raises
    ------
    ValidationError
        Stdin is a terminal (nothing piped in), or holds more than the memory budget
        (``SIGBENCH_MEMORY_BUDGET``).
    FileFormatError
        Stdin is empty.
    """
    if not is_dash(path):
        yield path
        return
    from sigbench.h5 import memory_budget_bytes

    stream = sys.stdin
    if stream is None or stream.isatty():
        raise ValidationError("expected a file piped into stdin for '-'; received: a terminal")
    limit = memory_budget_bytes()
    source = stream.buffer if hasattr(stream, "buffer") else stream
    with _private_dir() as directory:
        target = directory / f"stdin{suffix}"
        total = 0
        with open(target, "wb") as fh:
            while True:
                chunk = source.read(_CHUNK)
                if not chunk:
                    break
                if isinstance(chunk, str):
                    chunk = chunk.encode("latin-1")
                total += len(chunk)
                if total > limit:
                    raise ValidationError(f"expected at most {limit} bytes on stdin (SIGBENCH_MEMORY_BUDGET); "
                                          "received more: write it to a file and pass its path")
                fh.write(chunk)
        if total == 0:
            raise FileFormatError("stdin is empty; expected a sigbench HDF5 file (e.g. from `sigbench generate "
                                  "… -o -`)")
        yield target


@contextlib.contextmanager
def stdin_source(source: str) -> Iterator[str]:
    """A source name unchanged, or for ``-`` the path of a private temporary copy of stdin (as a string)."""
    if not is_dash(source):
        yield source
        return
    with stdin_file(Path(source)) as path:
        yield str(path)


@contextlib.contextmanager
def stdout_file(path: Optional[Path], *, suffix: str = ".h5") -> Iterator[Optional[Path]]:
    """``path``, or for ``-`` a private temporary file whose bytes go to stdout when the block succeeds.

    Call :func:`check_stdout` before doing any work; nothing reaches stdout if the block raises.
    """
    if not is_dash(path):
        yield path
        return
    with _private_dir() as directory:
        target = directory / f"stdout{suffix}"
        yield target
        if not target.exists():
            return
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        with open(target, "rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                if out is not None:
                    out.write(chunk)
                else:  # a text-only stdout (a test runner): best effort
                    sys.stdout.write(chunk.decode("latin-1"))
        sys.stdout.flush()
