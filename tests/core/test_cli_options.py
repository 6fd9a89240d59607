"""One set of option names across commands, global options anywhere, help texts, exit codes, the interrupt
hint, the announced default methods, demo --fast, packaging (issue 18 items 6 and 7)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from sigbench.cli import INTERRUPTED_MESSAGE, ExitCode, app

from .helpers import ROOT, run_cli

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _invoke(args: list[str]) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, args, prog_name="sigbench")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _commands() -> list[tuple[str, object]]:
    """Every (path, click command) of the tree, groups included."""
    import typer.main

    out = []

    def walk(cmd: object, path: str) -> None:
        out.append((path, cmd))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return out


def _options(cmd: object) -> list[object]:
    return [p for p in getattr(cmd, "params", []) if getattr(p, "param_type_name", "") == "option"
            and not getattr(p, "hidden", False) and p.name != "help"]


def test_a_short_flag_means_one_thing_everywhere():
    meanings: dict[str, set[str]] = defaultdict(set)
    for _path, cmd in _commands():
        for opt in _options(cmd):
            longs = [o for o in opt.opts if o.startswith("--")]
            for short in (o for o in opt.opts if not o.startswith("--")):
                meanings[short].add(longs[0])
    clashes = {short: longs for short, longs in meanings.items() if len(longs) > 1}
    assert not clashes, clashes
    assert meanings["-o"] == {"--output"} and meanings["-m"] == {"--method"} and meanings["-w"] == {"--window"}


def test_a_shared_option_has_one_help_text():
    """--output alone names what the command writes (its help is 'Write <what>.' everywhere)."""
    helps: dict[str, dict[str, str]] = defaultdict(dict)
    for path, cmd in _commands():
        for opt in _options(cmd):
            helps[opt.opts[0] if opt.opts[0].startswith("--") else opt.opts[-1]][path] = opt.help or ""
    for name, per_command in helps.items():
        texts = set(per_command.values())
        if name == "--output":
            assert all(t.startswith("Write ") for t in texts), per_command
            continue
        assert len(texts) == 1, (name, per_command)


def test_every_option_has_an_upper_case_metavar_and_every_command_an_example():
    for path, cmd in _commands():
        res = _invoke([*path.split(), "--help"])
        assert res.returncode == 0, (path, res.stderr)
        assert "<list[" not in res.stdout and "<int" not in res.stdout and "<str>" not in res.stdout.split(
            "Options:")[-1], (path, res.stdout)
        assert "Example: sigbench" in res.stdout, path
        for opt in _options(cmd):
            if not opt.is_flag:
                assert opt.metavar and not re.search(r"[a-z]", opt.metavar.replace("auto|observed", "").replace(
                    "offline|prequential", "").replace("wav|csv|npy|hdf5|mat|sigmf", "").replace(
                    "wav|csv|npy|hdf5", "").replace("html|md", "").replace("auto|INT", "INT")), \
                    (path, opt.opts, opt.metavar)


def test_method_help_names_the_spec_syntax():
    res = _invoke(["compare", "--help"])
    text = " ".join(res.stdout.split())
    assert "NAME[:KEY=VALUE,...]" in text and "'fir-bank | dnn'" in text and "sigbench plugins" in text


@pytest.mark.parametrize("flag", ["-q", "--quiet", "--debug", "-v"])
def test_global_options_after_the_command(tmp_path: Path, flag: str):
    res = _invoke(["generate", "sines", "-o", str(tmp_path / "s.h5"), "-n", "300", flag])
    assert res.returncode == 0, res.stderr
    res = _invoke(["info", str(tmp_path / "s.h5"), flag, "--json"])
    assert res.returncode == 0 and '"samples": 300' in res.stdout


def test_quiet_after_the_command_silences_progress(tmp_path: Path):
    _invoke(["generate", "sines", "-o", str(tmp_path / "s.h5"), "-n", "600"])
    loud = _invoke(["compare", str(tmp_path / "s.h5"), "-m", "lms", "-w", "8"])
    quiet = _invoke(["compare", str(tmp_path / "s.h5"), "-m", "lms", "-w", "8", "-q"])
    assert loud.returncode == quiet.returncode == 0
    assert "lms: fit" in loud.stderr and "lms: fit" not in quiet.stderr


def test_unknown_method_is_a_usage_error_with_a_suggestion(tmp_path: Path):
    _invoke(["generate", "sines", "-o", str(tmp_path / "s.h5"), "-n", "300"])
    res = _invoke(["compare", str(tmp_path / "s.h5"), "-m", "fir-bnak"])
    assert res.returncode == ExitCode.USAGE
    assert "did you mean 'fir-bank'?" in res.stderr and "Traceback" not in res.stderr
    assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1


def test_sweep_takes_the_task_options_signal_and_report(tmp_path: Path):
    res = _invoke(["sweep", "--help"])
    for opt in ("--signal", "--mode", "--channel", "--target", "--hop", "--centered", "--report", "--resume"):
        assert opt in res.stdout, opt
    _invoke(["generate", "sines", "-o", str(tmp_path / "s.h5"), "-n", "800", "--name", "a"])
    res = _invoke(["sweep", str(tmp_path / "s.h5"), "--signal", "a", "-g", "lms.mu=0.01,0.002", "-m", "lms",
                   "-w", "8", "--reference", "wiener", "--report", str(tmp_path / "r.html"), "--json"])
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r.html").exists()


@pytest.mark.parametrize(("command", "options"), [
    (["run"], ["--report", "--resume", "--wide"]),
    (["demo"], ["--resume", "--workers", "--timeout", "--scheduler", "--fast"]),
    (["pipeline", "run"], ["--resume", "--workers", "--timeout", "--scheduler", "--output-dir"]),
    (["generate"], ["--memory-budget", "-n, --samples", "--source-seed"]),
    (["import"], ["--memory-budget", "--sample-rate-hz"]),
])
def test_options_present_where_the_issue_found_them_missing(command, options):
    text = _invoke([*command, "--help"]).stdout
    for opt in options:
        assert opt in text, (command, opt)


def test_interrupt_message_hints_at_resume():
    from sigbench.cli._common import interrupt_message

    assert "rerun the same command with --resume" in INTERRUPTED_MESSAGE
    assert "--resume" in interrupt_message(True) and "-o FILE" in interrupt_message(False)
    assert interrupt_message(None) == "Interrupted."  # a command that runs no methods


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_compare_prints_the_resume_hint(tmp_path: Path):
    import signal

    from .helpers import SIGBENCH, cli_env

    here = os.environ.get("PYTHONPATH")  # a worktree's shim, when tests run from one
    assert run_cli(["generate", "sines", "-o", "s.h5", "-n", "4000"], cwd=tmp_path, PYTHONPATH=here).returncode == 0
    proc = subprocess.Popen([str(SIGBENCH), "compare", "s.h5", "-m", "dnn:epochs=500", "--seeds", "1", "-o",
                             "r.h5"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(PYTHONPATH=here))
    try:
        assert proc.stderr is not None
        deadline = time.time() + 120
        for line in proc.stderr:  # wait until the reference is done and the network trains
            if "wiener" in line or time.time() > deadline:
                break
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "rerun the same command with --resume" in err


def test_without_methods_the_defaults_and_a_time_are_announced_first(tmp_path: Path, monkeypatch):
    """Forgetting -m prints the default set and a rough time before any fit (the run itself is stubbed)."""
    import sigbench as sb

    _invoke(["generate", "sines", "-o", str(tmp_path / "s.h5"), "-n", "600"])
    order: list[str] = []

    def fake_compare(*args, **kwargs):
        order.append("compare")
        raise KeyboardInterrupt

    monkeypatch.setattr(sb, "compare", fake_compare)
    res = _invoke(["compare", str(tmp_path / "s.h5"), "-o", str(tmp_path / "r.h5")])
    assert res.returncode == ExitCode.INTERRUPTED and order == ["compare"]
    text = " ".join(res.stderr.split())
    assert "No -m given: running the default methods for predict: dnn, cnn, lstm, cnn-lstm, lms, wiener" in text
    assert re.search(r"roughly \d+ (s|min|h)", text), text
    assert text.index("No -m given") < text.index("Interrupted")


def test_estimate_grows_with_epochs_seeds_and_rows():
    from sigbench.cli.bench import estimate_fit_seconds

    base = estimate_fit_seconds(["dnn", "lms"], train_rows=3000, seeds=1)
    assert estimate_fit_seconds(["dnn:epochs=100", "lms"], train_rows=3000, seeds=1) > base
    assert estimate_fit_seconds(["dnn", "lms"], train_rows=3000, seeds=3) > base
    assert estimate_fit_seconds(["dnn", "lms"], train_rows=6000, seeds=1) > base
    assert estimate_fit_seconds(["lms", "wiener"], train_rows=3000, seeds=3) < 5


def test_estimate_reads_presets_and_the_task_geometry(tmp_path, monkeypatch):
    from sigbench.cli import bench
    from sigbench.host import get_host
    from sigbench.run.executors import training_schedule

    dnn = get_host().registry.get("processors", "dnn").obj
    assert training_schedule(dnn, {"preset": "dft"}) == (30, 32)  # the preset's epochs and batch
    assert training_schedule(dnn, {"preset": "dft", "epochs": "5"}) == (5, 32)  # explicit options win
    preset = bench.estimate_fit_seconds(["dnn:preset=dft"], train_rows=3000, seeds=1)
    assert preset == bench.estimate_fit_seconds(["dnn:epochs=30,batch_size=32"], train_rows=3000, seeds=1)
    import sigbench as sb

    sb.save_signal(sb.generate("tone-detect", n=64 * 300, seed=0), tmp_path / "t.h5")
    seen: list[int] = []
    monkeypatch.setattr(bench, "is_quiet", lambda: False)
    monkeypatch.setattr(bench, "estimate_fit_seconds",
                        lambda methods, *, train_rows, seeds: seen.append(train_rows) or 1.0)
    bench._announce_defaults("detect", [], str(tmp_path / "t.h5"), signal_name=None, seeds=1, split="0.6,0.2,0.2",
                             train_samples=None, window=64, task_options={"window": 64})
    assert seen == [(int(64 * 300 * 0.6) - 64) // 64 + 1]  # one row per segment, not per sample


def test_demo_fast_is_small():
    """--fast: one seed of a small DNN with few epochs next to the DSP methods; the default demo unchanged."""
    from sigbench.cli.bench import FAST_METHODS, estimate_fit_seconds

    assert estimate_fit_seconds(FAST_METHODS, train_rows=4000, seeds=1) < 10
    assert any(m.startswith("dnn:") and "epochs=" in m for m in FAST_METHODS)
    text = _invoke(["demo", "--help"]).stdout
    assert "[default: 3; x>=1]" in text and "demo.h5" in text


@pytest.mark.slow
def test_demo_fast_runs_one_seed_of_a_small_network(tmp_path: Path):
    # its time (target: < 20 s on 2 idle cores) is measured by benchmarks/bench_cli.py, not asserted here
    res = run_cli(["demo", "--fast", "-o", "d.h5", "--report", "d.html"], cwd=tmp_path, timeout=300,
                  PYTHONPATH=os.environ.get("PYTHONPATH"))
    assert res.returncode == 0, res.stderr
    import sigbench as sb

    out = sb.load_results(tmp_path / "d.h5")
    neural = [r for r in out.rows if r.family == "neural"]
    assert len(neural) == 1 and neural[0].seeds == [0]


def test_packaging_lists_every_shipped_folder():
    """No BuildBackendWarning: every folder that ships files is in `packages` (setuptools warns otherwise)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = {k: ROOT / v for k, v in config["package-dir"].items()}
    listed = set(config["packages"])
    for root_name, root in dirs.items():
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts or not any(f.is_file() for f in folder.iterdir()):
                continue
            dotted = ".".join([root_name, *folder.relative_to(root).parts])
            owner = next((k for k in sorted(dirs, key=len, reverse=True) if dotted.startswith(k)), root_name)
            if owner != root_name:
                continue
            assert dotted in listed, f"{dotted} ships files but is not in [tool.setuptools] packages"


