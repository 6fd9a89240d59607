"""The ``sigbench`` command line: a typer app composed of one module per command group.

Errors are converted at exactly one boundary (:class:`SigbenchGroup.invoke`): a
:class:`~sigbench.errors.SigbenchError` becomes one line ``Error: …`` on stderr and the exit code of
:class:`ExitCode`; an unexpected exception becomes one line too, unless ``--debug``/``SIGBENCH_DEBUG=1``
(or a test) asks for the traceback. Usage errors are typer's (exit 2); Ctrl-C exits 130 with a hint to
rerun with ``--resume``. The global options (``-q``, ``-v``, ``--debug``) are accepted before or after the
command (:func:`sigbench.cli._options.add_global_options`).
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from collections.abc import Iterator
from typing import Any, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import typer
from typer.core import TyperGroup

from sigbench._version import __version__
from sigbench.cli._common import debug_enabled, escape, interrupt_message, set_debug, set_resumable
from sigbench.cli._options import GLOBAL_OPTIONS, add_global_options
from sigbench.console import get_console, set_quiet, set_verbose
from sigbench.errors import SigbenchError

__all__ = ["INTERRUPTED_MESSAGE", "ExitCode", "app", "main"]


class ExitCode(enum.IntEnum):
    """Exit codes of every sigbench command."""

    #: success
    OK = 0
    #: a domain error (bad file, failed write, plugin error) or an unexpected crash
    ERROR = 1
    #: usage error: bad option value, unknown option, invalid parameter
    USAGE = 2
    #: the comparison finished but at least one method failed (its row is marked ``failed``)
    METHOD_FAILED = 3
    #: interrupted (Ctrl-C / SIGINT, SIGTERM); completed results were kept
    INTERRUPTED = 130
    #: stdout was closed by its reader (``| head``): the command stopped quietly, as ``cat`` does (128 + SIGPIPE)
    BROKEN_PIPE = 141


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _error(message: str) -> None:
    get_console().print(f"[bold red]Error:[/] {escape(_one_line(message))}", soft_wrap=True)


#: printed on Ctrl-C/SIGTERM (exit 130) by a command that writes an output file
INTERRUPTED_MESSAGE = interrupt_message(True)


@contextlib.contextmanager
def _warnings_to_console() -> Iterator[None]:
    """Show Python warnings (numpy overflow, matplotlib, a plugin's ``warnings.warn``) as one escaped line
    ``Warning: …`` on the console, without source paths; ``--debug`` adds where it was raised."""
    import warnings

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        text = _one_line(str(message)) or category.__name__
        if category not in (UserWarning, RuntimeWarning) or debug_enabled():
            text = f"{category.__name__}: {text}"
        if debug_enabled():
            text += f" ({filename}:{lineno})"
        get_console().print(f"[yellow]Warning:[/] {escape(text)}", soft_wrap=True)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _silence_stdout() -> None:
    """Point stdout at ``/dev/null`` after its reader went away, so that the interpreter's final flush does not
    complain (the recipe of Python's ``signal`` documentation for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner): nothing to flush
        pass


def _leave_if_hdf5_damaged(code: int) -> None:
    """After a failed HDF5 write (disk full, file too large), freeing the file's h5py objects can crash the
    interpreter: leave now, with ``code``, without running finalisers (the temp file is already removed)."""
    from sigbench.h5 import hdf5_state_damaged

    if hdf5_state_damaged() and not getattr(sys, "_called_from_test", False):  # never end a test runner
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(int(code))


class SigbenchGroup(TyperGroup):
    """Root group: converts exceptions to one-line errors and exit codes; gives every sub-command the
    global options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            add_global_options(command)

    def invoke(self, ctx: Any) -> Any:
        try:
            with _warnings_to_console():
                return super().invoke(ctx)
        except SigbenchError as exc:
            if debug_enabled():
                import traceback

                traceback.print_exc()
            _error(str(exc))
            _leave_if_hdf5_damaged(exc.exit_code)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            get_console().print(interrupt_message(), soft_wrap=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except Exception as exc:
            # Click-style exceptions raised by third-party plugin commands (a real `click` install)
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                if type(exc).__name__ in ("Exit",):
                    raise typer.Exit(int(exc.exit_code)) from None
                _error(exc.format_message())
                raise typer.Exit(int(exc.exit_code)) from None
            if type(exc).__module__.startswith("typer"):
                raise
            if debug_enabled() or getattr(sys, "_called_from_test", False):
                raise
            _error(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
            raise typer.Exit(ExitCode.ERROR) from None


app = typer.Typer(
    name="sigbench",
    cls=SigbenchGroup,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"sigbench {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Show the version and exit."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=GLOBAL_OPTIONS[0][2]),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=GLOBAL_OPTIONS[1][2]),
    debug: bool = typer.Option(False, "--debug", help=GLOBAL_OPTIONS[2][2]),
) -> None:
    """sigbench: can a neural network replace this DSP algorithm, and at what cost?

    Generate or import signals into HDF5 files, run neural and DSP methods on one fair protocol, and
    compare accuracy and cost. Tables and progress go to stderr; --json output alone to stdout.
    -q, -v and --debug also work after the command.

    \b
    Example: sigbench demo --fast
    """
    set_debug(debug)
    set_quiet(quiet)
    set_verbose(verbose)
    set_resumable(None)


def _compose() -> None:
    from sigbench.cli import bench, data, export_cmd, export_data, pipeline_cmd, plugins_cmd, report

    data.register(app)
    bench.register(app)
    report.register(app)
    export_data.register(app)
    export_cmd.register(app)
    app.add_typer(plugins_cmd.plugins_app, name="plugins")
    app.add_typer(pipeline_cmd.pipeline_app, name="pipeline")
    _plugin_commands()


def _plugin_commands() -> None:
    """Let plugins add commands (``register_commands``); a failing plugin is recorded, not fatal.

    Only entry points can add commands (no built-in plugin implements ``register_commands``), so only
    they are loaded here: building the CLI imports no built-in plugin, and with them no NumPy.
    """
    from sigbench.host import get_host

    host = get_host()
    try:
        host.load_entry_points()
    except Exception as exc:  # a built-in failed to import (a bug), or SIGBENCH_STRICT_PLUGINS re-raised
        if debug_enabled() or host.strict:
            raise
        _error(f"plugins failed to load: {exc}")
        return
    for impl in host.pm.hook.register_commands.get_hookimpls():  # registration order
        try:
            impl.function(app=app)
        except (Exception, SystemExit) as exc:  # SystemExit: a plugin must not end every command
            if host.strict:
                raise
            from sigbench.host import BrokenPlugin, exception_line

            package = host.package_of(impl.plugin_name)
            message = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else exception_line(exc)
            host.broken.append(BrokenPlugin(impl.plugin_name, package, message, "register_commands"))


_compose()


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return app(args=argv, prog_name="sigbench")
