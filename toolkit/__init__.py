"""sigbench: can a neural network replace this DSP algorithm, and at what cost?

The public Python API. Importing ``sigbench`` never imports TensorFlow or Keras; neural processors
import Keras when they are built.

>>> import sigbench as sb
>>> sig = sb.generate("sines", n=500, snr_db=10, seed=0)
>>> sig.n_samples
500
"""

from __future__ import annotations

from typing import Any

from sigbench._version import __version__
from sigbench.errors import (
    BackendError,
    ConfigError,
    DivergedError,
    FileFormatError,
    PluginError,
    ProcessorError,
    SigbenchError,
    UnknownNameError,
    UnsafeFileError,
    ValidationError,
    WriteError,
)
from sigbench.hookspecs import hookimpl
from sigbench.processor import Processor
from sigbench.registry import (
    generate,
    get_metric,
    get_processor,
    get_source,
    get_task,
    list_metrics,
    list_processors,
    list_sources,
    list_tasks,
    load_source,
)
from sigbench.signal import Signal
from sigbench.windows import Windows, sliding_windows

_LAZY = {
    "save_signal": "sigbench.h5",
    "load_signal": "sigbench.h5",
    "open_signal": "sigbench.h5",
    "list_signals": "sigbench.h5",
    "file_info": "sigbench.h5",
    "Task": "sigbench.tasks",
    "TaskData": "sigbench.tasks",
    "compare": "sigbench.engine",
    "run_method": "sigbench.engine",
    "sweep": "sigbench.engine",
    "Results": "sigbench.results",
    "load_results": "sigbench.results",
    "chain": "sigbench.chains",
    "stream_run": "sigbench.streaming",
    "stream_generate": "sigbench.streamgen",
    "stream_compare": "sigbench.streaming",
    "stream_import": "sigbench.datasets.stream_import",
    "FileWindows": "sigbench.file_windows",
}

__all__ = [
    "BackendError",
    "ConfigError",
    "DivergedError",
    "FileFormatError",
    "FileWindows",
    "PluginError",
    "Processor",
    "ProcessorError",
    "Results",
    "SigbenchError",
    "Signal",
    "Task",
    "TaskData",
    "UnknownNameError",
    "UnsafeFileError",
    "ValidationError",
    "Windows",
    "WriteError",
    "__version__",
    "chain",
    "compare",
    "file_info",
    "generate",
    "get_metric",
    "get_processor",
    "get_source",
    "get_task",
    "hookimpl",
    "list_metrics",
    "list_processors",
    "list_signals",
    "list_sources",
    "list_tasks",
    "load_results",
    "load_signal",
    "load_source",
    "open_signal",
    "run_method",
    "save_signal",
    "sliding_windows",
    "stream_compare",
    "stream_generate",
    "stream_import",
    "stream_run",
    "sweep",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sigbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
