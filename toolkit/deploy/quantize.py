r"""Quantised processors: Q15 fixed-point FIR for linear DSP baselines, full-integer int8 for networks.

Q15 fixed point (``scheme="q15"``)
    Any processor whose frozen prediction is affine in the window — ``wiener``, ``fir``, ``fir-bank``
    (both modes: a bank followed by least squares is still one FIR), frozen ``lms``/``nlms``/``rls``,
    ``naive`` — is one FIR :math:`y = \mathbf{h}^T\mathbf{x} + b` per output. After the float processor is
    fitted, its taps are read by probing it with unit impulses (``predict(I)`` minus ``predict(0)``;
    no private accessor), leading zero taps are dropped, and affinity is checked on training rows
    (relative error below ``1e-9``; otherwise :class:`~sigbench.errors.ProcessorError`).
    The fixed-point filter then works as a 16-bit DSP with a 40-bit accumulator does:

    * **Formats.** Input samples, coefficients and outputs are Q15 (int16, value :math:`v\cdot 2^{-15}`)
      with one power-of-two block exponent each, chosen on the training rows: :math:`e_x` with
      :math:`\max|x| < 2^{e_x}`, :math:`e_h` per output with :math:`\max|h| < 2^{e_h}`, :math:`e_y` with
      :math:`\max|y| < 2^{e_y}` (:math:`\max|y|` of the float filter on the training rows, doubled for
      headroom). A sample :math:`x` is stored as :math:`\mathrm{sat}_{16}(\mathrm{round}(x\,2^{15-e_x}))`.
    * **Products** are exact Q30 (int16 × int16 → 32 bits).
    * **Accumulator**: ``acc_bits`` (default 40: 32 bits plus 8 guard bits, as on TI C55x / ADI
      Blackfin MACs), saturating after **every** addition.
    * **Rounding** (``rounding``): ``"accumulator"`` (default) sums the exact Q30 products and rounds
      once, to nearest with ties up (add half an LSB, arithmetic shift right: a DSP's ``RND``), to the
      output's Q15 grid; ``"product"`` rounds each product to the output grid before adding (a MAC
      without guard bits in the product path) — :math:`N` roundings instead of one.
    * **Output**: saturated to int16 (counted in ``describe()['saturations']``), then scaled back by
      :math:`2^{e_y}` to the signal's units.

    Quantisation noise (independent uniform errors, :math:`q_v = 2^{e_v-15}`): the error against the
    float FIR has power

    .. math::

        \sigma^2 \approx \frac{q_x^2}{12}\sum_k h_k^2 + \frac{q_h^2}{12}\sum_k E[x_k^2]
        + R\,\frac{q_y^2}{12}, \qquad R = 1 \text{ (accumulator) or } N \text{ (product)}

    (:func:`q15_noise_power`): input quantisation through the filter, coefficient quantisation times the
    input power, and the output roundings.

int8 (``scheme="int8"``)
    A neural processor is fitted in float, then converted to a full-integer LiteRT model (int8
    weights, activations, input and output) calibrated on its *training* rows only (the fit rows
    minus the validation fraction, at most 500 evenly spaced), and every prediction runs in the
    LiteRT interpreter, one row at a time (the deployed streaming shape).

Both wrappers are processors (fit, predict, save, load, describe) made by :func:`quantized` from a
processor class: ``quantized(get_processor("wiener"), "q15")`` is a class named ``wiener@q15`` taking
the same parameters as ``wiener`` (plus ``rounding``/``acc_bits`` for Q15).

Example
-------
>>> import numpy as np, sigbench as sb
>>> from sigbench.deploy import quantized
>>> x = np.random.default_rng(0).normal(size=3000)
>>> X = sb.sliding_windows(x[:-1], 8)
>>> q = quantized(sb.get_processor("wiener"), "q15")(numtaps=8).fit(X, x[8:])
>>> f = sb.get_processor("wiener")(numtaps=8).fit(X, x[8:])
>>> bool(np.max(np.abs(q.predict(X) - f.predict(X))) < 1e-3)
True
"""

from __future__ import annotations

import inspect
import json
import math
import typing
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sigbench._validate import one_of, positive_int
from sigbench.errors import ProcessorError, ValidationError
from sigbench.processor import Processor, TaskContext

