"""Helpers for the core and reliability tests: CLI subprocesses, fixture plugins on PYTHONPATH, raw HDF5."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sigbench import Signal

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_PLUGINS = ROOT / "examples" / "fixture-plugins"
SIGBENCH = Path(sys.executable).with_name("sigbench")

_FIXTURES = {
    "good": ("sigbench-fixture-good", "sigbench_fixture_good", "fixture-good"),
    "broken": ("sigbench-fixture-broken", "sigbench_fixture_broken", "fixture-broken"),
}


def install_fixture_plugins(target: Path, which: tuple[str, ...] = ("good", "broken")) -> Path:
    """Make the fixture packages importable *and* discoverable as installed distributions.

    Copies each package into ``target`` with a ``.dist-info`` folder (METADATA + entry_points.txt), which is
    what ``pip install`` leaves behind; ``importlib.metadata`` finds it on ``sys.path``/``PYTHONPATH``.
    """
    target.mkdir(parents=True, exist_ok=True)
    for key in which:
        dist, module, ep_name = _FIXTURES[key]
        shutil.copytree(FIXTURE_PLUGINS / key / module, target / module, dirs_exist_ok=True)
        info = target / f"{dist.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[sigbench]\n{ep_name} = {module}\n")
    return target


def cli_env(**extra: str | None) -> dict[str, str]:
    """Environment for a CLI subprocess: no test marker, no inherited plugin switches."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SIGBENCH_") and k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONPATH")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["COLUMNS"] = "200"
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(args: list[str], *, cwd: Path | None = None, timeout: float = 120, **env: str | None,
            ) -> subprocess.CompletedProcess[str]:
    """Run the installed ``sigbench`` console script in a subprocess."""
    return subprocess.run([str(SIGBENCH), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=cli_env(**env))


def make_signal(rng: np.random.Generator, *, n: int = 256, channels: int | None = None,
                dtype: Any = np.float64, clean: bool = True, aux: bool = False, name: str = "signal") -> Signal:
    shape = (n,) if channels is None else (n, channels)
    x = rng.standard_normal(shape).astype(dtype)
    c = (x * 0.5).astype(dtype) if clean else None
    extra = {"input": rng.standard_normal(n).astype(dtype)} if aux else {}
    return Signal(x, sample_rate_hz=8000.0, t0_s=1.5, units="V", clean=c, aux=extra,
                  metadata={"source": "test", "seed": 3, "params": {"a": 1.0, "b": [1, 2]}}, name=name)


def write_raw(path: Path, *, data: Any = None, rate: Any = 100.0, fmt: Any = 1, clean: Any = None,
              name: str = "s", extra: Callable[[h5py.File, h5py.Group], None] | None = None,
              libver: Any = None) -> Path:
    """Write a sigbench-looking file by hand (to craft bad or hostile content)."""
    with h5py.File(path, "w", libver=libver) as f:
        if fmt is not None:
            f.attrs["sigbench_format"] = fmt
        g = f.create_group(f"signals/{name}")
        if rate is not None:
            g.attrs["sample_rate_hz"] = rate
        if data is not None:
            g.create_dataset("data", data=data)
        if clean is not None:
            g.create_dataset("clean", data=clean)
        if extra is not None:
            extra(f, g)
    return path
