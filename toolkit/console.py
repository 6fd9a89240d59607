"""Where sigbench talks to people: one rich console on **stderr**, and the quiet switch.

Tables, progress and warnings go to stderr so that ``--json`` output is alone on stdout. ``NO_COLOR``
and a non-TTY stderr turn colours off (rich honours both).

How much is said is one of three levels:

- **quiet** (``--quiet``/``--json``, ``SIGBENCH_QUIET=1``): no progress at all;
- **normal** (the CLI's default): one line per finished fit (the runner's line; a neural network adds its
  epochs run and final loss), a transient progress bar on a terminal;
- **verbose** (``--verbose``, ``SIGBENCH_VERBOSE=1``): also one line per training epoch off a terminal.

The Python API says nothing unless asked: until :func:`set_quiet`/:func:`set_verbose` (the CLI calls them)
or :func:`verbosity` choose a level, progress is shown only when the ``sigbench`` logger is enabled for
``INFO`` (``logging.basicConfig(level=logging.INFO)``), and per-epoch lines only for ``DEBUG``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["CellProgress", "escape", "get_console", "is_quiet", "is_verbose", "set_quiet", "set_verbose",
           "training_summary", "verbosity"]

#: None: not chosen (the Python API: ask the ``sigbench`` logger); True/False: chosen by the CLI or the caller
_QUIET: bool | None = None
_VERBOSE: bool | None = None
_LOGGER = logging.getLogger("sigbench")
#: C0 controls but tab (newline included: a name must not start a line of its own), DEL and C1 controls:
#: ESC/CSI/OSC sequences, BEL, carriage return …
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: bidirectional controls (U+202E "right-to-left override" makes ``exe.txt`` read ``txt.exe``), zero-width
#: marks and the line/paragraph separators
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def escape(text: Any) -> str:
    """Make text that came from a file, a plugin or an error message safe to hand to rich: console markup
    is escaped (``[bold]`` prints as typed), control characters (newlines included) are shown as ``\\xNN``
    and bidirectional or invisible format characters as ``\\uNNNN``, so a file cannot colour, hide, reorder,
    retitle or rewrite the user's terminal, nor print a line that looks like sigbench's own."""
    from rich.markup import escape as _escape_markup  # rich loads on first output, not at start-up

    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return _escape_markup(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


@lru_cache(maxsize=1)
def get_console() -> Console:
    """The stderr console (created once; rich is imported here, so ``sigbench --help`` never imports it)."""
    import sys

    from rich.console import Console

    width = None
    if not os.environ.get("COLUMNS") and not sys.stderr.isatty():
        width = 160  # logs and CI: wide enough for the leaderboard without wrapping every cell
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False, width=width)


def _env_on(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def set_quiet(quiet: bool | None) -> None:
    """Silence (``True``) or re-enable (``False``) progress output; ``None``: back to the library default
    (silent unless the ``sigbench`` logger is enabled for ``INFO``)."""
    global _QUIET
    _QUIET = None if quiet is None else bool(quiet)


def set_verbose(verbose: bool | None) -> None:
    """Per-epoch training lines off a terminal (``True``), or one line per fit (``False``); ``None``: the
    library default (per-epoch lines only when the ``sigbench`` logger is enabled for ``DEBUG``)."""
    global _VERBOSE
    _VERBOSE = None if verbose is None else bool(verbose)


def is_quiet() -> bool:
    """True under ``--quiet``/``--json``, ``SIGBENCH_QUIET=1``, and in the Python API unless progress was
    asked for (:func:`set_quiet`, :func:`verbosity`, or the ``sigbench`` logger enabled for ``INFO``)."""
    if _env_on("SIGBENCH_QUIET"):
        return True
    if _QUIET is not None:
        return _QUIET
    return not (_VERBOSE or _LOGGER.isEnabledFor(logging.INFO))


def is_verbose() -> bool:
    """True when per-epoch training lines are wanted: ``--verbose``, ``SIGBENCH_VERBOSE=1``, or the
    ``sigbench`` logger enabled for ``DEBUG`` (never while quiet)."""
    if is_quiet():
        return False
    if _env_on("SIGBENCH_VERBOSE"):
        return True
    if _VERBOSE is not None:
        return _VERBOSE
    return _LOGGER.isEnabledFor(logging.DEBUG)


@contextlib.contextmanager
def verbosity(verbose: bool | int | None) -> Iterator[None]:
    """Choose how much a block says, then restore the previous choice (the ``verbose=`` argument of the
    Python API).

    Parameters
    ----------
    verbose : bool, int or None
        ``None``: leave the current choice; ``False``/``0``: silent; ``True``/``1``: one line per fit;
        ``2``: also one line per training epoch.

    Examples
    --------
    >>> from sigbench.console import is_quiet, verbosity
    >>> with verbosity(False):
    ...     is_quiet()
    True
    """
    global _QUIET, _VERBOSE
    saved = (_QUIET, _VERBOSE)
    if verbose is not None:
        level = int(verbose)
        _QUIET, _VERBOSE = level <= 0, level >= 2
    try:
        yield
    finally:
        _QUIET, _VERBOSE = saved


_ENGINE_LINES = {"on": False}


def engine_reports_fits() -> bool:
    """Whether the run engine prints one line per fit itself (a processor then prints no summary of its own)."""
    return _ENGINE_LINES["on"]


@contextlib.contextmanager
def engine_fit_lines() -> Iterator[None]:
    """While active, fits are summarised by the engine's one line per fit (see :func:`engine_reports_fits`)."""
    saved = _ENGINE_LINES["on"]
    _ENGINE_LINES["on"] = True
    try:
        yield
    finally:
        _ENGINE_LINES["on"] = saved


