r"""Tasks beyond "one stream → one real value": channel equalisation, adaptive noise cancellation, tone detection.

Each is an ordinary :class:`~sigbench.tasks.Task` on the one run engine (in memory, streamed from a file, on
workers or Dask), using what the task contract offers third-party tasks too:

``equalise``  row :math:`r` is the window of :math:`W` received samples ending at :math:`k = r\,h + W - 1`
              (hop :math:`h`, 1 by default); its target is the transmitted symbol :math:`a[k - D]`, :math:`D`
              the decision delay (``delay``; default :math:`\min(W - 1, \lfloor (W + L)/2 \rfloor - 1)` for a
              channel of :math:`L` taps recorded in the signal's metadata, else :math:`\lfloor W/2 \rfloor`).
              Targets are symbols (``target_type = "symbol"``): processors output soft values and the task
              decides (nearest level of the alphabet, :meth:`EqualiseTask.decide`); metrics ``ber``/``ser`` with
              their Wilson bounds, ranked by ``ber``. The signal's ``clean`` holds the transmitted symbols (the
              ``channel`` source). The symbols are not observable at the receiver after the preamble, so rows are
              scored frozen (``adapts_online = False``); ``dfe`` adapts on its own decisions.
``cancel``    Widrow's two-input canceller: the input row is the window of the *reference* channel (the noise
              source) ending at :math:`k`, the target is the *primary* channel at :math:`k` (signal plus the
              noise through an unknown path); a canceller's output is :math:`d[k] - \hat d[k]`. The primary is
              observed, so online cancellers keep adapting on it (prequential mode). Metric
              ``snr_improvement_db`` (with the clean signal at each target as ``clean_at_target`` in the metric
              context: the exact SNR gain; without it, the output power reduction).
``detect``    consecutive segments of ``segment`` samples (the signal's ``metadata["segment"]``; the window and
              the hop), each labelled 0/1 by ``aux["label"]`` (the ``tone-detect`` source); processors output a
              score, larger meaning "present" (``target_type = "class"``: the neural networks train a sigmoid
              output on cross-entropy). Metrics ``roc_auc`` and ``pd_at_pfa`` (detection probability at a
              false-alarm rate of 10⁻²), ranked by ``roc_auc``. Labels are not observed at run time: rows are
              scored frozen.

Each source records its optimum (``oracle=`` at registration, see :func:`sigbench.run.plan.model_limit`): the
``model limit`` row is MLSE with the true channel, the canceller with the true noise path, the matched filter
(known phase) or the energy detector at the tone's frequency (random phase).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sigbench.errors import ValidationError
from sigbench.hookspecs import hookimpl
from sigbench.metrics_comms import MAX_INFERRED_ALPHABET, pam_alphabet, slice_symbols
from sigbench.signal import Signal
from sigbench.tasks import Task, TaskData, _rows_view

__all__ = ["CancelTask", "DetectTask", "EqualiseTask"]

ERROR_RATES = ("ber", "ber_ci_low", "ber_ci_high", "ser", "ser_ci_low", "ser_ci_high")


def _alphabet(sig: Signal, symbols: np.ndarray) -> tuple[float, ...]:
    """The symbol alphabet: the signal's ``metadata["alphabet"]`` (or ``levels``), else the distinct symbols."""
    meta = sig.metadata or {}
    if meta.get("alphabet") is not None:
        return tuple(float(v) for v in meta["alphabet"])
    if meta.get("levels") is not None:
        return tuple(float(v) for v in pam_alphabet(int(meta["levels"])))
    distinct = np.unique(symbols)
    if not 2 <= distinct.size <= MAX_INFERRED_ALPHABET:
        raise ValidationError(f"expected transmitted symbols of 2 to {MAX_INFERRED_ALPHABET} distinct values (or "
                              f"metadata['alphabet']); received: {distinct.size} distinct clean values")
    return tuple(float(v) for v in distinct)


