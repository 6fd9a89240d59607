"""Start-up cost (issue 19): ``sigbench --help`` and ``import sigbench`` import nothing heavy.

Each check runs a fresh interpreter (this worktree's ``sigbench``: ``PYTHONPATH`` is kept) with no entry
point loaded (``SIGBENCH_LOAD_PLUGINS=""``: never depend on what is installed), then lists the modules it
imported. Timing is ``benchmarks/bench_cli.py``'s job; what is imported decides it, and is exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .helpers import cli_env

#: modules a start-up must never import (each costs 0.1-2 s)
HEAVY = ("scipy.signal", "numba", "matplotlib", "tensorflow", "keras")

_HELP = """
from sigbench.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    assert not exc.code, exc.code
"""
_IMPORT = "import sigbench"
_REGISTRY = """
import sigbench as sb
assert {p["name"] for p in sb.list_processors()} >= {"lms", "nlms", "rls", "wiener", "fir-bank", "dnn", "lstm"}
sb.list_sources(); sb.list_tasks(); sb.list_metrics()
"""


def _imported(code: str) -> tuple[set[str], str]:
    """Run ``code`` in a fresh interpreter; the modules it left in ``sys.modules``, and its stdout."""
    probe = code + "\nimport json, sys\nprint('\\n' + json.dumps(sorted(sys.modules)))\n"
    env = cli_env(SIGBENCH_LOAD_PLUGINS="")
    if "PYTHONPATH" in os.environ:  # a worktree maps `sigbench` onto its own folders through PYTHONPATH
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    head, _, last = res.stdout.rstrip().rpartition("\n")
    return set(json.loads(last)), head


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` present in ``modules``, a package counting as present when any submodule is."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@pytest.mark.parametrize("code", [_HELP, _IMPORT, _REGISTRY], ids=["--help", "import", "registry"])
def test_startup_imports_nothing_heavy(code: str) -> None:
    """`sigbench --help`, `import sigbench`, and registering every built-in plugin (`sigbench plugins`)
    import none of scipy.signal, numba, matplotlib, TensorFlow or Keras: plugins import them on first use."""
    modules, _ = _imported(code)
    assert _loaded(modules, HEAVY) == []


def test_help_is_complete_without_numpy_or_rich() -> None:
    """`--help` lists every command, yet imports neither NumPy nor rich (nor any built-in plugin): the CLI
    is composed from typer alone, plugins load when a command needs the registry."""
    modules, out = _imported(_HELP)
    for command in ("generate", "import", "info", "run", "compare", "sweep", "demo", "report", "plugins"):
        assert f"\n  {command} " in out, out
    assert _loaded(modules, ("numpy", "rich", "h5py", "scipy", "sigbench.plugins")) == []


def test_import_sigbench_is_lazy_but_complete() -> None:
    """`import sigbench` imports no NumPy; every public name still resolves (first use imports it)."""
    modules, _ = _imported("import sigbench")
    assert _loaded(modules, ("numpy", "sigbench.processor", "sigbench.registry")) == []
    modules, out = _imported("import sigbench as sb\nprint(sb.Signal.__module__, sb.get_processor('lms').name)")
    assert out.split() == ["sigbench.signal", "lms"]
    assert "numpy" in modules
