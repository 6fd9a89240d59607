"""``sigbench report`` and ``sigbench plot`` (in-process through typer's runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sigbench.cli import ExitCode, app
from sigbench.results import list_runs

PNG = b"\x89PNG\r\n\x1a\n"


def invoke(args: list[str]):
    return CliRunner().invoke(app, args, prog_name="sigbench")


def test_report_html(stored_run: Path, tmp_path: Path):
    out = tmp_path / "report.html"
    result = invoke(["report", str(stored_run), "-o", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "Wrote" in result.stderr


def test_report_markdown_with_run_id(stored_run: Path, tmp_path: Path):
    out = tmp_path / "report.md"
    run = list_runs(stored_run)[-1]
    result = invoke(["report", str(stored_run), "--run", run, "-o", str(out), "--format", "md"])
    assert result.exit_code == ExitCode.OK, result.output
    assert run in out.read_text(encoding="utf-8")
    pngs = sorted((tmp_path / "report_files").glob("*.png"))
    assert pngs and all(p.read_bytes().startswith(PNG) for p in pngs)


@pytest.mark.parametrize("what", ["overlay", "errors", "leaderboard", "cost", "learning", "response"])
def test_plot_each_figure_of_a_compare_run(stored_run: Path, tmp_path: Path, what: str):
    out = tmp_path / f"{what}.png"
    result = invoke(["plot", str(stored_run), "--what", what, "-o", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    assert out.read_bytes().startswith(PNG)


def test_plot_sweep_and_spectrum(sweep_run: Path, spectrum_run: Path, tmp_path: Path):
    for run, what in ((sweep_run, "sweep"), (spectrum_run, "spectrum")):
        out = tmp_path / f"{what}.svg"
        result = invoke(["plot", str(run), "--what", what, "-o", str(out)])
        assert result.exit_code == ExitCode.OK, result.output
        assert "<svg" in out.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["plot", "{run}", "--what", "nope", "-o", "{tmp}/x.png"], "received: what='nope'"),  # unknown figure
    (["plot", "{run}", "--what", "sweep", "-o", "{tmp}/x.png"], "expected a sweep result"),  # not a sweep
    (["plot", "{run}", "--what", "cost", "-o", "{tmp}/x.jpg"], "received: x.jpg"),  # unsupported format
    (["report", "{run}", "-o", "{tmp}/x.html", "--format", "pdf"], "received: format='pdf'"),  # bad format
    (["report", "{run}", "-o", "{tmp}/x.html", "--run", "nope"], "received: run='nope'"),  # unknown run
])
def test_usage_errors_are_one_line(stored_run: Path, tmp_path: Path, args: list[str], message: str):
    argv = [a.format(run=stored_run, tmp=tmp_path) for a in args]
    result = invoke(argv)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_missing_file_is_refused_by_typer(tmp_path: Path):
    result = invoke(["report", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == ExitCode.USAGE
    assert "does not exist" in result.stderr
