"""Plugins as users install them: a real (temporary) virtual environment, ``pip install``, the CLI.

The environment is created from this interpreter with ``--system-site-packages`` and ``--without-pip``;
a ``.pth`` file adds this interpreter's site-packages (where sigbench is installed), because a venv made
from a venv sees the *base* interpreter's packages only. Installation is offline: ``pip install
--no-deps --no-build-isolation --no-index -e <copy of the package>``. Subprocesses do not carry
``sys._called_from_test``, so entry points autoload there, exactly as for a user.

The skeleton test follows ``docs/plugins.md`` step by step: ``plugins new``, install, ``plugins
validate``, ``plugins --json``, the plugin's own tests, ``compare`` with its processor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sigbench-example-plugin"
_CLI = "import sys; from sigbench.cli import main; main(sys.argv[1:])"


class PluginEnv:
    """A throwaway virtual environment that sees this interpreter's packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(root / "venv")],
                       check=True, capture_output=True)
        self.python = root / "venv" / "bin" / "python"
        purelib = subprocess.run([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        parent = sysconfig.get_paths()["purelib"]
        Path(purelib, "_sigbench_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "SIGBENCH_LOAD_PLUGINS", "SIGBENCH_STRICT_PLUGINS", "SIGBENCH_DEBUG")}
        self.env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "160", "NO_COLOR": "1", "PYTHONHASHSEED": "0"})

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *args], capture_output=True, text=True, env=self.env,
                              cwd=str(cwd or self.root), timeout=timeout, check=False)

    def install(self, package: Path) -> Path:
        """Copy ``package`` into the environment's folder (no build files land in the repository) and install it."""
        copy = self.root / package.name
        skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".pytest_cache")
        shutil.copytree(package, copy, ignore=skip)
        res = self.run("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-e", str(copy))
        assert res.returncode == 0, res.stdout + res.stderr
        return copy

    def sigbench(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run("-c", _CLI, *args, timeout=timeout)


@pytest.fixture
def plugin_env(tmp_path: Path) -> PluginEnv:
    return PluginEnv(tmp_path)


def _rows(stdout: str) -> dict[str, dict]:
    return {row["method"]: row for row in json.loads(stdout)["rows"]}


@pytest.mark.slow
def test_example_plugin_installs_lists_validates_and_compares(plugin_env: PluginEnv):
    plugin_env.install(EXAMPLE)

    listing = plugin_env.sigbench("plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    processors = {p["name"]: p for p in data["processors"]}
    assert processors["kalman-level"]["package"] == "sigbench-example-plugin"
    assert processors["kalman-level"]["family"] == "dsp"
    assert processors["gru"]["family"] == "neural"
    assert {s["name"]: s for s in data["sources"]}["van-der-pol"]["kind"] == "generator"
    assert [b for b in data["broken"] if b["package"] == "sigbench-example-plugin"] == []

    res = plugin_env.sigbench("generate", "van-der-pol", "-o", "vdp.h5", "--n", "3000", "--snr-db", "10")
    assert res.returncode == 0, res.stderr
    res = plugin_env.sigbench("compare", "vdp.h5", "-t", "denoise", "-w", "16", "-m", "kalman-level", "-m", "wiener",
                              "-m", "gru:units=4,timesteps=4,epochs=2", "--seeds", "1", "--json")
    assert res.returncode == 0, res.stderr
    rows = _rows(res.stdout)
    assert rows["kalman-level"]["status"] == "ok" and rows["wiener"]["status"] == "ok"
    assert rows["gru:units=4,timesteps=4,epochs=2"]["status"] == "ok"  # rows are keyed by the method spec
    # denoising a 10 dB Van der Pol signal: both linear filters improve on the noisy samples
    assert rows["kalman-level"]["metrics"]["snr_gain_db"] > 3
    # wiener is the bound among linear filters of the window: the local-level filter cannot beat it on training
    # statistics, and on test data it stays within a few tenths of a dB below
    assert rows["kalman-level"]["metrics"]["mse"] >= 0.9 * rows["wiener"]["metrics"]["mse"]

    res = plugin_env.sigbench("plugins", "validate", "sigbench-example-plugin", "--json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    reports = json.loads(res.stdout)["reports"]
    assert {(r["kind"], r["subject"]) for r in reports} == {
        ("processor", "kalman-level"), ("processor", "gru"), ("source", "van-der-pol")}

    # the GRU conformance ran in `validate` above; its learning test is slow: the example CI runs it with -m slow
    example = plugin_env.root / EXAMPLE.name
    tests = plugin_env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", str(example),
                           cwd=example, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]


def test_skeleton_from_the_plugin_guide(plugin_env: PluginEnv):
    # docs/plugins.md, "Create": sigbench plugins new
    res = plugin_env.sigbench("plugins", "new", "smooth-demo", "-o", str(plugin_env.root / "src"), "--json")
    assert res.returncode == 0, res.stderr
    created = json.loads(res.stdout)
    package = Path(created["path"])
    assert package.name == "sigbench-smooth-demo"
    assert "sigbench_smooth_demo/processor.py" in created["files"]
    assert "[project.entry-points.sigbench]" in (package / "pyproject.toml").read_text()

    # "Install"
    res = plugin_env.run("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-e",
                         str(package))
    assert res.returncode == 0, res.stdout + res.stderr

    # "Validate": only third-party plugins by default, and this one passes
    res = plugin_env.sigbench("plugins", "validate", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["passed"] is True
    assert [(r["subject"], r["package"]) for r in out["reports"]] == [("smooth-demo", "sigbench-smooth-demo")]
    res = plugin_env.sigbench("plugins", "validate", "smooth-demo")
    assert res.returncode == 0 and "passed" in res.stderr

    listing = json.loads(plugin_env.sigbench("plugins", "--json").stdout)
    assert {p["name"]: p["package"] for p in listing["processors"]}["smooth-demo"] == "sigbench-smooth-demo"

    # "Test": the generated tests use the harness fixtures and pass
    tests = plugin_env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "passed" in tests.stdout

    # "Compare": the new processor next to the built-ins
    assert plugin_env.sigbench("generate", "sines", "-o", "s.h5", "--n", "2000").returncode == 0
    res = plugin_env.sigbench("compare", "s.h5", "-w", "16", "-m", "smooth-demo:alpha=0.5", "-m", "wiener", "--json")
    assert res.returncode == 0, res.stderr
    rows = _rows(res.stdout)
    assert rows["smooth-demo:alpha=0.5"]["status"] == "ok" and rows["wiener"]["status"] == "ok"

    # the skeleton command refuses to overwrite
    again = plugin_env.sigbench("plugins", "new", "smooth-demo", "-o", str(plugin_env.root / "src"))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_validate_reports_a_broken_plugin_and_fails(plugin_env: PluginEnv):
    """A plugin whose processor breaks the contract (global RNG, no saved state) fails validation with exit 1."""
    pkg = plugin_env.root / "src" / "bad"
    (pkg / "sigbench_bad").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "sigbench-bad"\nversion = "0.0.1"\n'
        '[project.entry-points.sigbench]\nbad = "sigbench_bad"\n'
        '[tool.setuptools]\npackages = ["sigbench_bad"]\n')
    (pkg / "sigbench_bad" / "__init__.py").write_text(
        "import numpy as np\nfrom sigbench import Processor, hookimpl\n\n"
        "class Noisy(Processor):\n"
        "    name = 'bad-noisy'\n"
        "    def _fit(self, inputs, targets):\n"
        "        self.w = np.random.normal(size=inputs.shape[1])\n"
        "    def _predict(self, inputs):\n"
        "        return np.asarray(inputs) @ self.w\n\n"
        "@hookimpl\ndef register_processors(register):\n    register(Noisy)\n")
    plugin_env.install(pkg)
    res = plugin_env.sigbench("plugins", "validate", "--json")
    assert res.returncode == 1
    report = json.loads(res.stdout)["reports"][0]
    status = {c["name"]: c["status"] for c in report["checks"]}
    assert status["no global RNG"] == "failed"
    assert status["save/load round trip"] == "failed"  # self.w is not in get_state()
    assert "bad-noisy" in res.stderr and "failed the conformance checks" in res.stderr
