"""Issue 16 item 12 and issue 17 item 1: a neural backend that is missing or cannot be imported fails the
neural rows only, with one line naming the memory or the pip extra; every other method runs.

Under ``ulimit -v 1.5G`` the TensorFlow import used to die half-way with a ``MemoryError`` and the next
method (``lms``) then crashed the whole process (segfault, exit 139).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sigbench as sb
from core.helpers import SIGBENCH, cli_env
from sigbench.errors import BackendError
from sigbench.plugins.neural import _backend

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="address-space limits are checked on Linux")


@pytest.fixture
def signal_file(tmp_path: Path) -> Path:
    return sb.save_signal(sb.generate("sines", n=1000, seed=0, snr_db=10.0), tmp_path / "sig.h5")


def _env() -> dict[str, str]:
    return cli_env(PYTHONPATH=os.environ.get("PYTHONPATH"))  # keep a development checkout's import path


def _limit_address_space() -> None:  # runs in the child before exec: ``ulimit -v 1.5G``
    resource.setrlimit(resource.RLIMIT_AS, (int(1.5 * (1 << 30)), resource.RLIM_INFINITY))


@pytest.mark.neural  # needs TensorFlow installed: the limit must stop a real import
def test_item_12_backend_import_under_ulimit_fails_only_the_neural_row(signal_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    proc = subprocess.run([str(SIGBENCH), "compare", str(signal_file), "-m", "dnn:epochs=1", "-m", "lms",
                           "--seeds", "1", "-o", str(out)], capture_output=True, text=True, timeout=240,
                          env=_env(), preexec_fn=_limit_address_space)
    assert proc.returncode == 3, proc.stderr[-2000:]  # a method failed; the process did not crash (139)
    res = sb.load_results(out)
    rows = {r.method: r for r in res.rows}
    assert rows["lms"].status == "ok" and rows["naive"].status == "ok"
    dnn = rows["dnn:epochs=1"]
    assert dnn.status == "failed"
    assert "memory" in dnn.error and "ulimit -v" in dnn.error and "\n" not in dnn.error
    assert "Traceback" not in proc.stderr


_NO_BACKEND = textwrap.dedent('''
    import importlib.abc, json, sys

    class Hide(importlib.abc.MetaPathFinder):
        """Makes keras and tensorflow look uninstalled (as in `pip install sigbench`)."""
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("keras", "tensorflow"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Hide())
    import sigbench as sb
    names = [p["name"] for p in sb.list_processors()]
    res = sb.compare(sb.generate("sines", n=800, seed=0), methods=["dnn", "lms"], seeds=1)
    print(json.dumps({"listed": names, "rows": {r.method: [r.status, r.error] for r in res.rows},
                      "keras": "keras" in sys.modules}))
''')


def test_core_install_lists_neural_processors_and_names_the_extra() -> None:
    proc = subprocess.run([sys.executable, "-c", _NO_BACKEND], capture_output=True, text=True, timeout=240,
                          env=_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "dnn" in str(doc["listed"]) and "lms" in str(doc["listed"])
    assert doc["rows"]["lms"][0] == "ok"
    status, error = doc["rows"]["dnn"]
    assert status == "failed" and 'pip install "sigbench[tensorflow]"' in error and "\n" not in error
    assert doc["keras"] is False


@pytest.mark.neural  # Keras installed, its backend package not
def test_missing_backend_package_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    real = _backend.importlib.util.find_spec
    monkeypatch.setattr(_backend.importlib.util, "find_spec",
                        lambda name, *a: None if name == "jax" else real(name, *a))
    with pytest.raises(BackendError, match=r'jax is not installed: pip install "sigbench\[jax\]"'):
        _backend.check_backend()


def test_a_failed_import_is_remembered_and_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = BackendError("out of memory while importing the tensorflow backend (Keras)")
    monkeypatch.setattr(_backend, "_failed", failure)
    with pytest.raises(BackendError) as info:
        _backend.import_keras()
    assert info.value is failure