__all__ = [
    "ROUNDINGS",
    "SCHEMES",
    "Int8Processor",
    "Q15Processor",
    "fir_q15",
    "linear_taps",
    "q15_exponent",
    "q15_noise_power",
    "quantize_fitted",
    "quantized",
    "to_q15",
]

#: quantisation schemes of :func:`quantized`
SCHEMES = ("q15", "int8")
#: rounding modes of the Q15 FIR
ROUNDINGS = ("accumulator", "product")
#: fractional bits of Q15
FRAC_BITS = 15
_Q15_MIN, _Q15_MAX = -(1 << 15), (1 << 15) - 1
#: largest relative deviation from affinity accepted when probing a processor's taps
LINEARITY_TOLERANCE = 1e-9
#: file the int8 wrapper saves its LiteRT model to
INT8_FILE = "model_int8.tflite"


# -- Q15 arithmetic ---------------------------------------------------------------------------------
def q15_exponent(max_abs: float) -> int:
    """Smallest integer ``e`` with ``max_abs < 2**e`` (the block exponent of a Q15 format); 0 for 0."""
    if not math.isfinite(max_abs):
        raise ValidationError(f"expected a finite magnitude; received: max_abs={max_abs!r}")
    if max_abs <= 0:
        return 0
    return math.floor(math.log2(max_abs)) + 1


def to_q15(values: np.ndarray, exponent: int) -> tuple[np.ndarray, int]:
    """Values as Q15 integers with block exponent ``exponent`` (round to nearest, saturate).

    Returns
    -------
    q : ndarray of int64, same shape
        ``clip(round(values · 2**(15 - exponent)), -32768, 32767)``.
    saturated : int
        How many values were clipped.
    """
    scaled = np.round(np.asarray(values, dtype=np.float64) * 2.0 ** (FRAC_BITS - exponent))
    saturated = int(np.count_nonzero((scaled < _Q15_MIN) | (scaled > _Q15_MAX)))
    return np.clip(scaled, _Q15_MIN, _Q15_MAX).astype(np.int64), saturated


def _round_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """Arithmetic shift right by ``shift`` bits rounding to nearest, ties up (left shift when negative)."""
    if shift <= 0:
        return values << (-shift)
    return (values + (1 << (shift - 1))) >> shift


def fir_q15(xq: np.ndarray, hq: np.ndarray, shift: int, *, bias_acc: np.ndarray | None = None,
            rounding: str = "accumulator", acc_bits: int = 40) -> tuple[np.ndarray, int]:
    """The fixed-point FIR: int16 samples × int16 taps, saturating accumulator, rounded Q15 output.

    Parameters
    ----------
    xq : ndarray of int, shape ``(rows, numtaps)``
        Q15 samples, oldest first.
    hq : ndarray of int, shape ``(numtaps, outputs)``
        Q15 taps, row ``k`` multiplying column ``k`` of ``xq``.
    shift : int
        Bits from the product format (Q30 at exponents ``e_x + e_h``) to the output's Q15 grid:
        ``15 + e_y - e_x - e_h``; rounding happens when positive.
    bias_acc : ndarray of int, shape ``(outputs,)``, optional
        The affine term, already in the accumulator's format (added first).
    rounding : {"accumulator", "product"}
        One rounding of the sum, or one per product (module notes).
    acc_bits : int, default 40
        Accumulator width in bits, two's complement, saturating after every addition.

    Returns
    -------
    yq : ndarray of int64, shape ``(rows, outputs)``
        Q15 outputs (saturated to 16 bits).
    saturations : int
        Accumulator and output saturations.
    """
    one_of("rounding", rounding, ROUNDINGS)
    acc_bits = positive_int("acc_bits", acc_bits, minimum=17)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    xq = np.asarray(xq, dtype=np.int64)
    hq = np.asarray(hq, dtype=np.int64)
    rows, outputs = xq.shape[0], hq.shape[1]
    acc = np.zeros((rows, outputs), dtype=np.int64)
    if bias_acc is not None:
        acc += np.asarray(bias_acc, dtype=np.int64)[None, :]
    saturations = 0
    for k in range(hq.shape[0]):
        product = xq[:, k:k + 1] * hq[k][None, :]  # exact Q30 (fits 31 bits)
        if rounding == "product":
            product = _round_shift(product, shift)
        acc += product
        over = (acc < lo) | (acc > hi)
        if over.any():
            saturations += int(np.count_nonzero(over))
            np.clip(acc, lo, hi, out=acc)
    out = acc if rounding == "product" else _round_shift(acc, shift)
    clipped = (out < _Q15_MIN) | (out > _Q15_MAX)
    saturations += int(np.count_nonzero(clipped))
    return np.clip(out, _Q15_MIN, _Q15_MAX), saturations


