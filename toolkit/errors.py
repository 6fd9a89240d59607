"""Exceptions raised by sigbench.

Every class here is **shown to the user**: the CLI turns a :class:`SigbenchError` into a one-line
``Error: …`` on stderr and the exit code named by its ``exit_code`` attribute (see
:class:`sigbench.cli.ExitCode`). Anything that is not a ``SigbenchError`` is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConfigError",
    "DivergedError",
    "FileFormatError",
    "MissingDependencyError",
    "PluginError",
    "ProcessorError",
    "SigbenchError",
    "UnknownNameError",
    "UnsafeFileError",
    "ValidationError",
    "WriteError",
]


class SigbenchError(Exception):
    """Base class of every error shown to the user as one line."""

    #: exit code the CLI uses for this error (1: error, 2: usage)
    exit_code: int = 1


class ValidationError(SigbenchError, ValueError):
    """A parameter or a piece of data has a value sigbench cannot accept.

    The message says what was expected and echoes what was received: ``expected …; received: name=value``.
    """

    exit_code = 2


class ConfigError(ValidationError):
    """A method, task or option specification cannot be parsed or does not fit together."""


class UnknownNameError(SigbenchError, KeyError):
    """No source, processor, task or metric is registered under the requested name (a usage error: the
    message suggests the closest registered name)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError quotes its message; keep it a plain line
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(SigbenchError, ImportError):
    """An optional dependency a command needs is not installed (e.g. matplotlib for reports); the message
    names the extra to install."""


class FileFormatError(SigbenchError):
    """A file is not a readable sigbench HDF5 file (not HDF5, truncated, wrong version, bad content)."""


class UnsafeFileError(FileFormatError):
    """A file holds a structure sigbench refuses to follow (links, external storage, shape bombs)."""


class WriteError(SigbenchError):
    """An output file could not be written; the previous file, if any, is untouched."""


class PluginError(SigbenchError):
    """A plugin failed to load or registered something invalid (named by plugin and package)."""


class ProcessorError(SigbenchError):
    """A processor failed while fitting or predicting."""


class BackendError(ProcessorError):
    """A neural backend (Keras + TensorFlow, JAX or torch) is not installed, or cannot be imported here.

    The message names the pip extra to install (``sigbench[tensorflow]``) or the memory it lacks. It
    fails the neural rows of a comparison only; every other method runs.
    """


class DivergedError(ProcessorError):
    """An adaptive filter diverged (non-finite or exploding error)."""

    def __init__(self, message: str, *, sample: int | None = None) -> None:
        super().__init__(message)
        self.sample = sample
