"""Issue 16, items 11, 13, 14, 15, 16 (part), 17 and 20: crash isolation and hostile result files.

11. a plugin calling ``sys.exit`` at import is a broken plugin, not the end of every command;
13. ``plugins validate`` gives a hanging ``fit`` a time limit;
14. a full disk or ``ulimit -f`` during a write: one line, exit 1, no segfault, the old file intact;
15. malformed result files are ``FileFormatError``\\ s; names that are not UTF-8 are named as such;
17. ``| head`` ends a command quietly;
20. Python warnings are one console line without source paths.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from core.helpers import SIGBENCH, cli_env
from sigbench.cli import ExitCode
from sigbench.errors import FileFormatError
from sigbench.results import list_runs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX limits and signals")


def _env(**extra: str) -> dict[str, str]:
    """A CLI subprocess environment that imports this checkout's sigbench (the worktree's shim first)."""
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), extra.pop("PYTHONPATH", None)) if p)
    return cli_env(PYTHONPATH=path or None, **extra)


def _run(args: list[str], timeout: float = 120, preexec: Any = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SIGBENCH), *args], capture_output=True, text=True, timeout=timeout, env=_env(**env),
                          preexec_fn=preexec)


def _install(site: Path, module: str, source: str, ep_name: str) -> Path:
    """An installed-looking plugin distribution ``sigbench-<ep_name>`` (a dist-info with its entry point)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"sigbench_{ep_name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: sigbench-{ep_name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[sigbench]\n{ep_name} = {module}\n")
    return site


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    sig = sb.save_signal(sb.generate("sines", n=600, seed=0), tmp_path / "s.h5")
    out = tmp_path / "r.h5"
    sb.compare(sig, methods=["wiener", "naive"], seeds=1, window=8, output=out)
    return out


# -- 11. sys.exit at import ---------------------------------------------------------------------------------
def test_issue16_11_plugin_exiting_at_import_is_a_broken_plugin(tmp_path: Path) -> None:
    site = _install(tmp_path / "site", "exiting_plugin", '''
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--only-mine", required=True)
        parser.parse_args()  # module-level argparse: exits 2 on sigbench's own arguments
    ''', "exiting")
    r = _run(["--version"], PYTHONPATH=str(site))
    assert r.returncode == 0 and r.stdout.startswith("sigbench "), (r.stdout, r.stderr)
    r = _run(["--help"], PYTHONPATH=str(site))
    assert r.returncode == 0 and "compare" in r.stdout, r.stderr
    r = _run(["plugins", "--json"], PYTHONPATH=str(site))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout is JSON alone: argparse's usage went to stderr
    broken = [b for b in doc["broken"] if b["name"] == "exiting"]
    assert broken and "sys.exit(2)" in broken[0]["error"] and broken[0]["package"] == "sigbench-exiting"
    r = _run(["generate", "sines", "--n", "100", "-o", str(tmp_path / "g.h5")], PYTHONPATH=str(site))
    assert r.returncode == 0 and (tmp_path / "g.h5").exists(), r.stderr


def test_issue16_11_sys_exit_while_registering_is_attributed(host: Any) -> None:
    from sigbench import hookimpl

    class Exiting:
        @hookimpl
        def register_processors(self, register: Any) -> None:
            sys.exit(0)

    host.register(Exiting(), name="rel-exiting")
    try:
        registry = host.registry
        assert "wiener" in registry.names("processors")
        assert any(b.name == "rel-exiting" and "sys.exit(0)" in b.error for b in registry.broken)
    finally:
        host.unregister("rel-exiting")