def test_docs_options_table_names_every_option():
    text = (ROOT / "docs" / "cli.md").read_text()
    table = text[text.index("## Options"):text.index("## Exit codes") if "## Exit codes" in text[
        text.index("## Options"):] else text.index("## Method specifications")]
    for path, cmd in _commands():
        for opt in _options(cmd):
            name = next(o for o in opt.opts if o.startswith("--"))
            assert f"`{name}`" in table, (path, name)


_STUDY = """\
methods = ["wiener"]

[signal]
source = "sines"
n = 800

[protocol]
train_samples = 600
seeds = 1

[output]
results = "study.h5"
"""


def test_pipeline_run_writes_into_the_current_folder_or_output_dir(tmp_path: Path, monkeypatch):
    """Issue 18 item 4: never next to the TOML unless asked (--output-dir)."""
    studies, work = tmp_path / "studies", tmp_path / "work"
    studies.mkdir()
    work.mkdir()
    (studies / "s.toml").write_text(_STUDY)
    monkeypatch.chdir(work)
    res = _invoke(["pipeline", "run", str(studies / "s.toml"), "-q"])
    assert res.returncode == 0, res.stderr
    assert (work / "study.h5").exists() and not (studies / "study.h5").exists()
    res = _invoke(["pipeline", "run", str(studies / "s.toml"), "--output-dir", str(tmp_path / "out"), "-q"])
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "study.h5").exists()


