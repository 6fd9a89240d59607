"""Runtimes for exported models: the LiteRT interpreter and onnxruntime, single-threaded.

Both map raw windows ``(rows, window)`` (oldest sample first, in the signal's units) to outputs
``(rows, outputs)`` in the targets' units, as the exported graph folds the standardisation in
(see :meth:`sigbench.Processor.export`). ``step(row)`` is one invocation on one window: what
:func:`sigbench.deploy.streaming_latency` times for ``runtime="litert"``/``"onnx"``.

The runtimes are the optional ``[export]`` extra (``ai-edge-litert``, ``onnxruntime``), imported only
when a runner is built; without ``ai-edge-litert`` the interpreter of ``tensorflow.lite`` is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sigbench.errors import ProcessorError, ValidationError

__all__ = ["LiteRTRunner", "OnnxRunner", "load_runner", "missing_extra"]


def missing_extra(package: str, what: str, exc: ImportError) -> ProcessorError:
    """The error for an optional package that is not installed (names the ``[export]`` extra)."""
    return ProcessorError(f"{what} needs {package} (pip install 'sigbench[export]'); import failed: {exc}")


class LiteRTRunner:
    """A LiteRT flatbuffer in the LiteRT interpreter (``ai_edge_litert``, else ``tf.lite``), one thread.

    Calling it on rows ``(rows, window)`` returns ``(rows, outputs)`` float64, invoking the batch-1
    model once per row; int8 inputs and outputs are quantised and dequantised with the file's scales.
    :meth:`step` is one invocation on one row (what :func:`sigbench.deploy.streaming_latency` times).
    """

    runtime = "litert"

    def __init__(self, path: str | os.PathLike[str] | bytes) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            try:
                from tensorflow.lite import Interpreter  # type: ignore[no-redef]
            except ImportError as exc:
                raise missing_extra("ai-edge-litert (or tensorflow)", "the LiteRT runtime", exc) from None
        content = path if isinstance(path, bytes) else Path(path).read_bytes()
        self.interpreter = Interpreter(model_content=content, num_threads=1)
        self.interpreter.allocate_tensors()
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]
        self.window = int(self._in["shape"][-1])
        self.input_dtype = np.dtype(self._in["dtype"])
        self.output_dtype = np.dtype(self._out["dtype"])
        self._in_q = self._in.get("quantization", (0.0, 0))
        self._out_q = self._out.get("quantization", (0.0, 0))

    def step(self, row: np.ndarray) -> np.ndarray:
        """Outputs ``(outputs,)`` of one raw window ``(window,)``."""
        x = np.asarray(row, dtype=np.float64).reshape(1, self.window)
        if self.input_dtype == np.int8:
            scale, zero = self._in_q
            x = np.clip(np.round(x / scale) + zero, -128, 127)
        self.interpreter.set_tensor(self._in["index"], x.astype(self.input_dtype))
        self.interpreter.invoke()
        y = np.asarray(self.interpreter.get_tensor(self._out["index"]), dtype=np.float64)[0]
        if self.output_dtype == np.int8:
            scale, zero = self._out_q
            y = (y - zero) * scale
        return y

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        out = [self.step(rows[i]) for i in range(rows.shape[0])]
        return np.asarray(out, dtype=np.float64).reshape(rows.shape[0], -1)


class OnnxRunner:
    """An ONNX file in onnxruntime (CPU, one intra-op thread); rows ``(rows, window)`` → ``(rows, outputs)``."""

    runtime = "onnx"

    def __init__(self, path: str | os.PathLike[str] | bytes) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise missing_extra("onnxruntime", "the ONNX runtime", exc) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        content = path if isinstance(path, bytes) else Path(path).read_bytes()
        self.session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
        self._name = self.session.get_inputs()[0].name
        self.window = int(self.session.get_inputs()[0].shape[-1])

    def step(self, row: np.ndarray) -> np.ndarray:
        """Outputs ``(outputs,)`` of one raw window ``(window,)``."""
        x = np.asarray(row, dtype=np.float32).reshape(1, self.window)
        return np.asarray(self.session.run(None, {self._name: x})[0], dtype=np.float64)[0]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        out = [np.asarray(self.session.run(None, {self._name: np.asarray(rows[i:i + 4096], dtype=np.float32)})[0])
               for i in range(0, rows.shape[0], 4096)]
        return np.concatenate(out).astype(np.float64).reshape(rows.shape[0], -1)


def load_runner(path: str | os.PathLike[str]) -> LiteRTRunner | OnnxRunner:
    """The runtime for an exported file, chosen by its suffix (``.tflite``: LiteRT, ``.onnx``: onnxruntime)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".tflite":
        return LiteRTRunner(path)
    if suffix == ".onnx":
        return OnnxRunner(path)
    raise ValidationError(f"expected an exported model ending in .tflite or .onnx; received: {Path(path).name}")