# -- 13. plugins validate and a hanging fit ------------------------------------------------------------------
def test_issue16_13_validate_times_out_a_hanging_fit(tmp_path: Path) -> None:
    site = _install(tmp_path / "site", "hanging_plugin", '''
        import time
        from sigbench import Processor, hookimpl

        class Hang(Processor):
            name = "rel-hang"

            def _fit(self, inputs, targets):
                while True:
                    time.sleep(0.05)

            def _predict(self, inputs):
                return inputs[:, -1]

        @hookimpl
        def register_processors(register):
            register(Hang)
    ''', "hanging")
    start = time.monotonic()
    r = _run(["plugins", "validate", "rel-hang", "--check-timeout", "1", "--json"], timeout=120, PYTHONPATH=str(site))
    assert time.monotonic() - start < 90
    assert r.returncode == ExitCode.ERROR, r.stderr
    report = json.loads(r.stdout)["reports"][0]
    checks = {c["name"]: c for c in report["checks"]}
    hung = [c for c in report["checks"] if "did not finish within 1 s" in c["message"]]
    assert hung, checks
    assert all(c["status"] == "skipped" for c in report["checks"][report["checks"].index(hung[0]) + 1:])


def test_issue16_13_time_limit_in_the_library() -> None:
    from sigbench.testing._processor import CheckTimeout, time_limit

    with pytest.raises(CheckTimeout, match=r"within 0\.2 s"), time_limit(0.2):
        time.sleep(5)
    with time_limit(5):  # a quick block: no alarm left behind
        pass
    time.sleep(0.1)


# -- 14. disk full / file too large ----------------------------------------------------------------------------
def _fsize_limit(nbytes: int) -> Any:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return limit