def _channel_taps(sig: Signal) -> int:
    channel = (sig.metadata or {}).get("channel")
    if isinstance(channel, dict) and channel.get("taps"):
        return len(channel["taps"])
    return 0


class EqualiseTask(Task):
    """Recover transmitted symbols: window of received samples → the symbol sent ``delay`` samples before its end."""

    name = "equalise"
    description = "received window → the symbol sent DELAY samples before its end (decided on the alphabet)"
    metrics = (*ERROR_RATES, "mse", "nmse_db", "excess_db")
    main_metric = "ber"
    has_naive = False
    target_type = "symbol"
    adapts_online = False
    default_methods = ("lms", "rls", "dfe", "dnn")
    #: MLSE decides hard symbols: its MSE is no bound of the soft outputs' (compare BER with it)
    excess_roles = ("reference", "oracle")

    @staticmethod
    def default_delay(window: int, channel_taps: int) -> int:
        """The centred decision delay :math:`\\min(W - 1, \\lfloor (W + L)/2 \\rfloor - 1)` (:math:`W/2` when the
        channel length :math:`L` is unknown)."""
        if channel_taps <= 0:
            return window // 2
        return max(0, min(window - 1, (window + channel_taps) // 2 - 1))

    def _prepare_signal(self, signal: Signal, *, window: int, horizon: int, centered: bool, channel: int | str,
                        target: str, hop: int | None, delay: int | None) -> TaskData:
        sig = signal.channel(channel)
        if sig.clean is None:
            raise ValidationError("expected the transmitted symbols as the signal's clean reference (e.g. the channel "
                                  "source's signal); received: a signal without clean")
        hop = hop or 1
        n = sig.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        d = self.default_delay(window, _channel_taps(signal)) if delay is None else delay
        if d >= window:
            raise ValidationError(f"expected delay < window ({window} samples): the symbol decided must have reached "
                                  f"the window; received: delay={d}")
        rows = (n - window) // hop + 1
        k = np.arange(rows) * hop + window - 1
        tidx = k - d
        alphabet = _alphabet(signal, sig.clean)
        return TaskData(self.name, _rows_view(sig.data, window, rows, hop), sig.clean[tidx], hop, window, tidx,
                        None, "symbols", sig.sample_rate_hz, n,
                        {"window": window, "hop": hop, "delay": d},
                        context={"alphabet": alphabet, "decision_delay": d})

    def decide(self, values: Any, context: dict[str, Any] | None = None) -> np.ndarray:
        """The nearest alphabet level of each soft value (``context["alphabet"]``; BPSK without one)."""
        alphabet = (context or {}).get("alphabet") or (-1.0, 1.0)
        return slice_symbols(values, alphabet)


class CancelTask(Task):
    """Widrow's noise canceller: reference-channel window → the primary channel at its end."""

    name = "cancel"
    description = "reference-channel window → the primary channel at its end (output: primary − prediction)"
    metrics = ("snr_improvement_db", "mse", "nmse_db", "excess_db")
    main_metric = "snr_improvement_db"
    has_naive = False
    default_methods = ("lms", "nlms", "rls", "dnn")
    #: the excess columns compare the interference left in the output, d − d̂ − s
    excess_residual = "clean_at_target"
    #: fitted on the test rows' primary, a FIR also fits the wanted signal's in-sample correlation with the
    #: reference and cancels part of it: no bound of the SNR improvement (the true noise path is)
    linear_oracle = False
    excess_roles = ("reference", "limit")

    @staticmethod
    def channels(signal: Signal, primary: int | str) -> tuple[int, int]:
        """Indices of the primary channel (``primary``) and the reference (named ``reference``, else the other
        channel of a two-channel signal).

        Raises
        ------
        ValidationError
            A single-channel signal, or no channel to use as the reference.
        """
        names = list(signal.channel_names)
        if signal.n_channels < 2:
            raise ValidationError("expected two channels, primary and reference (e.g. the anc source's signal); "
                                  f"received: {signal.n_channels} channel")
        p = names.index(primary) if isinstance(primary, str) and primary in names else None
        if p is None:
            if isinstance(primary, str) and not primary.isdigit():
                raise ValidationError(f"expected a channel among {names}; received: channel={primary!r}")
            p = int(primary)
            if not 0 <= p < signal.n_channels:
                raise ValidationError(f"expected a channel index below {signal.n_channels}; received: channel={p}")
        if "reference" in names and names.index("reference") != p:
            return p, names.index("reference")
        others = [i for i in range(signal.n_channels) if i != p]
        if len(others) != 1:
            raise ValidationError(f"expected a channel named 'reference' (or exactly two channels); received: "
                                  f"channels {names}")
        return p, others[0]

    def _prepare_signal(self, signal: Signal, *, window: int, horizon: int, centered: bool, channel: int | str,
                        target: str, hop: int | None, delay: int | None) -> TaskData:
        if delay is not None:
            raise ValidationError(f"expected no decision delay for task 'cancel'; received: delay={delay}")
        p, r = self.channels(signal, channel)
        hop = hop or 1
        n = signal.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        primary = signal.channel(p)
        reference = signal.channel(r)
        rows = (n - window) // hop + 1
        k = np.arange(rows) * hop + window - 1
        extras = {} if primary.clean is None else {"clean_at_target": primary.clean[k]}
        return TaskData(self.name, _rows_view(reference.data, window, rows, hop), primary.data[k], hop, window, k,
                        None, "primary", signal.sample_rate_hz, n,
                        {"window": window, "hop": hop, "primary": p, "reference": r}, row_context=extras)


class DetectTask(Task):
    """Is the tone there? One labelled segment → a detection score."""

    name = "detect"
    description = "segment of SEGMENT samples → a score that the tone is present (labels from aux 'label')"
    metrics = ("roc_auc", "pd_at_pfa", "mse")
    main_metric = "roc_auc"
    has_naive = False
    target_type = "class"
    adapts_online = False
    default_methods = ("energy-detector", "cnn", "dnn")
    #: scores are no estimates of the labels: no MSE bound means anything here (compare AUC / Pd)
    linear_oracle = False
    excess_roles = ()

    def _prepare(self, sig: Signal, *, window: int, horizon: int, centered: bool, target: str,
                 hop: int | None) -> TaskData:
        if "label" not in sig.aux:
            raise ValidationError("expected a signal with labels (aux 'label', 1 where the tone is present), e.g. the "
                                  f"tone-detect source's; received: aux={sorted(sig.aux) or 'none'}")
        segment = int((sig.metadata or {}).get("segment") or window)
        if window != segment:
            raise ValidationError(f"expected window = the signal's segment ({segment} samples): one row per labelled "
                                  f"segment; received: window={window}")
        hop = hop or segment
        if hop != segment:
            raise ValidationError(f"expected hop = the segment ({segment} samples); received: hop={hop}")
        n = sig.n_samples
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        rows = (n - window) // hop + 1
        starts = np.arange(rows) * hop
        label = np.asarray(sig.aux["label"], dtype=np.float64)
        label = label if label.ndim == 1 else label[:, 0]
        seg = label[starts[:, None] + np.arange(window)[None, :]] if rows else np.zeros((0, window))
        if rows and not np.all(seg == seg[:, :1]):
            bad = int(np.argmax(~np.all(seg == seg[:, :1], axis=1)))
            raise ValidationError(f"expected one label per segment; received: labels that change inside segment {bad}")
        return TaskData(self.name, _rows_view(sig.data, window, rows, hop), label[starts], hop, window,
                        starts + window - 1, None, "labels", sig.sample_rate_hz, n,
                        {"window": window, "hop": hop})


BUILTIN_TASKS: tuple[Task, ...] = (EqualiseTask(), CancelTask(), DetectTask())


@hookimpl
def register_tasks(register: Any) -> None:
    """Register ``equalise``, ``cancel`` and ``detect``."""
    for task in BUILTIN_TASKS:
        register(task)
