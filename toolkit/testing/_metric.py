"""``check_metric``: the conformance checks of a metric ``fn(y_true, y_pred, context) -> float``."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sigbench.errors import ValidationError
from sigbench.testing._processor import _kept_global_rng, _rng_states_equal
from sigbench.testing._report import ConformanceReport, expect, not_supported

__all__ = ["check_metric", "default_context"]


def default_context(y_true: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """A context like the engine's: ``sample_rate_hz``, ``observed_at_target`` (noisy targets), ``bound_mse``."""
    return {"sample_rate_hz": 1.0, "observed_at_target": y_true + rng.normal(scale=0.5, size=y_true.shape),
            "bound_mse": 0.01}


def _read_only(a: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=np.float64)
    out.setflags(write=False)
    return out


def check_metric(
    fn: str | Callable[..., float],
    *,
    higher_is_better: bool | None = None,
    context: Mapping[str, Any] | None = None,
    rows: int = 200,
    seed: int = 0,
    strict: bool = True,
) -> ConformanceReport:
    """Run the metric contract checks and return the report.

    Checks: ``returns a float`` (a finite float for a 1-D imperfect prediction), ``2-D targets``
    (``(rows, outputs)`` arrays pooled into one float; a ``ValueError`` there is recorded as *not
    supported*), ``direction`` (with ``higher_is_better`` known: a prediction with less error scores better),
    ``inputs untouched`` (read-only arrays, not modified), ``no global RNG`` (same value under other
    global seeds, global states left alone).

    Parameters
    ----------
    fn : str or callable
        A registered metric name (its ``higher_is_better`` comes from the registry) or ``fn(y_true, y_pred,
        context) -> float``.
    higher_is_better : bool, optional
        Direction; needed for the ``direction`` check when ``fn`` is a callable.
    context : mapping, optional
        The ``context`` argument; default :func:`default_context`.
    rows : int, default 200
    seed : int, default 0
        Seed of the ``default_rng`` drawing the test data.
    strict : bool, default True
        Raise ``AssertionError`` when a check fails.

    Returns
    -------
    ConformanceReport

    Examples
    --------
    >>> from sigbench.testing import check_metric
    >>> check_metric("rmse").passed
    True
    """
    if isinstance(fn, str):
        from sigbench.host import get_host

        entry = get_host().registry.get("metrics", fn)
        label, func = fn, entry.obj
        if higher_is_better is None:
            higher_is_better = bool(entry.info.get("higher_is_better", False))
    else:
        label, func = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}", fn
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    y = np.sin(0.07 * t) + 0.5 * np.sin(0.31 * t)
    small = y + rng.normal(scale=0.05, size=rows)
    large = y + rng.normal(scale=0.4, size=rows)
    ctx = dict(context) if context is not None else default_context(y, rng)
    report = ConformanceReport("metric", label)

    def value(y_true: np.ndarray, y_pred: np.ndarray, c: Mapping[str, Any] | None = None) -> float:
        out = func(_read_only(y_true), _read_only(y_pred), dict(ctx if c is None else c))
        expect(isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, bool),
               f"returned {type(out).__name__}, expected a float")
        return float(out)

    with _kept_global_rng():
        with report.check("returns a float"):
            v = value(y, large)
            expect(math.isfinite(v), f"returned {v!r} for an imperfect prediction; expected a finite value")
        with report.check("2-D targets"):
            y2, p2 = np.stack([y, -y], axis=1), np.stack([large, -small], axis=1)
            c2 = dict(ctx)
            if "observed_at_target" in c2:
                c2["observed_at_target"] = np.stack([c2["observed_at_target"], -c2["observed_at_target"]], axis=1)
            try:
                v2 = value(y2, p2, c2)
            except (ValueError, ValidationError) as exc:
                not_supported(f"refused (rows, outputs) arrays: {exc}")
            else:
                expect(math.isfinite(v2), f"returned {v2!r} for 2-D targets; expected a finite value")
        with report.check("direction"):
            if higher_is_better is None:
                not_supported("higher_is_better unknown (pass higher_is_better=)")
            better, worse = value(y, small), value(y, large)
            ok = better > worse if higher_is_better else better < worse
            expect(ok, f"less error scored {better:.4g}, more error {worse:.4g}; with higher_is_better="
                       f"{higher_is_better} the first must be {'higher' if higher_is_better else 'lower'}")
        with report.check("inputs untouched"):
            a, b = np.array(y), np.array(large)
            value(a, b)
            expect(bool(np.array_equal(a, y) and np.array_equal(b, large)), "the metric modified its inputs")
        with report.check("no global RNG"):
            np.random.seed(1)
            random.seed(1)
            first = value(y, large)
            np.random.seed(2)
            random.seed(2)
            np_before, py_before = np.random.get_state(), random.getstate()
            second = value(y, large)
            problems = []
            if not _rng_states_equal(np.random.get_state(), np_before):
                problems.append("consumed or reseeded NumPy's global RNG")
            if random.getstate() != py_before:
                problems.append("consumed or reseeded Python's global `random` state")
            if first != second:
                problems.append(f"the value depends on the global RNG state ({first!r} vs {second!r})")
            expect(not problems, lambda: "; ".join(problems))
    if strict:
        report.raise_for_failures()
    return report
