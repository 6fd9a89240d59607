"""The public surface (STYLE 3): everything in ``sigbench.__all__`` imports, and ``py.typed`` ships."""

from __future__ import annotations

import importlib
import importlib.resources
import subprocess
import sys

import pytest

import sigbench

from .helpers import cli_env


def test_all_has_no_duplicates() -> None:
    assert len(sigbench.__all__) == len(set(sigbench.__all__))


@pytest.mark.parametrize("name", sigbench.__all__)
def test_everything_in_all_imports(name: str) -> None:
    assert getattr(sigbench, name) is not None
    ns: dict[str, object] = {}
    exec(f"from sigbench import {name}", ns)  # the spelling users write
    assert ns[name] is getattr(sigbench, name)


def test_star_import() -> None:
    ns: dict[str, object] = {}
    exec("from sigbench import *", ns)
    assert set(sigbench.__all__) <= set(ns)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sigbench.nope  # noqa: B018


def test_py_typed_ships() -> None:
    assert importlib.resources.files("sigbench").joinpath("py.typed").is_file()


def test_py_typed_is_declared_as_package_data() -> None:
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["sigbench"]


def test_errors_are_documented_as_shown_to_the_user() -> None:
    from sigbench import errors

    assert "shown to the user" in (errors.__doc__ or "")
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.SigbenchError) and cls.__doc__ and cls.exit_code in (1, 2)


def test_hookimpl_is_reexported() -> None:
    from sigbench.hookspecs import hookimpl

    assert sigbench.hookimpl is hookimpl


def test_import_sigbench_does_not_import_tensorflow() -> None:
    code = ("import sys, sigbench; sigbench.Signal; "
            "print(','.join(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


def test_python_api_first_five_minutes(tmp_path) -> None:
    """The Core issue's Python API example: generate, save, load (needs the `sines` source)."""
    sig = sigbench.generate("sines", n=5000, snr_db=10, seed=0)
    path = sigbench.save_signal(sig, tmp_path / "x.h5")
    back = sigbench.load_signal(path)
    assert back.n_samples == 5000 and back.data.tobytes() == sig.data.tobytes()