def q15_noise_power(taps: np.ndarray, input_power: float, e_x: int, e_h: int, e_y: int, *,
                    rounding: str = "accumulator") -> float:
    """Predicted error power of the Q15 FIR against the float FIR (module notes), signal units squared.

    Parameters
    ----------
    taps : ndarray, shape ``(numtaps,)``
        One output's float taps.
    input_power : float
        Mean square of the input samples :math:`E[x^2]`.
    e_x, e_h, e_y : int
        Block exponents of the input, the taps and the output.
    rounding : {"accumulator", "product"}
    """
    one_of("rounding", rounding, ROUNDINGS)
    qx, qh, qy = (2.0 ** (e - FRAC_BITS) for e in (e_x, e_h, e_y))
    n = int(np.size(taps))
    roundings = n if rounding == "product" else 1
    return float(qx**2 / 12 * np.sum(np.square(taps)) + qh**2 / 12 * n * input_power + roundings * qy**2 / 12)


def linear_taps(processor: Processor, window: int,
                check_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Taps ``(window, outputs)`` (oldest first) and bias ``(outputs,)`` of a processor affine in its window.

    Probes ``predict`` with the zero window and the ``window`` unit impulses. With ``check_rows``, checks
    that ``rows @ taps + bias`` reproduces ``predict(rows)``.

    Raises
    ------
    ProcessorError
        The prediction is not affine in the window (relative deviation above ``1e-9``).
    """
    zero = np.asarray(processor.predict(np.zeros((1, window)))).reshape(1, -1)[0]
    impulses = np.asarray(processor.predict(np.eye(window))).reshape(window, -1)
    taps = impulses - zero[None, :]
    if check_rows is not None and check_rows.shape[0] > 0:
        rows = np.asarray(check_rows, dtype=np.float64)
        expected = np.asarray(processor.predict(rows)).reshape(rows.shape[0], -1)
        got = rows @ taps + zero[None, :]
        scale = max(float(np.max(np.abs(expected))), float(np.finfo(np.float64).tiny))
        deviation = float(np.max(np.abs(got - expected))) / scale
        if deviation > LINEARITY_TOLERANCE:
            raise ProcessorError(
                f"{processor.name} is not a linear (FIR) processor: its predictions deviate from the best "
                f"affine fit by {deviation:.3g} (relative); Q15 covers FIR-type baselines only"
            )
    return taps, zero


# -- wrappers ---------------------------------------------------------------------------------------
class _Quantized(Processor):
    """Shared part of the wrappers: an inner processor of ``inner_cls`` built from the same parameters."""

    inner_cls: ClassVar[type[Processor]] = Processor
    scheme: ClassVar[str] = ""
    own_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        own = {k: params.pop(k) for k in list(params) if k in self.own_params}
        self.inner = self.inner_cls(**params)
        super().__init__(**self.inner.get_params(), **own)

    @classmethod
    def param_names(cls) -> list[str]:
        """The inner processor's parameter names plus the wrapper's own."""
        return [*cls.inner_cls.param_names(), *cls.own_params]

    def _inner_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params().items() if k not in self.own_params}

    def fit(self, data: Any, targets: Any = None, *, sample_rate: float | None = None,
            context: TaskContext | None = None) -> Any:
        """Fit the float processor on the training rows, then quantise it (same arguments as any ``fit``)."""
        self.inner.fit(data, targets, sample_rate=sample_rate, context=context)
        super().fit(data, targets, sample_rate=sample_rate, context=context)
        self.fit_s += self.inner.fit_s  # the float fit plus the quantisation
        return self

    def _save_extra(self, path: Path) -> None:
        self.inner.save(path / "float")

    def _load_extra(self, path: Path) -> None:
        self.inner = self.inner_cls.load(path / "float")

    def extra_description(self) -> dict[str, Any]:
        """The float processor's description under ``float``, and the scheme."""
        return {"scheme": self.scheme, "float": self.inner.describe()}


class Q15Processor(_Quantized):
    """Q15 fixed-point version of a linear (FIR-type) processor; made by ``quantized(cls, "q15")``.

    Parameters
    ----------
    rounding : {"accumulator", "product"}, default "accumulator"
        One rounding of the exact sum, or one per product (module notes).
    acc_bits : int, default 40
        Accumulator width in bits (≥ 17), saturating.
    **params
        The float processor's parameters.

    Raises
    ------
    ProcessorError
        At ``fit``: the float processor is not affine in its window.
    """

    scheme: ClassVar[str] = "q15"
    own_params: ClassVar[tuple[str, ...]] = ("rounding", "acc_bits")

    def __init__(self, rounding: str = "accumulator", acc_bits: int = 40, **params: Any) -> None:
        self.rounding = one_of("rounding", rounding, ROUNDINGS)
        self.acc_bits = positive_int("acc_bits", acc_bits, minimum=17)
        super().__init__(rounding=rounding, acc_bits=acc_bits, **params)
        self.hq = np.zeros((0, 0), dtype=np.int64)
        self.bias_acc = np.zeros(0, dtype=np.int64)
        self.exponents = np.zeros(3, dtype=np.int64)  # e_x, e_h, e_y
        self.saturations = 0

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        window = int(inputs.shape[1])
        rows = inputs.shape[0]
        check = np.asarray(inputs[np.unique(np.linspace(0, rows - 1, min(rows, 64)).astype(np.int64))])
        taps, bias = linear_taps(self.inner, window, check)
        nonzero = np.flatnonzero(np.any(taps != 0, axis=1))
        first = int(nonzero[0]) if nonzero.size else window - 1
        taps = taps[first:]
        x_max = max(float(np.max(np.abs(inputs[i:i + 65536]))) for i in range(0, rows, 65536))
        e_x = q15_exponent(x_max)
        e_h = q15_exponent(float(np.max(np.abs(taps))))
        y_float = np.asarray(inputs[:, first:], dtype=np.float64) @ taps + bias[None, :]
        e_y = q15_exponent(2.0 * float(np.max(np.abs(y_float))))
        self.hq, _ = to_q15(taps, e_h)
        # the affine term in the accumulator's units: Q30 products (LSB 2**(e_x + e_h - 30)), or the
        # output grid (LSB 2**(e_y - 15)) when every product is rounded before it is added
        lsb_exp = e_y - FRAC_BITS if self.rounding == "product" else e_x + e_h - 2 * FRAC_BITS
        self.bias_acc = np.round(bias * 2.0 ** (-lsb_exp)).astype(np.int64)
        self.exponents = np.array([e_x, e_h, e_y], dtype=np.int64)
        self.saturations = 0

    @property
    def numtaps(self) -> int:
        """Taps of the fixed-point FIR (leading zero taps dropped)."""
        return int(self.hq.shape[0])

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        e_x, e_h, e_y = (int(v) for v in self.exponents)
        out = np.empty((inputs.shape[0], self.hq.shape[1]))
        for start in range(0, inputs.shape[0], 65536):
            block = np.asarray(inputs[start:start + 65536, inputs.shape[1] - self.numtaps:], dtype=np.float64)
            xq, sat_in = to_q15(block, e_x)
            yq, sat = fir_q15(xq, self.hq, FRAC_BITS + e_y - e_x - e_h, bias_acc=self.bias_acc,
                              rounding=self.rounding, acc_bits=self.acc_bits)
            self.saturations += sat + sat_in
            out[start:start + block.shape[0]] = yq * 2.0 ** (e_y - FRAC_BITS)
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """Q15 taps ``(numtaps, outputs)``, bias in accumulator units, exponents ``(e_x, e_h, e_y)``."""
        return {"taps_q15": self.hq, "bias_acc": self.bias_acc, "exponents": self.exponents}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.hq = np.array(state["taps_q15"], dtype=np.int64)
        self.bias_acc = np.array(state["bias_acc"], dtype=np.int64)
        self.exponents = np.array(state["exponents"], dtype=np.int64)

    def trainable_params(self) -> int:
        """Taps of the fixed-point FIR."""
        return int(self.hq.size)

    def macs_per_sample(self) -> float:
        """One 16×16-bit multiply-accumulate per tap and output."""
        return float(self.hq.size)

    def memory_bytes(self) -> int:
        """Taps at 2 bytes each."""
        return int(2 * self.hq.size)

    def extra_description(self) -> dict[str, Any]:
        """Formats, widths, exponents and saturations so far."""
        e_x, e_h, e_y = (int(v) for v in self.exponents)
        info = super().extra_description()
        info.update({"numtaps": self.numtaps, "coefficient_bits": 16, "sample_bits": 16, "output_bits": 16,
                     "product_bits": 32, "accumulator_bits": self.acc_bits, "rounding": self.rounding,
                     "exponents": {"input": e_x, "taps": e_h, "output": e_y}, "saturations": self.saturations})
        return info


class Int8Processor(_Quantized):
    """Full-integer int8 LiteRT version of a neural processor; made by ``quantized(cls, "int8")``.

    Parameters
    ----------
    **params
        The float processor's parameters.

    Raises
    ------
    ProcessorError
        At ``fit``: the conversion fails or the LiteRT runtime is missing (``sigbench[export]``).
    """

    scheme: ClassVar[str] = "int8"
    #: what :func:`~sigbench.deploy.streaming_latency` reports as the path of :meth:`single_row_function`
    compiled_runtime: ClassVar[str] = "litert-int8"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.model_bytes = b""
        self._runner: Any = None

    def _fit(self, inputs: Any, targets: np.ndarray) -> None:
        import tempfile

        rows = int(inputs.shape[0])
        val = float(getattr(self.inner, "held_out_fraction", 0.0) or 0.0)
        train_rows = max(1, rows - round(rows * val))  # calibration sees training rows only, never validation
        with tempfile.TemporaryDirectory(prefix="sigbench-int8-") as tmp:
            path = Path(tmp) / "model.tflite"
            self.inner.export(path, format="litert", quantize="int8", representative=inputs[:train_rows])
            self.model_bytes = path.read_bytes()
        self._runner = None

    def _run(self) -> Any:
        if self._runner is None:
            from sigbench.deploy.runtimes import LiteRTRunner

            self._runner = LiteRTRunner(self.model_bytes)
        return self._runner

    def _predict(self, inputs: Any) -> np.ndarray:
        return np.asarray(self._run()(np.asarray(inputs)), dtype=np.float64)

    def single_row_function(self) -> Any:
        """One invocation of the int8 model on one raw window (the streaming-latency path)."""
        return self._run().step

    def trainable_params(self) -> int:
        """The float network's trainable weights (now int8)."""
        return self.inner.trainable_params()

    def macs_per_sample(self) -> float:
        """As the float network (int8 multiply-accumulates)."""
        return self.inner.macs_per_sample()

    def memory_bytes(self) -> int:
        """Size of the int8 LiteRT model."""
        return len(self.model_bytes)

    def activation_values(self) -> int:
        """As the float network (int8 values)."""
        fn = getattr(self.inner, "activation_values", None)
        return int(fn()) if callable(fn) else int(self.n_outputs or 1)

    @property
    def model(self) -> Any:
        """The float Keras model (for the coefficient count)."""
        return getattr(self.inner, "model", None)

    def export(self, path: Any, format: str = "litert", *, quantize: str | None = "int8",
               representative: Any = None) -> Path:
        """Write the int8 LiteRT model (``format="litert"`` only)."""
        if format != "litert" or quantize not in (None, "int8"):
            raise ValidationError(f"expected format='litert' for an int8 processor; received: format={format!r}")
        target = Path(path)
        target.write_bytes(self.model_bytes)
        return target

    def _save_extra(self, path: Path) -> None:
        super()._save_extra(path)
        (path / INT8_FILE).write_bytes(self.model_bytes)

    def _load_extra(self, path: Path) -> None:
        super()._load_extra(path)
        self.model_bytes = (path / INT8_FILE).read_bytes()
        self._runner = None

    def extra_description(self) -> dict[str, Any]:
        """Scheme, model size and the float description."""
        info = super().extra_description()
        info.update({"int8_model_bytes": len(self.model_bytes), "weights_bits": 8, "activation_bits": 8,
                     "calibration": "training rows (fit rows minus the validation fraction), at most 500"})
        return info


def quantize_fitted(processor: Processor, scheme: str, inputs: Any, targets: Any) -> Processor:
    """The quantised version of an already fitted float processor, without fitting it again.

    Parameters
    ----------
    processor : Processor
        Fitted float processor (kept as the wrapper's float processor, not copied).
    scheme : {"q15", "int8"}
    inputs, targets : ndarray
        The training rows it was fitted on (Q15 formats and int8 calibration are chosen on them).

    Returns
    -------
    Processor
        An instance of ``quantized(type(processor), scheme)``, fitted.
    """
    if not processor.fitted:
        raise ProcessorError(f"{processor.name} must be fitted before it is quantised")
    cls = quantized(type(processor), scheme)
    q = cls(**processor.get_params())
    q.inner = processor  # type: ignore[attr-defined]
    Processor.fit(q, inputs, targets, sample_rate=processor.sample_rate,  # the quantisation step only
                  context=processor.context)
    q.fit_s += processor.fit_s
    return q


_CLASSES: dict[tuple[type[Processor], str], type[Processor]] = {}


def quantized(cls: type[Processor], scheme: str) -> type[Processor]:
    """The quantised version of processor class ``cls``: a processor class named ``<name>@<scheme>``.

    Parameters
    ----------
    cls : type of Processor
        The float processor (e.g. ``sigbench.get_processor("dnn")``).
    scheme : {"q15", "int8"}
        ``q15``: fixed-point FIR (linear processors; checked at ``fit``); ``int8``: full-integer LiteRT
        (processors with an ``export`` of their own, i.e. the neural ones).

    Returns
    -------
    type of Processor
        Same class for the same arguments; its ``__init__`` takes ``cls``'s parameters (and, for
        ``q15``, ``rounding`` and ``acc_bits``).

    Raises
    ------
    ValidationError
        Unknown ``scheme``, or ``int8`` for a processor that cannot be exported.
    """
    one_of("scheme", scheme, SCHEMES)
    key = (cls, scheme)
    if key in _CLASSES:
        return _CLASSES[key]
    base: type[_Quantized]
    if scheme == "int8":
        if getattr(cls, "export", None) is Processor.export:
            raise ValidationError(f"expected a neural (exportable) processor for int8; received: {cls.name}")
        base = Int8Processor
    else:
        base = Q15Processor
    name = f"{cls.name}@{scheme}"
    attrs: dict[str, Any] = {
        "name": name, "family": cls.family, "online": False, "causal": cls.causal,
        "deterministic": cls.deterministic, "requires": cls.requires, "accepts_file_rows": False,
        "inner_cls": cls, "__module__": __name__, "__qualname__": f"{base.__name__}[{name}]",
        "__doc__": f"{base.__doc__}\n\nFloat processor: ``{cls.name}``.",
    }
    made = type(f"{base.__name__}", (base,), attrs)
    inner_sig = inspect.signature(cls.__init__)
    own_sig = inspect.signature(base.__init__)
    parameters = [p for p in inner_sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    parameters += [p.replace(kind=p.KEYWORD_ONLY) for n, p in own_sig.parameters.items()
                   if n in base.own_params]
    init = base.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = inspect.signature(cls.__init__).bind_partial(self, *args, **{
            k: v for k, v in kwargs.items() if k not in base.own_params})
        params = {k: v for k, v in bound.arguments.items() if k != "self"}
        params.update({k: v for k, v in kwargs.items() if k in base.own_params})
        init(self, **params)

    __init__.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    # resolved annotations, so that option strings from the command line coerce as for the float class
    hints: dict[str, Any] = {}
    for fn in (cls.__init__, base.__init__):
        try:
            hints.update(typing.get_type_hints(fn))
        except Exception:  # unresolvable forward references in a third-party plugin: strings stay strings
            pass
    __init__.__annotations__ = {k: v for k, v in hints.items() if k in {p.name for p in parameters} or k == "return"}
    made.__init__ = __init__  # type: ignore[method-assign,misc]
    _CLASSES[key] = made
    return made


def __getattr__(name: str) -> Any:
    """Resolve ``Q15Processor[wiener@q15]``-style names (how pickle finds the classes :func:`quantized` makes)."""
    if "[" in name and name.endswith("]") and "@" in name:
        inner, scheme = name[name.index("[") + 1:-1].rsplit("@", 1)
        from sigbench.registry import get_processor

        return quantized(get_processor(inner), scheme)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def describe_json(processor: Processor) -> str:
    """``processor.describe()`` as JSON (NaN as null), for records."""
    from sigbench._json import json_default

    return json.dumps(processor.describe(), default=json_default)
