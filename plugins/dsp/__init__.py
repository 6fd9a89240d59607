"""Classical DSP baselines (family ``dsp``).

One processor per module, each registered through its own ``register_processors`` hook:
``naive`` and ``linear-extrapolation`` (:mod:`.naive`), ``wiener`` (:mod:`.wiener`), ``lms``, ``nlms``,
``rls`` (:mod:`.lms`, :mod:`.nlms`, :mod:`.rls`, sharing the loop in :mod:`._adaptive`), ``fir``
(:mod:`.fir`), ``fir-bank`` (:mod:`.fir_bank`), ``fft`` and ``goertzel`` (:mod:`.fft`).

Vocabulary (used by every processor here, and nowhere with another meaning)
---------------------------------------------------------------------------
``numtaps``
    Number of FIR coefficients (taps). Never "order": an FIR of ``numtaps`` taps has order
    ``numtaps - 1``. Filters that see a window use its **newest** ``numtaps`` samples;
    ``numtaps=None`` means the whole window.
``window``
    Number of past samples in one input row (oldest first, newest in the last column). Not a
    tapering function: the taper of ``fir``/``fir-bank``/``fft`` is called ``taper``.
``horizon``
    How many samples after the window's newest sample the target lies (``1``: the next sample).
``sample_rate``
    Samples per second (Hz) of the signal, given to ``fit(..., sample_rate=...)`` by the engine.
    Frequencies (``cutoff``, ``edges``, ``freq``) are in Hz; with the default ``sample_rate=1.0``
    they are in cycles per sample and the Nyquist frequency is 0.5. Never ``fs``.
``mu``
    Step size of LMS/NLMS (dimensionless for NLMS, 1/power for LMS).
``lam``, ``delta``
    RLS forgetting factor in (0, 1] and initial inverse-correlation scale ``P(0) = I / delta``.
``loading``
    Diagonal loading added to the sample correlation matrix, in units of input power.
"""
