"""``check_processor``: the conformance checks every processor, built-in or third-party, must pass."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._json import json_default_strict
from sigbench.errors import SigbenchError, ValidationError
from sigbench.processor import DESCRIBE_KEYS, Processor
from sigbench.testing._data import ConformanceData, make_data
from sigbench.testing._report import ConformanceReport, expect, not_supported, skip

__all__ = ["HEAVY_MODULES", "TIMING_KEYS", "check_processor"]

#: top-level modules a ``family="dsp"`` processor must not import (directly or through its plugin module)
HEAVY_MODULES = ("tensorflow", "keras", "jax", "torch")
#: ``describe()`` keys that may differ between a processor and its saved-and-loaded copy
TIMING_KEYS = ("fit_s", "train_s", "predict_s")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_FAMILIES = ("dsp", "neural")
#: chunk sizes for the online check (the rest goes in the last chunk)
_CHUNKS = (1, 2, 5, 16)


def check_processor(
    cls: type[Processor],
    init_kwargs: Mapping[str, Any] | None = None,
    *,
    window: int = 16,
    n_rows: int = 240,
    targets: str = "scalar",
    n_outputs: int = 3,
    sample_rate: float = 1.0,
    data_seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    check_imports: bool = True,
    directory: str | os.PathLike[str] | None = None,
    strict: bool = True,
) -> ConformanceReport:
    """Run the processor contract checks on ``cls`` and return the report.

    Every check runs (a failing one does not stop the others); in strict mode the report is then raised
    as one ``AssertionError`` listing every failure.

    Checks
    ------
    ``tags``
        ``name`` lowercase (``[a-z0-9][a-z0-9._-]*``), ``family`` in ``{"dsp", "neural"}``, boolean
        ``online``/``causal``/``deterministic``, ``requires`` a tuple of str, JSON-serialisable
        ``get_params()``, and ``predict`` before ``fit`` raising a :class:`~sigbench.SigbenchError`.
    ``fit/predict, 1-D targets`` and ``fit/predict, 2-D targets``
        ``fit`` returns the processor; ``predict`` gives finite floats of shape ``(rows,)`` or
        ``(rows, n_outputs)``, also for a single row. The shape that is not ``targets`` may be refused with
        a ``ValidationError`` at ``fit`` (recorded as *not supported*).
    ``describe() keys``
        Every key of :data:`~sigbench.processor.DESCRIBE_KEYS`, with consistent name, family, params and
        non-negative counts; JSON-serialisable.
    ``save/load round trip``
        ``cls.load(cls.save(dir))`` predicts the same (``allclose`` with ``rtol``/``atol``) and describes
        itself identically, apart from :data:`TIMING_KEYS`.
    ``seeded determinism``
        Two fits with the same parameters predict identically; for ``deterministic=False`` processors with
        a ``seed`` parameter another seed predicts differently.
    ``no global RNG``
        Results do not depend on ``np.random.seed``/``random.seed``, and fitting and predicting leave both
        global states untouched.
    ``input validation``
        NaN or inf in the inputs or targets at ``fit``, NaN in the inputs at ``predict`` (as a window view
        and as a plain array), windows of another length, and 1-D inputs at ``predict``: each raises a
        ``ValidationError``.
    ``online: chunked equals one pass``
        ``online`` processors only: ``predict_online`` on chunks of 1, 2, 5, 16, … rows equals one call.
    ``fit_blocks: chunked equals one pass``
        Processors that declare the block capability (:meth:`~sigbench.Processor.fits_blocks`): ``fit_blocks``
        on blocks of 1, 2, 5, 16, … rows predicts what ``fit`` on all rows predicts (``rtol``/``atol``, or
        1e-10 relative for DSP processors) — what lets the engine train them on a file larger than memory.
    ``own parameters kept``
        After ``fit``, every attribute named like a constructor parameter still holds the value it had
        before (the base class never overwrites a subclass's parameter, e.g. a smoothing ``window``), and
        ``get_params()`` is unchanged.
    ``no TensorFlow import``
        ``family="dsp"`` only: in a fresh interpreter, importing the processor's module and fitting and
        predicting imports none of :data:`HEAVY_MODULES`.

    Parameters
    ----------
    cls : type
        A :class:`~sigbench.Processor` subclass.
    init_kwargs : mapping, optional
        Constructor arguments (keep them small: a neural processor with ``epochs=1`` and a few units).
    window : int, default 16
        Samples per input row.
    n_rows : int, default 240
        Rows in all, the last quarter used for predictions.
    targets : {"scalar", "vector"}, default "scalar"
        The target shape the processor must support: ``(rows,)`` or ``(rows, n_outputs)``.
    n_outputs : int, default 3
        Width of 2-D targets (a spectrum processor needs its bin count: ``2·(window//2 + 1)``).
    sample_rate : float, default 1.0
        Passed to ``fit`` in Hz.
    data_seed : int, default 0
        Seed of the synthetic stream.
    rtol, atol : float
        Tolerances of the save/load comparison.
    check_imports : bool, default True
        Run the subprocess import check for DSP processors (about a second).
    directory : path, optional
        Where to save the processor (a temporary directory by default, removed afterwards).
    strict : bool, default True
        Raise ``AssertionError`` when a check fails (pytest use). False: only return the report.

    Returns
    -------
    ConformanceReport

    Raises
    ------
    AssertionError
        In strict mode, when any check failed; the message lists each failure and then the whole report.
    ValueError
        ``targets`` is not ``"scalar"`` or ``"vector"``, or ``cls`` is not a Processor subclass.

    See Also
    --------
    check_source, check_metric

    Examples
    --------
    >>> from sigbench import get_processor
    >>> from sigbench.testing import check_processor
    >>> report = check_processor(get_processor("wiener"), {"numtaps": 8}, check_imports=False)
    >>> report.passed
    True
    """
    if targets not in ("scalar", "vector"):
        raise ValueError(f"expected targets='scalar' or 'vector'; received: targets={targets!r}")
    if not (isinstance(cls, type) and issubclass(cls, Processor)):
        raise ValueError(f"expected a Processor subclass; received: cls={cls!r}")
    kwargs = dict(init_kwargs or {})
    report = ConformanceReport("processor", cls.name or f"{cls.__module__}.{cls.__qualname__}")
    data = make_data(window=window, n_rows=n_rows, n_outputs=n_outputs, seed=data_seed)
    with _kept_global_rng(), _workdir(directory) as workdir:
        _Checker(cls, kwargs, data, targets, sample_rate, rtol, atol, workdir, report).run(check_imports)
    if strict:
        report.raise_for_failures()
    return report


@contextmanager
def _kept_global_rng() -> Iterator[None]:
    """The harness reseeds the global generators to probe the processor; give the caller's states back."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


@contextmanager
def _workdir(directory: str | os.PathLike[str] | None) -> Iterator[Path]:
    if directory is not None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sigbench-conformance-") as tmp:
        yield Path(tmp)



def _normalise(value: Any) -> Any:
    """JSON round trip (tuples become lists, numpy scalars numbers) for comparing descriptions."""
    return json.loads(json.dumps(value, default=json_default_strict))


def _same(a: Any, b: Any) -> bool:
    """Deep equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _diff_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    keys = sorted(set(a) | set(b))
    return [k for k in keys if k not in a or k not in b or not _same(a[k], b[k])]


def _rng_states_equal(a: Any, b: Any) -> bool:
    return bool(a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:])


def _short(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters (a learning curve in a message helps nobody)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b))) if a.size else 0.0


class _Checker:
    """One run of the processor checks (state shared between checks: the reference fit)."""

    def __init__(self, cls: type[Processor], kwargs: dict[str, Any], data: ConformanceData, targets: str,
                 sample_rate: float, rtol: float, atol: float, workdir: Path, report: ConformanceReport) -> None:
        self.cls, self.kwargs, self.data, self.targets = cls, kwargs, data, targets
        self.sample_rate, self.rtol, self.atol = sample_rate, rtol, atol
        self.workdir, self.report = workdir, report
        self.reference: Processor | None = None
        self.reference_pred: np.ndarray | None = None
        self.deterministic_ok: bool | None = None

    # -- helpers -----------------------------------------------------------------------------
    def new(self, **overrides: Any) -> Processor:
        return self.cls(**{**self.kwargs, **overrides})

    def fit_predict(self, kind: str | None = None, *, global_seed: int = 1, **overrides: Any) -> tuple[Processor,
                                                                                                       np.ndarray]:
        """Fit a fresh processor with the global generators seeded by ``global_seed``; predict the test rows."""
        kind = kind or self.targets
        np.random.seed(global_seed)
        random.seed(global_seed)
        proc = self.new(**overrides)
        proc.fit(self.data.train_inputs, self.data.targets(kind, "train"), sample_rate=self.sample_rate)
        return proc, np.asarray(proc.predict(self.data.test_inputs))

    def run(self, check_imports: bool) -> None:
        checks: list[tuple[str, Callable[[], None]]] = [
            ("tags", self.check_tags),
            (f"fit/predict, {'1-D' if self.targets == 'scalar' else '2-D'} targets", self.check_primary),
            (f"fit/predict, {'2-D' if self.targets == 'scalar' else '1-D'} targets", self.check_secondary),
            ("describe() keys", self.check_describe),
            ("save/load round trip", self.check_save_load),
            ("seeded determinism", self.check_determinism),
            ("no global RNG", self.check_global_rng),
            ("input validation", self.check_validation),
            ("online: chunked equals one pass", self.check_online),
            ("fit_blocks: chunked equals one pass", self.check_fit_blocks),
            ("own parameters kept", self.check_own_parameters),
            ("no TensorFlow import", lambda: self.check_imports(check_imports)),
        ]
        for name, fn in checks:
            with self.report.check(name):
                fn()

    def need_reference(self) -> tuple[Processor, np.ndarray]:
        if self.reference is None or self.reference_pred is None:
            skip("needs a successful fit/predict with the primary target shape")
        assert self.reference is not None and self.reference_pred is not None
        return self.reference, self.reference_pred

    # -- checks ------------------------------------------------------------------------------
    def check_tags(self) -> None:
        cls = self.cls
        problems = []
        if not isinstance(cls.name, str) or not _NAME_RE.match(cls.name):
            problems.append(f"name must be lowercase letters, digits, '-', '_' or '.'; received: name={cls.name!r}")
        if cls.family not in _FAMILIES:
            problems.append(f"family must be one of {_FAMILIES}; received: family={cls.family!r}")
        for tag in ("online", "causal", "deterministic"):
            if not isinstance(getattr(cls, tag), bool):
                problems.append(f"{tag} must be a bool; received: {tag}={getattr(cls, tag)!r}")
        if not (isinstance(cls.requires, tuple) and all(isinstance(r, str) for r in cls.requires)):
            problems.append(f"requires must be a tuple of str; received: requires={cls.requires!r}")
        proc = self.new()
        try:
            json.dumps(proc.get_params(), default=json_default_strict)
        except (TypeError, ValueError) as exc:
            problems.append(f"get_params() is not JSON-serialisable ({exc}); save() cannot record it")
        try:
            proc.predict(self.data.test_inputs)
        except SigbenchError:
            pass
        except Exception as exc:
            problems.append(f"predict() before fit() must raise a SigbenchError (ProcessorError); "
                            f"raised {type(exc).__name__}: {exc}")
        else:
            problems.append("predict() before fit() must raise a SigbenchError (ProcessorError); it returned")
        expect(not problems, lambda: "; ".join(problems))

    def _check_fit_predict(self, kind: str, *, required: bool) -> None:
        try:
            proc, pred = self.fit_predict(kind)
        except ValidationError as exc:
            if required:
                raise
            not_supported(f"fit refused {kind} targets: {exc}")
            return
        rows = self.data.test_inputs.shape[0]
        want: tuple[int, ...] = (rows,) if kind == "scalar" else (rows, self.data.n_outputs)
        expect(pred.shape == want, f"predict returned shape {pred.shape}; expected {want}")
        expect(pred.dtype.kind == "f", f"predict returned dtype {pred.dtype}; expected floats")
        expect(bool(np.isfinite(pred).all()), "predict returned NaN/inf on finite inputs")
        one = np.asarray(proc.predict(self.data.test_inputs[:1]))
        expect(one.shape == (1, *want[1:]), f"predict on one row returned shape {one.shape}; expected {(1, *want[1:])}")
        if kind == self.targets:
            self.reference, self.reference_pred = proc, pred

    def check_primary(self) -> None:
        self._check_fit_predict(self.targets, required=True)

    def check_secondary(self) -> None:
        self._check_fit_predict("vector" if self.targets == "scalar" else "scalar", required=False)

    def check_describe(self) -> None:
        proc, _ = self.need_reference()
        info = proc.describe()
        missing = [k for k in DESCRIBE_KEYS if k not in info]
        expect(not missing, f"describe() lacks {missing}")
        expect(info["name"] == self.cls.name, f"describe()['name'] = {info['name']!r}; expected {self.cls.name!r}")
        expect(info["family"] == self.cls.family,
               f"describe()['family'] = {info['family']!r}; expected {self.cls.family!r}")
        expect(_same(_normalise(info["params"]), _normalise(proc.get_params())),
               "describe()['params'] differs from get_params()")
        for key in ("trainable_params", "memory_bytes"):
            value = info[key]
            expect(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0,
                   f"describe()[{key!r}] must be an int >= 0; received: {value!r}")
        macs = info["macs_per_sample"]
        expect(isinstance(macs, (int, float, np.number)) and (math.isnan(macs) or macs >= 0),
               f"describe()['macs_per_sample'] must be a number >= 0 (or NaN when unknown); received: {macs!r}")
        expect(isinstance(info["fit_s"], (int, float)) and info["fit_s"] >= 0,
               f"describe()['fit_s'] must be seconds >= 0; received: {info['fit_s']!r}")
        try:
            json.dumps(info, default=json_default_strict)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"describe() is not JSON-serialisable: {exc}") from None

    def check_save_load(self) -> None:
        proc, pred = self.need_reference()
        path = proc.save(self.workdir / "saved")
        expect(isinstance(path, Path) and path.is_dir(), f"save() must return the directory; returned {path!r}")
        loaded = type(proc).load(path)
        expect(type(loaded) is type(proc), f"load() returned {type(loaded).__name__}, not {type(proc).__name__}")
        again = np.asarray(loaded.predict(self.data.test_inputs))
        expect(again.shape == pred.shape and bool(np.allclose(again, pred, rtol=self.rtol, atol=self.atol)),
               lambda: f"loaded processor predicts differently: max |difference| = {_max_abs_diff(again, pred):.3g} "
                       f"(rtol={self.rtol}, atol={self.atol})")
        before = {k: v for k, v in _normalise(proc.describe()).items() if k not in TIMING_KEYS}
        after = {k: v for k, v in _normalise(loaded.describe()).items() if k not in TIMING_KEYS}
        diff = _diff_keys(before, after)
        expect(not diff, lambda: "describe() differs after load in " + ", ".join(
            f"{k}: {_short(before.get(k, '<missing>'))} → {_short(after.get(k, '<missing>'))}" for k in diff))

    def check_determinism(self) -> None:
        _, pred = self.need_reference()
        _, again = self.fit_predict()
        self.deterministic_ok = bool(np.array_equal(again, pred))
        expect(self.deterministic_ok, lambda: "two fits with the same parameters predict differently: max |difference| "
                                              f"= {_max_abs_diff(again, pred):.3g}")
        if self.cls.deterministic:
            return
        if "seed" not in self.cls.param_names():
            skip("same seed → identical predictions; deterministic=False but no `seed` parameter to vary")
        seed = self.kwargs.get("seed", self.new().get_params().get("seed", 0))
        _, other = self.fit_predict(seed=int(seed) + 1)
        expect(not np.array_equal(other, pred),
               f"seed={int(seed) + 1} predicts exactly as seed={seed}: the seed is not used")

    def check_global_rng(self) -> None:
        _, pred = self.need_reference()
        np.random.seed(20_240_601)
        random.seed(20_240_601)
        np_before, py_before = np.random.get_state(), random.getstate()
        proc = self.new()
        proc.fit(self.data.train_inputs, self.data.targets(self.targets, "train"), sample_rate=self.sample_rate)
        out = np.asarray(proc.predict(self.data.test_inputs))
        problems = []
        if not _rng_states_equal(np.random.get_state(), np_before):
            problems.append("fit/predict consumed or reseeded NumPy's global RNG (use np.random.default_rng(seed))")
        if random.getstate() != py_before:
            problems.append("fit/predict consumed or reseeded Python's global `random` state")
        if not np.array_equal(out, pred):
            if self.deterministic_ok is False:
                problems.append("results change with the global RNG state (not conclusive: the processor is not "
                                "deterministic under a fixed state either)")
            else:
                problems.append("results depend on the global RNG state (np.random.seed / random.seed): max "
                                f"|difference| = {_max_abs_diff(out, pred):.3g}")
        expect(not problems, lambda: "; ".join(problems))

    def check_validation(self) -> None:
        d = self.data
        y_train = d.targets(self.targets, "train")
        window = d.window
        bad_stream = d.stream.copy()
        bad_stream[window + d.train_inputs.shape[0] + 3] = np.nan  # inside the test rows
        bad_stream[window + 7] = np.nan  # inside the training rows
        nan_windows = np.lib.stride_tricks.sliding_window_view(bad_stream, window)
        nan_view = nan_windows[d.train_inputs.shape[0]:][:8]
        nan_train_view = nan_windows[: d.train_inputs.shape[0]]
        nan_plain = np.array(d.test_inputs, dtype=np.float64)
        nan_plain[nan_plain.shape[0] // 2, window // 2] = np.nan
        inf_train = np.array(d.train_inputs, dtype=np.float64)
        inf_train[3, 0] = np.inf
        nan_targets = np.array(y_train, dtype=np.float64)
        nan_targets[5] = np.nan
        longer = np.lib.stride_tricks.sliding_window_view(d.stream, window + 1)[:8]
        fitted, _ = self.need_reference()

        def fit(inputs: np.ndarray, targets: np.ndarray) -> Callable[[], Any]:
            return lambda: self.new().fit(inputs, targets, sample_rate=self.sample_rate)

        cases: list[tuple[str, Callable[[], Any]]] = [
            ("NaN in the inputs at fit (window view)", fit(nan_train_view, y_train)),
            ("inf in the inputs at fit (plain array)", fit(inf_train, y_train)),
            ("NaN in the targets at fit", fit(d.train_inputs, nan_targets)),
            ("NaN in the inputs at predict (window view)", lambda: fitted.predict(nan_view)),
            ("NaN in the inputs at predict (plain array)", lambda: fitted.predict(nan_plain)),
            (f"windows of {window + 1} samples at predict (fitted on {window})", lambda: fitted.predict(longer)),
            ("1-D inputs at predict", lambda: fitted.predict(np.asarray(d.test_inputs[0]))),
        ]
        problems = []
        for label, call in cases:
            try:
                call()
            except ValidationError:
                continue
            except Exception as exc:
                problems.append(f"{label}: raised {type(exc).__name__} ({exc}), expected ValidationError")
            else:
                problems.append(f"{label}: accepted, expected ValidationError")
        expect(not problems, lambda: "; ".join(problems))

    def check_online(self) -> None:
        if not self.cls.online:
            skip("not an online processor")
        self.need_reference()
        d = self.data
        x, y = d.test_inputs, d.targets(self.targets, "test")
        one, _ = self.fit_predict()
        whole = np.asarray(one.predict_online(x, y))
        chunked, _ = self.fit_predict()
        parts, start = [], 0
        for size in (*_CHUNKS, x.shape[0]):
            stop = min(start + size, x.shape[0])
            if stop > start:
                parts.append(np.asarray(chunked.predict_online(x[start:stop], y[start:stop])))
            start = stop
        joined = np.concatenate(parts, axis=0)
        expect(joined.shape == whole.shape, f"chunked predict_online gave shape {joined.shape}, one pass {whole.shape}")
        expect(bool(np.allclose(joined, whole, rtol=1e-12, atol=1e-12)),
               lambda: f"chunked predict_online differs from one pass: max |difference| = "
                       f"{_max_abs_diff(joined, whole):.3g} (the state must carry over between calls)")
        expect(bool(np.isfinite(whole).all()), "predict_online returned NaN/inf")

    def check_fit_blocks(self) -> None:
        if not self.cls.fits_blocks():
            skip("does not declare fit_blocks (_fit_blocks or stateless)")
        _, whole = self.need_reference()
        d = self.data
        x, y = d.train_inputs, d.targets(self.targets, "train")
        blocks, start = [], 0
        for size in (*_CHUNKS, x.shape[0]):
            stop = min(start + size, x.shape[0])
            if stop > start:
                blocks.append((x[start:stop], y[start:stop]))
            start = stop
        np.random.seed(1)
        random.seed(1)
        proc = self.new()
        out = proc.fit_blocks(iter(blocks), rows=x.shape[0], sample_rate=self.sample_rate)
        expect(out is proc, "fit_blocks must return the processor")
        pred = np.asarray(proc.predict(d.test_inputs))
        rtol, atol = (1e-10, 1e-12) if self.cls.family == "dsp" else (self.rtol, self.atol)
        expect(pred.shape == whole.shape, f"fit_blocks then predict gave shape {pred.shape}; fit: {whole.shape}")
        expect(bool(np.allclose(pred, whole, rtol=rtol, atol=atol)),
               lambda: f"fit_blocks on chunks differs from fit on all rows: max |difference| = "
                       f"{_max_abs_diff(pred, whole):.3g}")

    def check_own_parameters(self) -> None:
        self.need_reference()
        proc = self.new()
        names = [n for n in self.cls.param_names() if n in vars(proc)]
        before = {n: _normalise(getattr(proc, n)) for n in names}
        params = _normalise(proc.get_params())
        proc.fit(self.data.train_inputs, self.data.targets(self.targets, "train"), sample_rate=self.sample_rate)
        changed = [n for n in names if not _same(_normalise(getattr(proc, n)), before[n])]
        expect(not changed, lambda: "fit changed the processor's own parameter attribute(s): " + ", ".join(
            f"{n}={_short(before[n])} became {_short(getattr(proc, n))}" for n in changed))
        expect(_same(_normalise(proc.get_params()), params), "fit changed get_params()")

    def check_imports(self, enabled: bool) -> None:
        if self.cls.family != "dsp":
            skip(f"family={self.cls.family!r}: may import {', '.join(HEAVY_MODULES)}")
        if not enabled:
            skip("disabled (check_imports=False)")
        module, qualname = self.cls.__module__, self.cls.__qualname__
        if module == "__main__" or "<locals>" in qualname:
            skip(f"{module}.{qualname} cannot be imported by name in a fresh interpreter")
        try:
            spec = json.dumps({"module": module, "qualname": qualname, "kwargs": self.kwargs,
                               "window": self.data.window, "targets": self.targets, "n_outputs": self.data.n_outputs,
                               "sample_rate": self.sample_rate}, default=json_default_strict)
        except (TypeError, ValueError):
            skip("init_kwargs are not JSON-serialisable, so they cannot be passed to a fresh interpreter")
        heavy = imported_heavy_modules(spec)
        expect(not heavy, lambda: f"importing {module} and fitting {self.cls.name!r} imported {', '.join(heavy)}; a "
                                  f"family='dsp' processor must not (import them inside the code that needs them)")


_IMPORT_PROBE = """
import importlib, json, sys
spec = json.loads(sys.argv[1])
target = importlib.import_module(spec["module"])
for part in spec["qualname"].split("."):
    target = getattr(target, part)
from sigbench.testing._data import make_data
d = make_data(window=spec["window"], n_rows=64, n_outputs=spec["n_outputs"])
proc = target(**spec["kwargs"])
proc.fit(d.train_inputs, d.targets(spec["targets"], "train"), sample_rate=spec["sample_rate"])
proc.predict(d.test_inputs)
heavy = set(json.loads(sys.argv[2]))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & heavy)))
"""


def imported_heavy_modules(spec: str, timeout_s: float = 300.0) -> list[str]:
    """Run the import probe in a fresh interpreter; return the heavy modules it ended up importing.

    The child sees the parent's ``sys.path`` (so a class defined in a test module is found).

    Raises
    ------
    AssertionError
        The probe itself failed (its stderr tail is in the message).
    """
    env = dict(os.environ)
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    proc = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, spec, json.dumps(HEAVY_MODULES)],
                          capture_output=True, text=True, env=env, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise AssertionError(f"the import probe failed in a fresh interpreter (exit {proc.returncode}): {tail}")
    result: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
