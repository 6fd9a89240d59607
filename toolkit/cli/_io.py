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

__all__ = ["DASH", "OVERWRITE", "check_stdout", "display", "guard_outputs", "input_argument", "input_path", "is_dash",
           "stdin_file", "stdin_source", "stdout_file"]

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
    if not value.is_file():  # a FIFO, a device, a socket: reading it could block forever or never end
        raise typer.BadParameter(f"File '{value}' is not a regular file (pipe data in with '-').")
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


_PIPE_PREFIX = "sigbench-pipe-"


def _remove_stale_spools() -> None:
    """Remove spool folders of sigbench processes that no longer exist (killed with SIGKILL)."""
    from sigbench.h5 import pid_alive

    root = Path(tempfile.gettempdir())
    try:
        names = [n for n in os.listdir(root) if n.startswith(_PIPE_PREFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(_PIPE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            path = root / name
            if path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid():
                shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``KeyboardInterrupt`` inside the block, so that ``finally`` clauses run."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, old)


@contextlib.contextmanager
def _private_dir() -> Iterator[Path]:
    _remove_stale_spools()
    with _terminate_as_interrupt():
        directory = Path(tempfile.mkdtemp(prefix=f"{_PIPE_PREFIX}{os.getpid()}-"))  # mode 0700
        try:
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def _spool_limit(directory: Path) -> int:
    """Bytes stdin may spool: the memory budget, and never more than the temp folder's free space."""
    from sigbench.h5 import memory_budget_bytes

    limit = memory_budget_bytes()
    try:
        st = os.statvfs(directory)
        limit = min(limit, max(0, st.f_bavail * st.f_frsize - 64 * 2**20))
    except OSError:
        pass
    return limit


def _looks_like_hdf5(head: bytes) -> bool:
    """The HDF5 signature at offset 0, 512, 1024, 2048 … within ``head`` (a user block moves it)."""
    from sigbench.outputs import HDF5_SIGNATURE

    offset = 0
    while offset + 8 <= len(head):
        if head[offset:offset + 8] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


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
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise ValidationError("expected a file piped into stdin for '-'; received: a terminal")
    source = stream.buffer if hasattr(stream, "buffer") else stream
    with _private_dir() as directory:
        limit = _spool_limit(directory)
        target = directory / f"stdin{suffix}"
        total = 0
        with open(target, "wb") as fh:
            while True:
                chunk = source.read(_CHUNK)
                if not chunk:
                    break
                if isinstance(chunk, str):
                    chunk = chunk.encode("latin-1")
                if total == 0 and suffix == ".h5" and len(chunk) >= 8 and not _looks_like_hdf5(chunk):
                    raise FileFormatError("not an HDF5 file: stdin (expected a sigbench HDF5 file, e.g. from "
                                          "`sigbench generate … -o -`)")
                total += len(chunk)
                if total > limit:
                    raise ValidationError(f"expected at most {limit} bytes on stdin (SIGBENCH_MEMORY_BUDGET and the "
                                          "temp folder's free space); received more: write it to a file and pass "
                                          "its path")
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


#: the ``--overwrite`` option of the commands that write results
OVERWRITE: Any = typer.Option(False, "--overwrite", help="Start OUTPUT afresh: drop the runs and signals it "
                              "holds (by default they are kept and the new run is added).")


@contextlib.contextmanager
def guard_outputs(inputs: Any = (), outputs: Any = (), reports: Any = (), *, overwrite: bool = False,
                  resume: bool = False, keep: bool = True) -> Iterator[None]:
    """Check a command's outputs against its inputs, then hold each output's write lock for the command.

    ``overwrite``: the first write of each output drops what it held (``--overwrite``). ``keep``: the
    command builds on an existing output (result writers, ``--append``), so a damaged one is refused now.

    Raises
    ------
    ValidationError
        An output would replace an input, a report would replace an HDF5 file, or ``--overwrite`` was given
        with ``--resume`` (exit 2); nothing has been written.
    WriteError
        An output is a device, FIFO, socket or folder.
    """
    from sigbench.outputs import check_keepable, check_outputs, start_fresh, write_lock

    if overwrite and resume:
        raise ValidationError("expected either --resume (continue OUTPUT's run) or --overwrite (start OUTPUT "
                              "afresh); received: both")
    outs = [p for p in outputs if p is not None and not is_dash(p)]
    check_outputs(inputs, outs, reports)
    if overwrite:
        from sigbench.outputs import same_file

        for out in outs:
            if any(src is not None and not is_dash(src) and same_file(out, src) for src in inputs):
                raise ValidationError(f"expected --overwrite with an output other than the input {out} (it would "
                                      "drop the signal the command reads); received: both")
    with contextlib.ExitStack() as stack:
        for out in outs:
            stack.enter_context(write_lock(out))
            if overwrite:
                start_fresh(out)
            elif keep:
                check_keepable(out)  # a damaged sigbench output is refused before any work
        yield
