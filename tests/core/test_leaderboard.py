"""The terminal leaderboard (issue 18 item 1): fits 80 columns, never cuts a cell to an ellipsis, one number
format per column, references as data-driven columns, sweeps in numeric grid order."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from sigbench.leaderboard import build_leaderboard, print_leaderboard, reference_columns
from sigbench.numfmt import eng, fixed
from sigbench.results import MethodRow, Results

FIR = "fir-bank:mode=features,numtaps=31,bands=16"
#: the demo's methods with numbers of the size the founding experiment gives (rng-jittered)
_DEMO = [("lstm", "neural", 22.61, 0.31, 40_512, 61.2), ("cnn-lstm", "neural", 21.9, 0.52, 118_344, 83.4),
         ("dnn", "neural", 20.25, 0.18, 6_450, 9.44), ("wiener", "dsp", 19.76, None, 64, 0.0528),
         (FIR, "dsp", 19.1, None, 1_008, 0.41), ("cnn", "neural", 18.7, 1.2, 958_780, 31.0),
         ("lms", "dsp", 16.52, None, 128, 0.5), ("naive", "dsp", 6.4, None, 0, 0.00012)]


def demo_results(rng: np.random.Generator, *, extra_refs: bool = False, grid: list[dict] | None = None,
                 failed: bool = False) -> Results:
    rows = []
    for point in grid or [{}]:
        for name, family, snr, ci, macs, fit in _DEMO:
            snr = snr + float(rng.normal(0, 0.05))
            metrics = {"snr_db": snr, "snr_db_ci": ci, "mse": 10 ** (-snr / 10) * 1.5, "mse_ci": None,
                       "snr_gain_db": snr - 11.8, "excess_db": 19.76 - snr}
            if extra_refs:
                metrics["excess_oracle_db"] = 20.1 - snr
                metrics["excess_limit_db"] = 31.0 - snr
            cost = {"params": macs // 2 or None, "macs_per_sample": float(macs), "fit_s": fit,
                    "samples_per_s": float(rng.uniform(1e4, 4e6)), "latency_s": float(rng.uniform(1e-6, 1e-3)),
                    "memory_bytes": macs * 4}
            rows.append(MethodRow(method=name, name=name.split(":")[0], family=family, seeds=[0, 1, 2] if ci else [0],
                                  metrics=metrics, cost=cost, grid=dict(point), is_reference=name == "wiener"))
    if failed:
        rows.append(MethodRow(method="rls", name="rls", family="dsp", status="failed",
                              error="diverged: the error grew past 1e6 at sample 812", grid=dict((grid or [{}])[0])))
    return Results(run_id="r1", kind="sweep" if grid else "compare", task="predict", main_metric="snr_db",
                   higher_is_better=True,
                   signal={"name": "founding", "samples": 5000, "target_kind": "clean"} if not grid else
                   {"name": "sines", "samples": 3000},
                   protocol={}, bound={"method": "wiener", "mse": 0.0161, "snr_db": 19.76}, config={}, rows=rows)


def render(res: Results, width: int, wide: bool | None = None) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, force_terminal=False)
    print_leaderboard(res, console, wide=wide)
    return console.file.getvalue()


def header_of(text: str) -> str:
    """The header lines of the table (a header may take two lines), up to the rule under them."""
    lines = text.splitlines()
    rule = next(i for i, ln in enumerate(lines) if ln.startswith("──"))
    start = next(i for i in range(rule, -1, -1) if " method " in lines[i])
    return "\n".join(lines[start - 1 if start and "Δ" in lines[start - 1] else start:rule])


@pytest.mark.parametrize("width", [80, 100, 160])
def test_demo_leaderboard_fits_without_ellipsis(rng, width):
    """Done-when of issue 18: the demo leaderboard at 80, 100 and 160 columns; no ellipsis anywhere, every
    method and every main-metric value printed whole, no line wider than the terminal."""
    res = demo_results(rng, failed=True)
    text = render(res, width)
    assert "…" not in text and "..." not in text
    assert max(len(ln) for ln in text.splitlines()) <= width, text
    for row in res.rows:
        if row.status != "ok":
            continue
        main = fixed(row.metrics["snr_db"])
        if row.metrics["snr_db_ci"] is not None:
            main += f" ± {fixed(row.metrics['snr_db_ci'])}"
        assert main in text, (main, text)
        short = row.method if row.method in text else row.method.split(":")[0] + " ["
        assert short in text, (row.method, text)
    assert FIR in text  # spelled out: in the table, or in the legend of abbreviations
    assert "failed (1)" in text and "(1) rls: diverged" in text


def test_80_columns_shows_the_compact_set_and_says_what_is_hidden(rng):
    text = render(demo_results(rng), 80)
    header = header_of(text)
    for col in ("#", "method", "SNR dB", "Δ ref", "MACs", "fit"):
        assert col in header
    assert "Not shown at this width" in text and "--wide" in text
    wide = render(demo_results(rng), 80, wide=True)
    assert "samples/s" in wide and "latency" in wide and "Not shown" not in wide and "…" not in wide


def test_160_columns_adds_secondary_columns(rng):
    text = render(demo_results(rng), 160)
    header = header_of(text)
    assert "family" in header and "samples/s" in header
    assert FIR in text.split("\n\n")[0] or FIR in header or f"{FIR} " in text


def test_one_number_format_per_column(rng):
    text = render(demo_results(rng), 160, wide=True)
    assert not re.search(r"\d[eE][+-]\d", text), text  # no 3e+06 next to 958780
    assert "959 k" in text  # cnn's MACs in engineering notation
    assert "52.8 ms" in text and "9.44 s" in text  # fit times with SI prefixes


def test_reference_columns_are_data_driven(rng):
    res = demo_results(rng, extra_refs=True)
    assert [c.key for c in reference_columns(res)] == ["excess_db", "excess_oracle_db", "excess_limit_db"]
    text = render(res, 80)
    for header in ("Δ ref", "Δ oracle", "Δ limit"):
        assert header in text
    assert "…" not in text and max(len(ln) for ln in text.splitlines()) <= 80
    assert "> 0: more error than the reference" in " ".join(text.split())


def test_sweep_in_numeric_grid_order_with_named_columns(rng):
    res = demo_results(rng, grid=[{"snr_db": 20}, {"snr_db": 5}, {"snr_db": 10}, {"snr_db": 0}])
    res.sort()
    text = render(res, 100)
    assert "?" not in text.splitlines()[0]
    header = header_of(text)
    assert "grid snr_db" in header and header.count("snr_db") == 1 and "SNR dB" in header
    firsts = [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s+1\s", text, flags=re.M)]
    assert firsts == [0, 5, 10, 20], text
    assert "naive repeats the last sample" in text


def test_number_formats():
    assert eng(3310204.3) == "3.31 M" and eng(958780) == "959 k" and eng(64) == "64" and eng(0) == "0"
    assert eng(0.0528, "s") == "52.8 ms" and eng(9.4e-6, "s") == "9.40 µs" and eng(999.96) == "1.00 k"
    assert eng(None) == "—" and eng(float("nan")) == "—" and eng(float("inf")) == "∞"
    assert fixed(-0.4915) == "−0.49" and fixed(-0.001) == "0.00" and fixed(19.7636) == "19.76"


def test_layout_keeps_whole_labels_when_they_fit(rng):
    board = build_leaderboard(demo_results(rng), 200)
    assert not any(line.startswith("[a]") for line in board.legend)
