"""Tasks: how a :class:`~sigbench.Signal` becomes aligned model inputs and targets.

Every task produces a :class:`TaskData`: a 1-D input stream, a read-only window view
``inputs[r] = x[r·hop : r·hop + window]`` (no copy), one target per row, and for each row the span of
samples it touches (first input sample to target sample, inclusive) so that the protocol can keep
every row inside one segment of the chronological split.

Built-in tasks
--------------
``predict``   from the last ``window`` noisy samples predict the sample ``horizon`` ahead.
``denoise``   estimate the clean sample at the window's end (causal) or centre (``centered``).
``identify``  system identification: the known input window → the measured (noisy) system output at the
              window's end (the observation is the target whatever ``target`` says: it is what an
              identification sees).
``spectrum``  frame → DFT (``rfft``, ``norm="ortho"``, real parts then imaginary parts).

Target: the clean signal when the source knows it (``target="auto"``), else the observed signal;
``target="observed"`` forces the observed one. The choice is reported as ``target_kind``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sigbench._validate import one_of, positive_int
from sigbench.errors import ValidationError
from sigbench.hookspecs import hookimpl
from sigbench.signal import Signal
from sigbench.windows import sliding_windows

__all__ = ["DenoiseTask", "IdentifyTask", "PredictTask", "SpectrumTask", "Task", "TaskData"]

ERROR_METRICS = ("mse", "rmse", "mae", "nmse_db", "snr_db", "max_abs_error", "excess_db")


@dataclass(frozen=True)
class TaskData:
    """Aligned inputs and targets of one task on one signal.

    Attributes
    ----------
    inputs : ndarray, shape ``(rows, window)``
        Read-only view of the input stream.
    targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``
    hop : int
        Samples between the first samples of consecutive rows.
    span : int
        Samples a row touches, from its first input sample to its target sample inclusive.
    target_index : ndarray, shape ``(rows,)``
        Sample index of each row's target (for plots; the last input sample for ``spectrum``).
    observed_at_target : ndarray or None
        The noisy observation at each target sample (the "do nothing" estimate, for SNR gain).
    target_kind : str
        ``clean``, ``observed``, ``exact DFT``, ``symbols``, ``labels``, …
    context : dict
        Constant entries of the metric context (e.g. the symbol ``alphabet`` of ``equalise``): every metric
        of the run receives them.
    row_context : dict of str to ndarray
        Per-row arrays of the metric context, each of shape ``(rows,)`` (e.g. ``clean_at_target`` of
        ``cancel``): metrics receive the slice of the rows they score under the same key.
    """

    task: str
    inputs: np.ndarray
    targets: np.ndarray
    hop: int
    span: int
    target_index: np.ndarray
    observed_at_target: np.ndarray | None
    target_kind: str
    sample_rate_hz: float
    n_samples: int
    options: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    row_context: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def window(self) -> int:
        """Samples per input row."""
        return int(self.inputs.shape[1])

    def rows_within(self, start: int, stop: int) -> slice:
        """Rows whose whole span lies in samples ``[start, stop)``."""
        first = -(-start // self.hop)  # ceil
        last = (stop - self.span) // self.hop  # inclusive
        last = min(last, len(self) - 1)
        if last < first:
            return slice(first, first)
        return slice(first, last + 1)


class Task:
    """Base class of tasks; subclasses set ``name``, ``metrics``, ``main_metric`` and implement ``_prepare``.

    Class attributes a task may set (the engine reads them; defaults in brackets):

    ``metrics``, ``main_metric``
        Registered metric names scored on every row, and the one tables rank by.
    ``has_naive`` [True]
        A ``naive`` row makes sense (a scalar target in the signal's own units).
    ``target_type`` ["real"]
        ``"real"`` (regression), ``"symbol"`` (values of a finite alphabet, decided by the task: processors
        output soft values) or ``"class"`` (0/1 labels: processors output a score, larger meaning class 1).
        Processors read it from :class:`~sigbench.processor.TaskContext` (the neural networks pick their
        output layer and loss from it).
    ``adapts_online`` [True]
        The target is causally observable after each prediction, so online processors may keep adapting on
        it in prequential mode. False when it is not (transmitted symbols, class labels): rows are scored
        frozen, and a processor that adapts on its own decisions (``dfe``) does so itself.
    ``reference`` ["wiener"]
        The default reference method (``compare(reference=None)``, the CLI without ``--reference``).
    ``default_methods`` [()]
        Methods compared when none are named (empty: the engine's per-task defaults, else the reference).
    ``linear_oracle`` [True]
        Add the linear oracle (the reference FIR fitted on the test rows) when the reference is a least-squares
        FIR. False where fitting the test targets is no bound of the main metric (class labels).
    ``excess_roles`` [("reference", "oracle", "limit")]
        The references whose MSE ratio is an ``excess_*`` column. A bound whose MSE is 0 or at rounding level
        (exact: :func:`sigbench.metrics.finite_excess`) gives no column.
    ``excess_residual`` [None]
        A per-row context key subtracted from the target before the MSE of the excess columns (``cancel``:
        ``clean_at_target``, so that they compare the interference left, not the wanted signal).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    metrics: ClassVar[tuple[str, ...]] = ERROR_METRICS
    main_metric: ClassVar[str] = "snr_db"
    #: naive rows make sense (a scalar target in the signal's own units)
    has_naive: ClassVar[bool] = True
    #: "real", "symbol" or "class"
    target_type: ClassVar[str] = "real"
    #: online processors may adapt on the target after each prediction (prequential mode)
    adapts_online: ClassVar[bool] = True
    #: default reference method
    reference: ClassVar[str] = "wiener"
    #: methods compared when none are named
    default_methods: ClassVar[tuple[str, ...]] = ()
    #: add the linear oracle (reference FIR fitted on the test rows)
    linear_oracle: ClassVar[bool] = True
    #: references whose MSE ratio is an excess column
    excess_roles: ClassVar[tuple[str, ...]] = ("reference", "oracle", "limit")
    #: per-row context key subtracted from the target in the excess columns' MSE
    excess_residual: ClassVar[str | None] = None

    def prepare(self, signal: Signal, *, window: int = 64, horizon: int = 1, centered: bool = False,
                channel: int | str = 0, target: str = "auto", hop: int | None = None,
                delay: int | None = None) -> TaskData:
        """Build inputs and targets.

        Parameters
        ----------
        signal : Signal
        window : int, default 64
            Samples per input row.
        horizon : int, default 1
            ``predict`` only: samples ahead of the window's last sample.
        centered : bool, default False
            ``denoise`` only: target the window's centre instead of its end.
        channel : int or str, default 0
            Channel of a multi-channel signal.
        target : {"auto", "observed"}
            Use the clean reference when known (auto) or the observed signal.
        hop : int, optional
            Samples between rows (default 1; ``detect``: the segment).
        delay : int, optional
            ``equalise`` only: the decision delay D (the target of the window ending at sample k is the symbol
            sent at k − D); default: the centre of the window and the channel.

        Raises
        ------
        ValidationError
            The window (plus horizon) is longer than the signal, or an option is out of range.
        """
        window = positive_int("window", window)
        horizon = positive_int("horizon", horizon)
        one_of("target", target, ("auto", "observed"))
        delay = None if delay is None else positive_int("delay", delay, minimum=0)
        hop = None if hop is None else positive_int("hop", hop)
        return self._prepare_signal(signal, window=window, horizon=horizon, centered=bool(centered),
                                    channel=channel, target=target, hop=hop, delay=delay)

    def _prepare_signal(self, signal: Signal, *, window: int, horizon: int, centered: bool, channel: int | str,
                        target: str, hop: int | None, delay: int | None) -> TaskData:
        """Rows of the whole (possibly multi-channel) signal; by default one channel's rows by :meth:`_prepare`.
        A task that reads several channels or takes a decision delay overrides this."""
        if delay is not None:
            raise ValidationError(f"expected no decision delay for task {self.name!r} (equalise takes one); "
                                  f"received: delay={delay}")
        return self._prepare(signal.channel(channel), window=window, horizon=horizon, centered=centered,
                             target=target, hop=hop)

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        raise NotImplementedError

    def decide(self, values: Any, context: dict[str, Any] | None = None) -> np.ndarray:
        """The task's decision on soft outputs (``symbol`` tasks: the nearest alphabet level); identity here."""
        return np.asarray(values, dtype=np.float64)

    @staticmethod
    def _target_stream(sig: Signal, target: str) -> tuple[np.ndarray, str]:
        if target == "auto" and sig.clean is not None:
            return sig.clean, "clean"
        return sig.data, "observed"


def _rows_view(x: np.ndarray, window: int, rows: int, hop: int) -> np.ndarray:
    view = sliding_windows(x, window)
    return view[: (rows - 1) * hop + 1 : hop]


class PredictTask(Task):
    """Predict the sample ``horizon`` ahead from the last ``window`` noisy samples."""

    name = "predict"
    description = "from the last WINDOW noisy samples predict the sample HORIZON ahead"
    metrics = (*ERROR_METRICS, "snr_gain_db")

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        hop = hop or 1
        x = sig.data
        n = sig.n_samples
        span = window + horizon
        if span > n:
            raise ValidationError(f"expected window + horizon <= {n} samples; received: window={window}, "
                                  f"horizon={horizon}")
        rows = (n - span) // hop + 1
        y_stream, kind = self._target_stream(sig, target)
        tidx = np.arange(rows) * hop + window - 1 + horizon
        return TaskData(self.name, _rows_view(x, window, rows, hop), y_stream[tidx], hop, span, tidx,
                        x[tidx], kind, sig.sample_rate_hz, n,
                        {"window": window, "horizon": horizon, "hop": hop, "target": target})


class DenoiseTask(Task):
    """Estimate the clean sample at the window's end (causal) or centre (``centered``)."""

    name = "denoise"
    description = "estimate the clean sample at the window's end (causal) or centre (--centered)"
    metrics = (*ERROR_METRICS, "snr_gain_db")

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        hop = hop or 1
        x = sig.data
        n = sig.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        rows = (n - window) // hop + 1
        y_stream, kind = self._target_stream(sig, target)
        offset = window // 2 if centered else window - 1
        tidx = np.arange(rows) * hop + offset
        return TaskData(self.name, _rows_view(x, window, rows, hop), y_stream[tidx], hop, window, tidx,
                        x[tidx], kind, sig.sample_rate_hz, n,
                        {"window": window, "centered": centered, "hop": hop, "target": target})


class IdentifyTask(Task):
    """System identification: known input window → the system's output at the window's end."""

    name = "identify"
    description = "system identification: known input (aux 'input') → unknown system's output"
    has_naive = False

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        if "input" not in sig.aux:
            raise ValidationError("expected a signal with a known input (aux 'input'), e.g. from the fir-system, "
                                  "iir-system or hammerstein sources; received: aux="
                                  f"{sorted(sig.aux) or 'none'}")
        hop = hop or 1
        u = sig.aux["input"]
        if u.ndim != 1:
            u = u[:, 0]
        n = sig.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        rows = (n - window) // hop + 1
        # identification sees the system's *measured* output: the noisy observation is the target ("auto"
        # too); a clean output would make every exact model score ~300 dB against noise-free targets
        y_stream, kind = sig.data, "observed"
        tidx = np.arange(rows) * hop + window - 1
        return TaskData(self.name, _rows_view(u, window, rows, hop), y_stream[tidx], hop, window, tidx,
                        sig.data[tidx], kind, sig.sample_rate_hz, n,
                        {"window": window, "hop": hop, "target": target})


#: input values per FFT call of the ``spectrum`` task (bounds its complex temporary)
_SPECTRUM_BLOCK_VALUES = 1 << 22


class SpectrumTask(Task):
    """Frame → DFT: the exact ``rfft`` (ortho) of each input frame, real parts then imaginary parts.

    The founding article's second experiment: a network trained to compute a 64-point DFT, measured against the
    FFT. By default a run reproduces it:

    * frames every sample (``hop`` 1, the default of every task): ``n − window + 1`` frames from ``n`` samples,
      each one a ``window``-sample stretch of the signal — on white noise, each frame taken alone is a vector of
      i.i.d. Gaussian samples, the article's "random vectors" (10 000 training frames: ``n ≈ 16 800`` at the
      default 0.6 training share). Non-overlapping frames (``hop=window``) give ``window`` times fewer: 46 training
      frames from 5000 samples, fewer than the 65 unknowns of each bin's affine least-squares map;
    * the reference is ``fft``, exact by definition (its error is 0, or float64 rounding for another
      implementation), so no ``excess_*`` column is derived over it (:func:`sigbench.metrics.finite_excess`);
      ``excess_float32_db`` measures instead how far a method is from the exact DFT stored in float32;
    * the default methods are the article's network of linear layers (``dnn:preset=dft``), the reference, the
      FFT in single precision (``fft:dtype=float32``: the network's own arithmetic, the fair yardstick of a
      float32 network) and ``wiener`` (the affine least-squares map of the training frames, which recovers the
      DFT — a linear map — to float64 rounding). ``dnn`` alone keeps its sigmoid 64-32-8 stack on every task;
    * memory: each row holds ``2·(window//2 + 1)`` target values (66 float64 for a 64-sample window, 528 bytes per
      sample of signal at ``hop`` 1); a long signal is streamed (``--stream``) or framed with a larger ``hop``.
    """

    name = "spectrum"
    description = "frame → DFT (rfft, norm='ortho'): real parts then imaginary parts of WINDOW//2+1 bins"
    metrics = ("mse", "rmse", "mae", "nmse_db", "snr_db", "max_abs_error", "excess_db", "excess_float32_db",
               "log_spectral_distance_db")
    has_naive = False
    reference = "fft"
    default_methods = ("dnn:preset=dft", "fft", "fft:dtype=float32", "wiener")

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        hop = hop or 1
        n = sig.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        rows = (n - window) // hop + 1
        inputs = _rows_view(sig.data, window, rows, hop)
        bins = window // 2 + 1
        targets = np.empty((rows, 2 * bins))
        step = max(1, _SPECTRUM_BLOCK_VALUES // window)  # frames per FFT call: no complex copy of every row
        for r0 in range(0, rows, step):
            spec = np.fft.rfft(inputs[r0:r0 + step], axis=1, norm="ortho")
            targets[r0:r0 + step, :bins] = spec.real
            targets[r0:r0 + step, bins:] = spec.imag
        tidx = np.arange(rows) * hop + window - 1
        return TaskData(self.name, inputs, targets, hop, window, tidx, None, "exact DFT", sig.sample_rate_hz,
                        n, {"window": window, "hop": hop})


BUILTIN_TASKS: tuple[Task, ...] = (PredictTask(), DenoiseTask(), IdentifyTask(), SpectrumTask())


@hookimpl
def register_tasks(register: Any) -> None:
    """Register the built-in tasks."""
    for task in BUILTIN_TASKS:
        register(task)
