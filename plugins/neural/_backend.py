"""The one place that imports Keras, lazily, with TensorFlow's log noise silenced.

Nothing under ``sigbench.plugins.neural`` imports Keras (or TensorFlow, JAX, torch) at module import
time: ``sigbench --help`` and every command that trains no network stay free of them. A processor
calls :func:`import_keras` when it builds its model.

Keras picks its backend from ``KERAS_BACKEND`` (TensorFlow by default). Model code uses
``keras.layers``/``keras.ops`` only, so the same processor runs under ``jax`` or ``torch``; this module
touches a backend package only when that backend is the active one.

The core install (``pip install sigbench``) has no backend: the neural processors stay listed, and
:func:`import_keras` raises :class:`~sigbench.errors.BackendError` with one line naming the extra to
install (``sigbench[tensorflow]``, ``[jax]``, ``[torch]``). Importing TensorFlow needs about 1.5 GiB of
address space; under an address-space limit (``ulimit -v``) too small for it, the import is refused
*before* it starts, because a half-finished TensorFlow import can crash the process later (a segfault
in an unrelated DSP method). Any failed backend import is remembered and raised again for every later
neural call in the process; other methods are not affected.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import random
import sys
import threading
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from sigbench.errors import BackendError

__all__ = ["BACKEND_ADDRESS_SPACE", "EXTRAS", "backend_name", "check_backend", "device_name", "import_keras", "seeded"]

#: the pip extra that installs each Keras backend
EXTRAS = {"tensorflow": "sigbench[tensorflow]", "jax": "sigbench[jax]", "torch": "sigbench[torch]"}

#: address space (bytes) a backend's import and a small fit need on top of what the process uses:
#: ``import keras`` with TensorFlow 2.21 grows VmSize by ~1.5 GiB (measured on Linux x86_64);
#: jax and torch are smaller. Only checked when an address-space limit (``ulimit -v``) is set.
BACKEND_ADDRESS_SPACE = {"tensorflow": 2 << 30, "jax": 1 << 30, "torch": 1 << 30}

_GiB = float(1 << 30)

#: the error of the first failed backend import in this process (raised again, never retried)
_failed: BackendError | None = None


def _selected_backend() -> str:
    return os.environ.get("KERAS_BACKEND", "").strip().lower() or "tensorflow"


def _address_space() -> tuple[int, int] | None:
    """``(limit, used)`` bytes of virtual address space when a soft ``RLIMIT_AS`` is set, else None."""
    try:
        import resource
    except ImportError:  # not POSIX: no address-space limit to respect
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return None
    try:
        import psutil

        used = int(psutil.Process().memory_info().vms)
    except ImportError:
        try:
            with open("/proc/self/statm") as fh:
                used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None
    return int(soft), used


def _installed(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses the name: not importable here
        return False


def check_backend() -> str:
    """Check, without importing it, that the active Keras backend can be imported here.

    Returns
    -------
    str
        The backend's name (``KERAS_BACKEND``, ``"tensorflow"`` by default).

    Raises
    ------
    BackendError
        Keras or the backend package is not installed (the message names the pip extra), an
        earlier import of it failed in this process, or the process's address-space limit
        (``ulimit -v``) leaves less room than :data:`BACKEND_ADDRESS_SPACE` says the backend needs.
    """
    if _failed is not None:
        raise _failed
    backend = _selected_backend()
    extra = EXTRAS.get(backend)
    if "keras" in sys.modules:
        return backend
    if not _installed("keras"):
        raise BackendError(f"the neural processors need Keras and a backend, which the core install leaves out: "
                           f'pip install "{extra or EXTRAS["tensorflow"]}"')
    if extra is not None and not _installed(backend):
        raise BackendError(f"KERAS_BACKEND={backend} but {backend} is not installed: pip install \"{extra}\"")
    room = _address_space()
    need = BACKEND_ADDRESS_SPACE.get(backend, 1 << 30)
    if room is not None and room[0] - room[1] < need:
        limit, used = room
        raise BackendError(f"not enough memory to import the {backend} backend: it needs about {need / _GiB:.1f} GiB "
                           f"of address space, and the limit (ulimit -v) is {limit / _GiB:.2f} GiB with "
                           f"{used / _GiB:.2f} GiB in use; raise the limit or run DSP methods only")
    return backend


def import_keras() -> ModuleType:
    """Import and return ``keras``, silencing TensorFlow/absl logging first.

    ``TF_CPP_MIN_LOG_LEVEL`` is set to ``3`` unless the user set it; the ``tensorflow`` and ``absl``
    Python loggers are raised to ERROR; unless ``TF_CPP_MIN_LOG_LEVEL=0``, the C++ start-up messages
    written during the first import are discarded (see :func:`_silenced_fd2`).

    Returns
    -------
    module
        The ``keras`` package (Keras 3).

    Raises
    ------
    BackendError
        See :func:`check_backend`; also when the import itself fails (``MemoryError`` is reported as
        memory, anything else with its type). The failure is remembered: later calls raise it again.
    """
    global _failed
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl", "h5py._conv"):
        logging.getLogger(name).setLevel(logging.ERROR)
    backend = check_backend()
    if "keras" in sys.modules:
        return sys.modules["keras"]
    try:
        quiet = int(os.environ["TF_CPP_MIN_LOG_LEVEL"]) >= 1
    except ValueError:
        quiet = True
    try:
        with warnings.catch_warnings(), (_silenced_fd2() if quiet else contextlib.nullcontext()):
            warnings.simplefilter("ignore", DeprecationWarning)
            import keras
    except MemoryError:
        _failed = BackendError(f"out of memory while importing the {backend} backend (Keras); "
                               "free memory or raise the limit (ulimit -v), or run DSP methods only")
        raise _failed from None
    except Exception as exc:  # a broken backend install: one line, and never a half-imported retry
        first = str(exc).splitlines()[0] if str(exc) else ""
        _failed = BackendError(f"the {backend} backend (Keras) failed to import: {type(exc).__name__}: {first}; "
                               f'reinstall it with pip install "{EXTRAS.get(backend, EXTRAS["tensorflow"])}"')
        raise _failed from None
    return keras


@contextlib.contextmanager
def _silenced_fd2() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (the first ``import keras``).

    TensorFlow ≥ 2.19 logs through absl before ``absl::InitializeLog()``, which ignores
    ``TF_CPP_MIN_LOG_LEVEL``: "oneDNN custom operations are on", "Could not find cuda drivers", …
    are written straight to fd 2 during the import. An import error still surfaces as a Python
    exception after fd 2 is restored. Set ``TF_CPP_MIN_LOG_LEVEL=0`` to see the messages.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def backend_name() -> str:
    """The active Keras backend (``"tensorflow"``, ``"jax"``, ``"torch"``, …)."""
    return str(import_keras().backend.backend())


def device_name() -> str:
    """A short name of the device the active backend computes on, e.g. ``"CPU"`` or ``"GPU:0 (cuda)"``."""
    backend = backend_name()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_logical_devices("GPU")
            return f"GPU:0 ({len(gpus)} visible)" if gpus else "CPU"
        if backend == "jax":
            import jax

            dev = jax.devices()[0]
            return f"{dev.platform.upper()}:{dev.id} ({getattr(dev, 'device_kind', dev.platform)})"
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU:0 ({torch.cuda.get_device_name(0)})"
            return "CPU"
    except Exception as exc:  # a device query must never fail a fit; say what happened instead
        return f"unknown ({type(exc).__name__})"
    return "unknown"


def _enable_determinism(keras: ModuleType) -> bool:
    """Ask the backend for deterministic kernels where it offers a switch; True if enabled."""
    if keras.backend.backend() != "tensorflow":
        return False  # jax on CPU/GPU is deterministic by default for these layers; torch has no global switch here
    import tensorflow as tf

    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError, ValueError):
        return False
    return True


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[Any]:
    """Seed Keras for a build-and-fit, and give the caller's global RNG state back afterwards.

    ``keras.utils.set_random_seed`` also reseeds Python's ``random`` and NumPy's global generator,
    and Keras draws the seeds of unseeded initializers from ``random``. Inside the block those are
    seeded (so the same ``seed`` builds the same model); on exit the caller's states are restored,
    so a sigbench fit neither uses nor disturbs the global NumPy RNG of the program around it.

    Yields
    ------
    module
        ``keras``.
    """
    keras = import_keras()
    _install_thread_seeds()
    py_state = random.getstate()
    np_state = np.random.get_state()
    try:
        keras.utils.set_random_seed(int(seed))
        _enable_determinism(keras)
        _ThreadSeeds.local.rng = random.Random(int(seed))  # the stream ``random.seed(seed)`` gives, but private
        yield keras
    finally:
        _ThreadSeeds.local.rng = None
        random.setstate(py_state)
        np.random.set_state(np_state)


class _ThreadSeeds:
    """Stands in for the ``random`` module inside ``keras.src.random.seed_generator``.

    Keras draws the seed of every unseeded initializer with ``random.randint`` from the process-wide
    ``random`` module. Another thread using ``random`` between :func:`seeded`'s reseeding and the
    model's build — a Dask worker's event loop does — would shift those draws and change the initial
    weights. During a sigbench fit the draws come from a generator private to the fitting thread,
    seeded like ``random.seed(seed)`` (so the weights are the same as without other threads); outside
    one, from the ``random`` module as before.
    """

    local = threading.local()

    def __getattr__(self, name: str) -> Any:
        rng = getattr(self.local, "rng", None)
        return getattr(rng if rng is not None else random, name)


def _install_thread_seeds() -> None:
    """Point Keras's seed drawing at :class:`_ThreadSeeds` (once; skipped if Keras's layout differs)."""
    module = sys.modules.get("keras.src.random.seed_generator")
    if module is not None and hasattr(module, "python_random") and not isinstance(module.python_random, _ThreadSeeds):
        setattr(module, "python_random", _ThreadSeeds())  # noqa: B010 (a private module attribute)