@pytest.mark.parametrize("extra", [[], ["--stream"]], ids=["in-memory", "streamed"])
def test_issue16_14_file_size_limit_during_generate_is_one_line_exit_1(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "g.h5"
    good = sb.save_signal(sb.generate("sines", n=100), out).read_bytes()
    r = _run(["generate", "sines", "--n", "2000000", "-o", str(out), *extra], preexec=_fsize_limit(2 * 2**20))
    assert r.returncode == ExitCode.ERROR, (r.returncode, r.stderr)  # was -11 / 139: a segfault
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: file too large"), r.stderr
    assert "Traceback" not in r.stderr and "h5py" not in r.stderr
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.h5"]


def test_issue16_14_file_size_limit_during_compare_keeps_the_old_results(tmp_path: Path, result_file: Path) -> None:
    before = result_file.read_bytes()
    r = _run(["compare", str(tmp_path / "s.h5"), "-m", "naive", "--seeds", "1", "--window", "8", "-o",
              str(result_file)], preexec=_fsize_limit(len(before) + 4096))
    assert r.returncode == ExitCode.ERROR, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("Error: file too large"), r.stderr
    assert result_file.read_bytes() == before


def test_issue16_14_hdf5_errno_in_a_message_is_recognised(tmp_path: Path) -> None:
    from sigbench.h5 import _write_failure

    msg = "Can't decrement id ref count (file write failed: time = …, errno = 28, error message = 'No space')"
    assert "disk full" in str(_write_failure(RuntimeError(msg), tmp_path / "x.h5"))
    assert _write_failure(RuntimeError("something else"), tmp_path / "x.h5") is None


# -- 15. hostile result files ---------------------------------------------------------------------------------
def _doc(path: Path) -> tuple[str, dict[str, Any]]:
    run_id = list_runs(path)[-1]
    with h5py.File(path) as f:
        return run_id, json.loads(f[f"runs/{run_id}/results.json"][()])


def _replace_json(path: Path, run_id: str, text: str, key: str = "results.json") -> None:
    with h5py.File(path, "a") as f:
        del f[f"runs/{run_id}/{key}"]
        f[f"runs/{run_id}/{key}"] = text


_MALFORMED: list[tuple[str, Any]] = [
    ("not JSON", "{"),
    ("a list", []),
    ("rows missing", {"drop": "rows"}),
    ("rows not a list", {"set": ("rows", {"a": 1})}),
    ("a row not an object", {"set": ("rows", [1])}),
    ("a row without method", {"row": ("method", None)}),
    ("metrics a list", {"row": ("metrics", [1, 2])}),
    ("a metric a string", {"row": ("metrics", {"mse": "low"})}),
    ("seeds strings", {"row": ("seeds", ["a"])}),
    ("signal a string", {"set": ("signal", "x")}),
    ("status an object", {"set": ("status", {"a": 1})}),
    ("deep nesting", "[" * 100_000 + "]" * 100_000),
    ("deep but parseable", {"set": ("config", json.loads("{\"a\":" * 200 + "1" + "}" * 200))}),
]


@pytest.mark.parametrize(("case", "change"), _MALFORMED, ids=[c for c, _ in _MALFORMED])
def test_issue16_15_malformed_results_json_is_a_file_format_error(result_file: Path, case: str, change: Any) -> None:
    run_id, doc = _doc(result_file)
    if isinstance(change, str):
        text = change
    elif isinstance(change, list):
        text = json.dumps(change)
    else:
        if "drop" in change:
            doc.pop(change["drop"])
        if "set" in change:
            doc[change["set"][0]] = change["set"][1]
        if "row" in change:
            doc["rows"][0][change["row"][0]] = change["row"][1]
        text = json.dumps(doc)
    _replace_json(result_file, run_id, text)
    with pytest.raises(FileFormatError, match=f"run {run_id} is damaged"):
        sb.load_results(result_file)
    r = _run(["report", str(result_file), "-o", str(result_file.with_suffix(".html"))])
    assert r.returncode == ExitCode.ERROR and "damaged" in r.stderr and "unexpected" not in r.stderr, r.stderr


def test_issue16_15_malformed_methods_group_is_a_file_format_error(result_file: Path) -> None:
    run_id = _doc(result_file)[0]
    with h5py.File(result_file, "a") as f:
        methods = f[f"runs/{run_id}/methods"]
        first = next(iter(methods))
        del methods[first].attrs["label"]
        methods["m99"] = np.zeros(3)  # a dataset where a group belongs
    with pytest.raises(FileFormatError, match="damaged"):
        sb.load_results(result_file)
    assert sb.load_results(result_file, predictions=False).rows  # the metrics alone still read


def test_issue16_15_invalid_utf8_text_is_replaced_not_fatal(result_file: Path, tmp_path: Path) -> None:
    run_id, doc = _doc(result_file)
    doc["signal"]["name"] = "bad \udcff name"
    _replace_json(result_file, run_id, json.dumps(doc))
    res = sb.load_results(result_file)
    assert res.signal["name"] == "bad \ufffd name"
    for fmt in ("html", "md"):
        r = _run(["report", str(result_file), "-f", fmt, "-o", str(tmp_path / f"rep.{fmt}")])
        assert r.returncode == 0, r.stderr


def test_issue16_15_invalid_utf8_metadata_of_a_signal(tmp_path: Path) -> None:
    path = sb.save_signal(sb.generate("sines", n=100), tmp_path / "s.h5")
    with h5py.File(path, "a") as f:
        f["signals/sines"].attrs["metadata"] = np.bytes_(b'{"source": "\xff\xfe sines"}')
        f["signals/sines"].attrs["channel_names"] = '{"not": "a list"}'
    with pytest.raises(FileFormatError, match="channel_names"):
        sb.load_signal(path)
    with h5py.File(path, "a") as f:
        f["signals/sines"].attrs["channel_names"] = "[]"
        f["signals/sines"].attrs["metadata"] = "{\"a\":" * 100_000 + "1" + "}" * 100_000
    with pytest.raises(FileFormatError, match="nested deeper"):
        sb.load_signal(path)


def test_issue16_15_group_name_that_is_not_utf8_is_named_as_such(result_file: Path) -> None:
    with h5py.File(result_file, "a") as f:
        f.create_group(b"runs/\xff\xfeevil")
    with pytest.raises(FileFormatError, match="not valid UTF-8"):
        sb.file_info(result_file)
    r = _run(["info", str(result_file)])
    assert r.returncode == ExitCode.ERROR and "not valid UTF-8" in r.stderr and "truncated" not in r.stderr


# -- 17. broken pipes ----------------------------------------------------------------------------------------
def test_issue16_17_closed_stdout_exits_quietly(tmp_path: Path) -> None:
    for args in (["generate", "sines", "--n", "200000", "-o", "-"], ["plugins", "--json"]):
        proc = subprocess.Popen([str(SIGBENCH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before anything is written (`| head -c 0`)
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
        assert proc.returncode == ExitCode.BROKEN_PIPE, err
        assert "Error" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


# -- 20. warnings ----------------------------------------------------------------------------------------------
def test_issue16_20_python_warnings_are_one_console_line(tmp_path: Path) -> None:
    path = tmp_path / "loud.h5"
    with h5py.File(path, "w") as f:  # squares of 1e200 overflow while info sums the power
        f.attrs["sigbench_format"] = 1
        g = f.create_group("signals/s")
        g.attrs["sample_rate_hz"] = 1.0
        g.create_dataset("data", data=np.full(100, 1e200))
    r = _run(["info", str(path)], PYTHONWARNINGS="default")
    assert r.returncode == 0, r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "overflow" in ln]
    assert warn == ["Warning: overflow encountered in multiply"], r.stderr
    assert ".py:" not in r.stderr and "RuntimeWarning" not in r.stderr


def test_issue16_20_debug_adds_the_source(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sigbench.cli import app

    path = tmp_path / "loud.h5"
    with h5py.File(path, "w") as f:
        f.attrs["sigbench_format"] = 1
        g = f.create_group("signals/s")
        g.attrs["sample_rate_hz"] = 1.0
        g.create_dataset("data", data=np.full(100, 1e200))
    res = CliRunner().invoke(app, ["--debug", "info", str(path)])
    assert "Warning: RuntimeWarning: overflow encountered in multiply (" in res.stderr, res.stderr


# -- 16. text from files in Markdown reports and on the console -------------------------------------------------
_BEACON = "![x](https://evil.example/beacon.png) [login](http://phish.example) www.phish.example <b>"


def test_issue16_16_markdown_report_never_renders_links_or_images_from_files(result_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from sigbench.report import render_markdown

    res = sb.load_results(result_file)
    res.signal["name"] = _BEACON
    res.rows[0].error = "boom](http://phish.example)"
    res.warnings.append("see [here](http://phish.example)")
    text, _images = render_markdown(res, "rep_files")
    for line in text.splitlines():
        if line.startswith("![") and "rep_files/" in line:  # the report's own figures
            continue
        assert "](" not in line.replace("\\](", "").replace("\\]\\(", ""), line
        assert "![" not in line.replace("\\!\\[", ""), line
        assert not re.search(r"(?<!\\)://", line) and "www.phish" not in line, line
        assert "<b>" not in line, line
    assert "\\!\\[x\\]\\(https\\://evil.example/beacon.png\\)" in text  # shown as typed


def test_issue16_16_bidi_override_is_shown_not_applied(result_file: Path) -> None:
    from sigbench.console import escape
    from sigbench.report import render_html, render_markdown

    assert escape("invoice\u202egpj.exe") == "invoice\\u202egpj.exe"
    res = sb.load_results(result_file)
    res.signal["name"] = "invoice\u202egpj.exe"
    assert "\u202e" not in render_markdown(res, "f")[0]
    pytest.importorskip("matplotlib")
    assert "\u202e" not in render_html(res)


def test_issue16_16_newline_in_a_signal_name_cannot_forge_an_error_line(tmp_path: Path) -> None:
    sig = sb.generate("sines", n=600).with_(name="ok\nError: your licence expired")
    path = sb.save_signal(sig, tmp_path / "s.h5")
    r = _run(["compare", str(path), "-m", "naive", "--seeds", "1", "--window", "8"])
    assert r.returncode == 0, r.stderr
    assert not [ln for ln in r.stderr.splitlines() if ln.lstrip("│ ").startswith("Error:")], r.stderr
    assert "ok\\x0aError: your licence expired" in r.stderr
