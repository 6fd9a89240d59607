"""Report layout (issue 18 item 5): text inside every figure, literal ``$``, the residual spectrum, the split
said once and truthfully, one excess sign convention, the report's tables in numeric grid order, 150 dpi,
and one clear line without matplotlib."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sigbench import plots
from sigbench.errors import MissingDependencyError
from sigbench.report import render_html, verdicts
from sigbench.results import Results, load_results

from .conftest import NEURAL


def _overflow(fig, tolerance: float = 0.02) -> list[str]:
    """Sides where the drawn figure (its tight bounding box: every visible text, tick label and legend)
    leaves the figure's own box, in inches beyond ``tolerance``: text a plain save would clip."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    tight = fig.get_tightbbox(canvas.get_renderer())
    width, height = fig.get_size_inches()
    out = []
    if tight.x0 < -tolerance:
        out.append(f"left by {-tight.x0:.2f} in")
    if tight.y0 < -tolerance:
        out.append(f"bottom by {-tight.y0:.2f} in")
    if tight.x1 > width + tolerance:
        out.append(f"right by {tight.x1 - width:.2f} in")
    if tight.y1 > height + tolerance:
        out.append(f"top by {tight.y1 - height:.2f} in")
    return out


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. "constrained_layout not applied": axes collapsed
@pytest.mark.parametrize("which", ["results", "sweep_run", "spectrum_run"])
def test_no_figure_text_is_clipped(request, which):
    res = request.getfixturevalue(which)
    res = res if isinstance(res, Results) else load_results(res)
    for name in plots.available_figures(res):
        fig = plots.make_figure(res, name)
        assert _overflow(fig) == [], name


def test_dollar_and_mathtext_characters_are_literal(results: Results, tmp_path: Path):
    row = results.row("naive")
    old = row.method
    row.method = "naive $x^2$ \\alpha_1"
    for (m, seed), pred in list(results.predictions.items()):
        if m == old:
            results.predictions[(row.method, seed)] = pred
    results.signal["name"] = "price in $ and _under_"
    for name in plots.available_figures(results):
        fig = plots.make_figure(results, name)
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        fig.savefig(tmp_path / f"{name}.png")  # mathtext would raise ValueError here
        if name in ("overlay", "leaderboard", "errors"):
            assert any("$x^2$" in t for t in texts), name


def test_residual_spectrum_per_method(results: Results):
    fig = plots.make_figure(results, "residual")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    ok = [r.method for r in results.rows if r.status == "ok"]
    assert sorted(titles) == sorted(ok)
    # physics: the naive predictor's residual has more power than the reference's, summed over frequency
    naive = next(ax for ax in fig.axes if ax.get_title() == "naive")
    own = next(ln for ln in naive.get_lines() if ln.get_label() == "naive residual")
    ref = next(ln for ln in naive.get_lines() if ln.get_label() == "wiener residual")
    assert np.mean(10 ** (own.get_ydata() / 10)) > np.mean(10 ** (ref.get_ydata() / 10))
    assert all(ax.get_xlabel() in ("frequency (Hz)", "") for ax in fig.axes)


def test_split_is_said_once_and_truthfully(results: Results):
    text = render_html(results, dpi=20)
    protocol = text[text.index("<h2>Protocol</h2>"):text.index("<h2>Verdict</h2>")]
    assert protocol.count("split") == 1
    assert "train: the first 2400 samples; test: the remaining 600" in html.unescape(protocol)
    assert "0.60/0.20/0.20" not in protocol  # the fractions were not applied


def test_one_sign_convention_for_excess(results: Results):
    text = html.unescape(render_html(results, dpi=20))
    assert "negative means less error than the reference" in text
    row = results.row(NEURAL)
    excess = f"{row.metrics['excess_db']:.2f}".replace("-", "−")
    assert excess in text  # the table's number ...
    assert f"(excess {excess} ± 0.20 dB)" in verdicts(results)[0]  # ... and the verdict's, same sign


def test_report_table_keeps_numeric_grid_order(sweep_run):
    res = load_results(sweep_run)
    res.rows.sort(key=lambda r: str(r.grid["snr_db"]))  # text order, as an older file may hold
    text = render_html(res, dpi=20)
    table = text[text.index("<h2>Leaderboard</h2>"):text.index("<h2>Details</h2>")]
    cells = re.findall(r"<tr[^>]*><td>([0-9.]+)</td>", table)
    values = [float(c) for c in cells]
    assert values == sorted(values) and len(set(values)) == 3


def test_figures_are_150_dpi(results: Results):
    import base64
    import struct

    text = render_html(results)
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1))
    chunk = png.index(b"pHYs")
    ppm = struct.unpack(">I", png[chunk + 4:chunk + 8])[0]
    assert round(ppm * 0.0254) == 150


def test_without_matplotlib_one_clear_line(results: Results, monkeypatch, tmp_path: Path):
    import builtins

    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError("No module named 'matplotlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(MissingDependencyError, match=r"pip install 'sigbench\[plots\]'"):
        plots.make_figure(results, "overlay")
    from sigbench.report import write_report

    with pytest.raises(MissingDependencyError):
        write_report(results, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_report_command_without_matplotlib_is_one_line(stored_run: Path, monkeypatch, tmp_path: Path):
    import builtins

    from typer.testing import CliRunner

    from sigbench.cli import app

    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError("No module named 'matplotlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    res = CliRunner().invoke(app, ["report", str(stored_run), "-o", str(tmp_path / "r.html")])
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1, res.stderr
    assert lines[0] == "Error: figures and reports need matplotlib; install it with pip install 'sigbench[plots]'"
