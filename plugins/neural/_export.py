r"""Deployment of a fitted neural processor: one self-contained model, LiteRT and ONNX files, a compiled call.

The deployed model
    :func:`deployment_model` wraps the trained Keras model between two ``Rescaling`` layers that hold
    the processor's standardisation, so the deployed graph takes **raw** windows ``(batch, window)``
    (oldest sample first, in the signal's units) and returns outputs in the targets' units
    ``(batch, outputs)``: exactly what :meth:`~sigbench.Processor.predict` computes, in float32.

LiteRT (``format="litert"``)
    ``tf.lite.TFLiteConverter.from_keras_model`` on the deployed model with a **fixed batch of one row**
    (the streaming shape; a static shape is also what lets the converter fuse the LSTM into LiteRT's
    ``UNIDIRECTIONAL_SEQUENCE_LSTM`` instead of failing on TensorFlow tensor lists). With
    ``quantize="int8"`` the conversion is full-integer post-training quantisation: int8 weights and
    activations, int8 input and output tensors, activation ranges calibrated on a representative set
    of raw training rows the caller provides (at most :data:`REPRESENTATIVE_ROWS`, evenly spaced);
    recurrent layers are unrolled first (the quantiser crashes on the fused LSTM op).

ONNX (``format="onnx"``)
    ``keras.Model.export(format="onnx")`` (tf2onnx under the TensorFlow backend) with a free batch
    dimension; run with onnxruntime.

Runtimes
    :mod:`sigbench.deploy.runtimes` loads the files again (LiteRT interpreter, onnxruntime).

The exporters and runtimes (``tensorflow``, ``tf2onnx``, ``onnx``, ``onnxruntime``, ``ai-edge-litert``)
are the optional ``[export]`` extra, imported only inside these functions.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sigbench.deploy.runtimes import missing_extra as _missing
from sigbench.errors import ProcessorError, ValidationError, WriteError
from sigbench.plugins.neural._backend import backend_name, import_keras

if TYPE_CHECKING:
    from sigbench.plugins.neural._base import NeuralProcessor

__all__ = [
    "EXPORT_FORMATS",
    "QUANTIZE_SCHEMES",
    "REPRESENTATIVE_ROWS",
    "deployment_model",
    "export_model",
    "single_row_function",
]

#: export formats of :meth:`NeuralProcessor.export`
EXPORT_FORMATS = ("litert", "onnx")
#: post-training quantisation schemes (LiteRT only)
QUANTIZE_SCHEMES = ("int8",)
#: most representative rows used to calibrate int8 activation ranges
REPRESENTATIVE_ROWS = 500
#: file suffix of each format
SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}




def _unrolled(model: Any) -> Any:
    """A copy of ``model`` (same weights) whose recurrent layers are unrolled into plain per-step ops.

    TensorFlow's converter fuses a rolled LSTM into ``UNIDIRECTIONAL_SEQUENCE_LSTM``, and its full-integer
    quantiser crashes the process (segmentation fault, TensorFlow 2.21) on that op; unrolled steps are
    ordinary matrix products and activations, which it quantises. The layers are rebuilt from their own
    in-memory configuration (nothing read from a file).
    """
    keras = import_keras()
    if not any(type(layer).__name__ in ("LSTM", "GRU", "SimpleRNN") for layer in model.layers):
        return model

    def clone(layer: Any) -> Any:
        config = layer.get_config()
        if type(layer).__name__ in ("LSTM", "GRU", "SimpleRNN"):
            config["unroll"] = True
        return type(layer).from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def deployment_model(processor: NeuralProcessor, batch_size: int | None = 1, *, unroll: bool = False) -> Any:
    """The processor's Keras model with its standardisation folded in: raw windows in, target units out.

    Parameters
    ----------
    processor : NeuralProcessor
        A fitted neural processor.
    batch_size : int or None, default 1
        Fixed batch dimension of the input (``None``: free).
    unroll : bool, default False
        Unroll recurrent layers (what full-integer quantisation needs, see :func:`_unrolled`).

    Returns
    -------
    keras.Model
        Input ``(batch_size, window)`` float32, output ``(batch_size, outputs)`` float32.
    """
    processor._require_fitted("export")
    keras = import_keras()
    stats = processor._stats
    window, outputs = int(processor.input_window or 0), int(processor.n_outputs or 1)
    x_shift, x_scale = float(np.asarray(stats["x_shift"])), float(np.asarray(stats["x_scale"]))
    y_shift = np.asarray(stats["y_shift"], dtype=np.float32).reshape(outputs)
    y_scale = np.asarray(stats["y_scale"], dtype=np.float32).reshape(outputs)
    inputs = keras.Input(batch_shape=(batch_size, window), name="window")
    x = keras.layers.Rescaling(scale=1.0 / x_scale, offset=-x_shift / x_scale, name="standardize")(inputs)
    y = (_unrolled(processor.model) if unroll else processor.model)(x)
    scale: Any = float(y_scale[0]) if outputs == 1 else y_scale.tolist()
    offset: Any = float(y_shift[0]) if outputs == 1 else y_shift.tolist()
    y = keras.layers.Rescaling(scale=scale, offset=offset, name="destandardize")(y)
    return keras.Model(inputs, y, name=f"{processor.model.name}_deployed")


def single_row_function(processor: NeuralProcessor, *, jit_compile: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """A compiled call of the deployed model on one raw window: ``f(row (window,)) -> (outputs,)``.

    Under TensorFlow a ``tf.function`` with a fixed ``(1, window)`` signature, compiled by XLA with
    ``jit_compile`` (the default: an LSTM's step loop then costs about 10× less per call than the
    graph executor's; a model XLA cannot compile falls back to the plain ``tf.function``); under JAX
    ``jax.jit`` of ``stateless_call``; otherwise the eager model. This is the per-sample cost of the
    network itself, without ``Model.predict``'s per-call machinery (data adapter, callbacks), which
    costs milliseconds per call.
    """
    model = deployment_model(processor, batch_size=1)
    window = int(processor.input_window or 0)
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        def compiled(jit: bool) -> Any:
            return tf.function(lambda x: model(x, training=False), jit_compile=jit, reduce_retracing=True,
                               input_signature=[tf.TensorSpec((1, window), tf.float32)])

        fn = compiled(jit_compile)
        if jit_compile:
            try:
                fn(np.zeros((1, window), dtype=np.float32))
            except Exception:  # an op XLA does not compile: the graph executor runs it
                fn = compiled(False)

        def call_tf(row: np.ndarray) -> np.ndarray:
            return np.asarray(fn(np.asarray(row, dtype=np.float32).reshape(1, window)))[0]

        return call_tf
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        jitted = jax.jit(lambda x: model.stateless_call(trainable, frozen, x, training=False)[0])

        def call_jax(row: np.ndarray) -> np.ndarray:
            return np.asarray(jitted(np.asarray(row, dtype=np.float32).reshape(1, window)))[0]

        return call_jax

    def call_eager(row: np.ndarray) -> np.ndarray:
        out = model(np.asarray(row, dtype=np.float32).reshape(1, window), training=False)
        return np.asarray(import_keras().ops.convert_to_numpy(out))[0]

    return call_eager


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Converters print progress ("Saved artifact at …") on stdout: keep stdout for ``--json`` alone."""
    for name in ("tensorflow", "tf2onnx", "absl", "keras"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Statistics for quantized inputs were expected": the input is int8 by design
        yield


def _representative(rows: Any, window: int) -> Callable[[], Iterator[list[np.ndarray]]]:
    data = np.asarray(rows) if not hasattr(rows, "all_finite") else rows
    if data.ndim != 2 or data.shape[1] != window or data.shape[0] < 1:
        raise ValidationError(f"expected representative rows of shape (rows, {window}); received: shape={data.shape}")
    idx = np.unique(np.linspace(0, data.shape[0] - 1, min(REPRESENTATIVE_ROWS, data.shape[0])).astype(np.int64))

    def gen() -> Iterator[list[np.ndarray]]:
        for i in idx:
            yield [np.asarray(data[int(i)], dtype=np.float32).reshape(1, window)]

    return gen


def _litert_bytes(processor: NeuralProcessor, quantize: str | None, representative: Any) -> bytes:
    if backend_name() != "tensorflow":
        raise ProcessorError(f"LiteRT export needs the TensorFlow backend of Keras; active: {backend_name()}")
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - the TensorFlow backend imports it
        raise _missing("tensorflow", "LiteRT export", exc) from None
    model = deployment_model(processor, batch_size=1, unroll=quantize == "int8")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize == "int8":
        if representative is None:
            raise ValidationError("expected representative training rows for int8 quantisation; received: None")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(representative, int(processor.input_window or 0))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with _quiet():
        try:
            return bytes(converter.convert())
        except Exception as exc:  # the converter raises ConverterError/RuntimeError with MLIR diagnostics
            first = next((ln for ln in str(exc).splitlines() if "error" in ln.lower()), str(exc)[:200])
            raise ProcessorError(f"LiteRT conversion of {processor.name} failed: {first.strip()[:300]}") from None


def _onnx_bytes(processor: NeuralProcessor, quantize: str | None) -> bytes:
    if quantize is not None:
        raise ValidationError(f"expected quantize=None for ONNX export (int8 is a LiteRT export); "
                              f"received: quantize={quantize!r}")
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError as exc:
        raise _missing("onnx and tf2onnx", "ONNX export", exc) from None
    model = deployment_model(processor, batch_size=None)
    model(np.zeros((1, int(processor.input_window or 0)), dtype=np.float32))  # Keras exports only a model it has called
    with tempfile.TemporaryDirectory(prefix="sigbench-onnx-") as tmp:
        path = Path(tmp) / "model.onnx"
        with _quiet():
            model.export(str(path), format="onnx", verbose=False)
        return path.read_bytes()


def export_model(processor: NeuralProcessor, path: str | os.PathLike[str], fmt: str = "litert", *,
                 quantize: str | None = None, representative: Any = None) -> Path:
    """Write ``processor`` as a LiteRT or ONNX file at ``path`` (atomically); returns the path.

    Raises
    ------
    ValidationError
        Unknown ``fmt`` or ``quantize``, int8 without representative rows, or ``path`` is a folder.
    ProcessorError
        The processor is not fitted, an exporter is not installed, or the conversion fails.
    WriteError
        The file cannot be written (an existing file is left untouched).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"expected format among {', '.join(EXPORT_FORMATS)}; received: format={fmt!r}")
    if quantize is not None and quantize not in QUANTIZE_SCHEMES:
        raise ValidationError(f"expected quantize among {', '.join(QUANTIZE_SCHEMES)} or None; "
                              f"received: quantize={quantize!r}")
    target = Path(path)
    if target.is_dir():
        raise ValidationError(f"expected a file path for the exported model; received a folder: {target}")
    processor._require_fitted("export")
    data = _litert_bytes(processor, quantize, representative) if fmt == "litert" else _onnx_bytes(processor, quantize)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
