"""The HTML report in a real browser: headless Chromium renders it from ``file://`` with no network.

Needs the Debian package ``chromium`` (``apt-get install -y --no-install-recommends chromium``); skipped
with a reason when it is absent. Any HTTP(S) request goes to a dead proxy (``127.0.0.1:9``) and is
recorded in Chromium's net log: a request *started by the page* (its initiator is an origin, unlike
Chromium's own background requests, whose initiator is "not an origin") fails the test. A control page
that does reference the network proves the detector sees such a request.

Layout at 1280 px (issue 18): a measuring copy of the report (its Content-Security-Policy removed so that one
inline script may run) reports the page's and each table's scroll width against the viewport and each
figure's rendered box; no horizontal scroll and every figure wholly inside the page. The figures' own text
is checked inside each figure's bounding box in ``test_layout.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sigbench.report import write_report
from sigbench.results import load_results

pytestmark = pytest.mark.browser

#: tab10 blue and orange: the first two methods' colours in every figure
FIGURE_COLOURS = ((31, 119, 180), (255, 127, 14))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.skip("headless Chromium not installed (Debian: apt-get install -y --no-install-recommends chromium)")


def _render(page: Path, tmp: Path) -> tuple[np.ndarray, list[dict]]:
    """Screenshot ``page`` and return ``(RGB pixels, URL requests from the net log)``."""
    shot, netlog, profile = tmp / "shot.png", tmp / "net.json", tmp / "profile"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-default-apps",
           f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", f"--log-net-log={netlog}",
           "--hide-scrollbars", "--window-size=1280,8000", f"--screenshot={shot}", page.resolve().as_uri()]
    env = {**os.environ, "HOME": str(tmp)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert shot.exists(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    import matplotlib.image

    pixels = (np.asarray(matplotlib.image.imread(shot))[..., :3] * 255).round().astype(np.int16)
    log = json.loads(netlog.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = [ev["params"] for ev in log["events"]
                if types.get(ev["type"]) == "URL_REQUEST_START_JOB" and "url" in ev.get("params", {})]
    return pixels, requests


def _from_page(requests: list[dict]) -> list[str]:
    """URLs of requests started by a page (Chromium's own requests have initiator 'not an origin')."""
    return [r["url"] for r in requests if r.get("initiator") != "not an origin"]


def test_report_renders_in_chromium_without_network(stored_run: Path, tmp_path: Path):
    report = write_report(load_results(stored_run), tmp_path / "report.html")
    pixels, requests = _render(report, tmp_path)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    assert float(pixels.std()) > 10.0, "blank screenshot"
    for colour in FIGURE_COLOURS:  # the embedded figures were decoded and drawn
        near = np.abs(pixels - np.array(colour)).max(axis=-1) < 12
        assert int(near.sum()) > 200, f"no figure pixels of colour {colour}"
    assert _from_page(requests) == []


_MEASURE = """<script>
window.addEventListener('load', function () {
  var root = document.documentElement, out = {viewport: root.clientWidth, page: root.scrollWidth,
    tables: [], figures: []};
  document.querySelectorAll('table').forEach(function (t) {
    out.tables.push({scroll: t.scrollWidth, client: t.clientWidth, right: t.getBoundingClientRect().right});
  });
  document.querySelectorAll('figure img').forEach(function (img) {
    var r = img.getBoundingClientRect();
    out.figures.push({left: r.left, right: r.right, width: r.width, natural: img.naturalWidth,
      loaded: img.complete && img.naturalWidth > 0});
  });
  var pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _measure(page: Path, tmp: Path, width: int = 1280) -> dict:
    """Layout numbers of ``page`` rendered ``width`` px wide (see the module docstring)."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    probe = tmp / "measure.html"
    probe.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp / 'profile-measure'}", "--proxy-server=127.0.0.1:9", f"--window-size={width},2000",
           "--virtual-time-budget=10000", "--dump-dom", probe.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp)})
    found = re.search(r'<pre id="measure">(.*?)</pre>', proc.stdout, flags=re.S)
    assert found, f"no measurement (exit {proc.returncode}): {proc.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("width", [1280, 800])  # a laptop window; an A4 page's printable width (~794 px)
def test_report_fits_1280_px_without_horizontal_scroll_or_clipped_figures(stored_run: Path, tmp_path: Path,
                                                                          width: int):
    report = write_report(load_results(stored_run), tmp_path / "report.html")
    m = _measure(report, tmp_path, width)
    assert m["viewport"] == width
    assert m["page"] <= m["viewport"], m  # no horizontal scroll of the page
    assert m["tables"] and all(t["scroll"] <= t["client"] + 1 and t["right"] <= m["viewport"] for t in m["tables"]), m
    assert m["figures"] and all(f["loaded"] for f in m["figures"])
    for f in m["figures"]:  # every figure wholly on the page, never cut by the viewport
        assert f["left"] >= 0 and f["right"] <= m["viewport"] + 0.5, f


def test_the_network_detector_sees_a_page_request(tmp_path: Path):
    # control: without this, a detector that never fires would pass the test above
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><p>control</p>'
                    '<img src="http://sigbench-control.invalid/x.png"></body></html>')
    _, requests = _render(page, tmp_path)
    assert any("sigbench-control.invalid" in url for url in _from_page(requests))