def training_summary(training: dict[str, Any]) -> str:
    """One line about a finished training run: epochs run, final losses, seconds.

    Parameters
    ----------
    training : dict
        A neural processor's training record (``describe()["training"]`` style keys): ``epochs_run``,
        ``epochs`` (asked for, optional), ``stopped_early``, ``final_loss``, ``final_val_loss`` (optional),
        ``train_s`` (seconds, optional).

    Returns
    -------
    str
        e.g. ``"44/50 epochs (stopped early), loss 0.00274, val loss 0.00459, 9.4 s"``; ``""`` for an empty record.

    Examples
    --------
    >>> training_summary({"epochs_run": 20, "epochs": 20, "final_loss": 0.01234, "train_s": 1.5})
    '20/20 epochs, loss 0.0123, 1.5 s'
    """
    if not training or "epochs_run" not in training:
        return ""
    run = int(training["epochs_run"])
    asked = training.get("epochs")
    parts = [f"{run}/{int(asked)} epochs" if asked else f"{run} epochs"]
    if training.get("stopped_early"):
        parts[0] += " (stopped early)"
    for key, label in (("final_loss", "loss"), ("final_val_loss", "val loss")):
        value = training.get(key)
        if value is not None and value == value:  # not NaN
            parts.append(f"{label} {float(value):.3g}")
    if training.get("train_s") is not None:
        parts.append(f"{float(training['train_s']):.1f} s")
    return ", ".join(parts)


class CellProgress:
    """Cells done / running / failed of a comparison or sweep run on an executor.

    On a terminal (and not quiet) a transient rich bar shows ``done/total``, how many cells are running
    (at most ``slots``, the executor's parallel workers) and how many failed; elsewhere it shows nothing
    (the runner prints one line per finished cell). The counters are kept either way.
    """

    def __init__(self, total: int, slots: int = 1) -> None:
        self.total, self.slots = int(total), max(1, int(slots))
        self.done = 0
        self.failed = 0
        self._progress: Any = None
        self._task: Any = None

    @property
    def running(self) -> int:
        """Cells in flight: every slot busy while enough cells remain."""
        return min(self.slots, self.total - self.done)

    def __enter__(self) -> CellProgress:
        console = get_console()
        if self.total and not is_quiet() and console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("cells"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("running {task.fields[running]} · failed {task.fields[failed]}"),
                                      TimeElapsedColumn(), console=console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("cells", total=self.total, running=self.running, failed=0)
        return self

    def advance(self, failed: bool = False) -> None:
        """One more cell finished (``failed``: as a failed cell)."""
        self.done += 1
        self.failed += int(bool(failed))
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, running=self.running, failed=self.failed)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
