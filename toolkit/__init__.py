"""sigbench: can a neural network replace this DSP algorithm, and at what cost?

The public Python API. Importing ``sigbench`` is cheap: it imports neither NumPy nor TensorFlow/Keras
nor any plugin; every public name below loads its module on first use, and neural processors import
Keras when they are built.

>>> import sigbench as sb
>>> sig = sb.generate("sines", n=500, snr_db=10, seed=0)
>>> sig.n_samples
500
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigbench._version import __version__
from sigbench.errors import (
    BackendError,
    ConfigError,
    DivergedError,
    FileFormatError,
    MissingDependencyError,
    PluginError,
    ProcessorError,
    SigbenchError,
    UnknownNameError,
    UnsafeFileError,
    ValidationError,
    WriteError,
)
from sigbench.hookspecs import hookimpl

if TYPE_CHECKING:  # the names below load on first use (``import sigbench`` stays free of NumPy)
    from sigbench.processor import Processor, TaskContext
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

#: public name -> the module that defines it, imported on first access (PEP 562), so that ``import
#: sigbench`` and ``sigbench --help`` import neither NumPy nor any plugin
_LAZY = {
    "Processor": "sigbench.processor",
    "TaskContext": "sigbench.processor",
    "Signal": "sigbench.signal",
    "Windows": "sigbench.windows",
    "sliding_windows": "sigbench.windows",
    "generate": "sigbench.registry",
    "get_metric": "sigbench.registry",
    "get_processor": "sigbench.registry",
    "get_source": "sigbench.registry",
    "get_task": "sigbench.registry",
    "list_metrics": "sigbench.registry",
    "list_processors": "sigbench.registry",
    "list_sources": "sigbench.registry",
    "list_tasks": "sigbench.registry",
    "load_source": "sigbench.registry",
    "save_signal": "sigbench.h5",
    "load_signal": "sigbench.h5",
    "open_signal": "sigbench.h5",
    "list_signals": "sigbench.h5",
    "file_info": "sigbench.h5",
    "Task": "sigbench.tasks",
    "TaskData": "sigbench.tasks",
    "compare": "sigbench.run",
    "run_method": "sigbench.run",
    "sweep": "sigbench.run",
    "Results": "sigbench.results",
    "load_results": "sigbench.results",
    "chain": "sigbench.chains",
    "stream_run": "sigbench.run",
    "stream_generate": "sigbench.streamgen",
    "stream_compare": "sigbench.run",
    "stream_import": "sigbench.datasets.stream_import",
    "FileWindows": "sigbench.run.rows",
}

__all__ = [
    "BackendError",
    "ConfigError",
    "DivergedError",
    "FileFormatError",
    "FileWindows",
    "MissingDependencyError",
    "PluginError",
    "Processor",
    "ProcessorError",
    "Results",
    "SigbenchError",
    "Signal",
    "Task",
    "TaskContext",
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