def test_python_api_is_silent_unless_asked(capsys):
    """Issue 18 item 2: the Python API prints nothing by default; verbosity() or the logger asks for it."""
    import logging

    import sigbench as sb
    from sigbench.console import set_quiet, verbosity

    set_quiet(None)  # the library default (a CLI call earlier in this process chose a level)
    try:
        sig = sb.generate("sines", n=600, seed=0)
        sb.compare(sig, methods=["wiener"], window=8)
        assert capsys.readouterr().err == ""
        with verbosity(True):
            sb.compare(sig, methods=["wiener"], window=8)
        assert "wiener: fit" in capsys.readouterr().err
        logger = logging.getLogger("sigbench")
        level = logger.level
        logger.setLevel(logging.INFO)
        try:
            sb.compare(sig, methods=["wiener"], window=8)
        finally:
            logger.setLevel(level)
        assert "wiener: fit" in capsys.readouterr().err
    finally:
        set_quiet(False)


@pytest.mark.slow
def test_wheel_builds_without_packaging_warnings(tmp_path: Path):
    """Issue 18 item 7: no BuildBackendWarning (a real wheel build of a copy of the tracked files)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for name in files:
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            target.write_bytes((ROOT / name).read_bytes())
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-v",
                           "-w", str(tmp_path / "wheel")], cwd=src, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout + proc.stderr
    assert "BuildBackendWarning" not in text and "is absent from the `packages` configuration" not in text
