"""The HTML and Markdown reports: self-contained, complete, escaped, written atomically."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sigbench import plots
from sigbench.errors import ValidationError
from sigbench.report import render_html, verdicts, write_report
from sigbench.results import Results, load_results

from .conftest import FAILED, NEURAL, NEURAL_GAIN_DB, NEURAL_MACS_RATIO, with_label

PNG = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects tags, attributes and text; fails on unbalanced structure through ``stack``."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    assert page.stack == [], f"unclosed tags: {page.stack}"
    return page


@pytest.fixture(scope="module")
def html_report(stored_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, str]:
    results = load_results(stored_run)
    path = write_report(results, tmp_path_factory.mktemp("html") / "report.html")
    return results, path.read_text(encoding="utf-8")


def test_html_parses_and_embeds_every_figure(html_report):
    res, text = html_report
    page = _parse(text)
    imgs = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(imgs) == len(plots.available_figures(res))
    for attrs in imgs:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG)
    ids = [attrs.get("id") for tag, attrs in page.tags if tag == "figure"]
    assert ids == [f"fig-{name}" for name in plots.available_figures(res)]


def test_html_names_every_method_and_marks_the_failed_one(html_report):
    res, text = html_report
    page = _parse(text)
    body = "\n".join(page.text)
    for row in res.rows:
        assert row.method in body
    failed_rows = [attrs for tag, attrs in page.tags if tag == "tr" and attrs.get("class") == "failed"]
    assert len(failed_rows) == 2  # in the leaderboard and in the details table
    assert f"failed: {res.row(FAILED).error}" in body


def test_html_needs_no_network(html_report):
    _, text = html_report
    page = _parse(text)
    assert not re.search(r"https?://", text, re.IGNORECASE)
    assert not re.search(r"url\(", text, re.IGNORECASE)  # no CSS fetch
    assert all(tag not in ("script", "link", "iframe", "object", "embed") for tag, _ in page.tags)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "poster"):
            if name in attrs:
                assert (attrs[name] or "").startswith("data:"), (tag, name, attrs[name])
    csp = next(attrs["content"] for tag, attrs in page.tags
               if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in (csp or "")


def test_html_header_has_signal_protocol_seeds_environment_and_hash(html_report):
    res, text = html_report
    body = "\n".join(_parse(text).text)
    from sigbench.results import config_hash

    for needle in ("Signal", "Protocol", "Environment", "config hash", config_hash(res.config), res.run_id,
                   "seeds", str(res.signal["samples"]), res.environment["numpy"]):
        assert needle in body, needle


def test_html_escapes_text_from_the_file(results: Results, tmp_path: Path):
    evil = '<img src="http://example.invalid/x.png">'
    res = with_label(results, "naive", evil)
    res.warnings.append("<script>alert(1)</script>")
    text = render_html(res)
    assert evil not in text and "<script>" not in text
    assert "&lt;img src=&quot;http://example.invalid/x.png&quot;&gt;" in text
    page = _parse(text)
    assert all((a.get("src") or "").startswith("data:") for t, a in page.tags if t == "img")


def test_verdict_is_computed_from_the_metrics(results: Results):
    lines = verdicts(results)
    assert len(lines) == 1
    line = lines[0]
    excess = f"{-NEURAL_GAIN_DB:.2f}".replace("-", "−")  # the table's sign convention: negative is better
    assert line.startswith(f"{NEURAL}: beats the wiener reference (excess {excess} ± 0.20 dB)")
    assert f"at {NEURAL_MACS_RATIO:,.0f}× the MACs per sample and 10× the fit time" in line
    lms_gap = results.row(NEURAL).metrics["snr_db"] - results.row("lms").metrics["snr_db"]
    assert f"beats LMS by {lms_gap:.2f} dB" in line


def test_verdict_when_the_network_loses(results: Results):
    row = results.row(NEURAL)
    lms = results.row("lms").metrics["snr_db"]
    row.metrics.update({"excess_db": 4.0, "excess_db_ci": 0.5, "snr_db": lms - 1.0, "snr_db_ci": 0.5})
    line = verdicts(results)[0]
    assert "does not reach the wiener reference (excess +4.00 ± 0.50 dB)" in line
    assert "does not beat LMS (1.00 dB behind)" in line
    row.metrics.update({"excess_db": 0.1, "excess_db_ci": 0.3})
    assert "ties the wiener reference (excess 0.10 ± 0.30 dB" in verdicts(results)[0]
    row.status, row.error = "failed", "ProcessorError: out of memory"
    assert verdicts(results) == [f"{NEURAL}: failed — ProcessorError: out of memory"]


def test_verdict_without_a_bound_compares_with_the_best_dsp_row(spectrum_run):
    res = load_results(spectrum_run)
    assert verdicts(res) == []  # no neural row
    assert res.row("fft").is_reference and "excess_db" not in res.row("wiener").metrics  # exact: no excess
    fake = res.row("wiener")
    fake.family = "neural"
    ratio = fake.cost["macs_per_sample"] / res.row("fft").cost["macs_per_sample"]
    (line,) = verdicts(res)
    assert line == (f"wiener: does not beat fft, the best DSP method (snr_db {fake.metrics['snr_db']:.2f} "
                    f"vs ∞) at {ratio:.2g}× its MACs per sample (1 seed).")


def test_markdown_writes_pngs_beside(results: Results, tmp_path: Path):
    out = write_report(results, tmp_path / "paper.md", fmt="md")
    text = out.read_text(encoding="utf-8")
    folder = tmp_path / "paper_files"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == len(plots.available_figures(results))
    for link in links:
        assert link.startswith("paper_files/")
        assert (tmp_path / link).read_bytes().startswith(PNG)
    for row in results.rows:
        assert row.method in text
    assert f"| {FAILED} | failed: DivergedError" in text
    assert not re.search(r"https?://", text)
    # a rewrite replaces the folder as a whole (a stale figure does not survive)
    (folder / "stale.png").write_bytes(PNG)
    write_report(results, out, fmt="md")
    assert not (folder / "stale.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.md", "paper_files"]  # no temp left


def test_sweep_and_spectrum_reports(sweep_run, spectrum_run, tmp_path: Path):
    for run, figure in ((sweep_run, "sweep"), (spectrum_run, "spectrum")):
        res = load_results(run)
        text = write_report(res, tmp_path / f"{figure}.html").read_text(encoding="utf-8")
        page = _parse(text)
        assert f"fig-{figure}" in [a.get("id") for t, a in page.tags if t == "figure"]
        body = "\n".join(page.text)
        for row in res.rows:
            assert row.method in body


def test_write_report_validates_and_is_atomic(results: Results, tmp_path: Path):
    with pytest.raises(ValidationError, match="received: format='pdf'"):
        write_report(results, tmp_path / "r.pdf", fmt="pdf")
    with pytest.raises(ValidationError, match="folder"):
        write_report(results, tmp_path)
    target = tmp_path / "r.html"
    target.write_text("previous")

    class Boom(RuntimeError):
        pass

    def broken(*args, **kwargs):
        raise Boom

    mp = pytest.MonkeyPatch()
    mp.setattr("sigbench.report.render_html", broken)
    try:
        with pytest.raises(Boom):
            write_report(results, target)
    finally:
        mp.undo()
    assert target.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
