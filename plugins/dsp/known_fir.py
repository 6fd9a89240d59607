r"""A fixed, known FIR filter (``known-fir``): the oracle row of a task whose source knows the true filter
(the ``anc`` source's noise path, a ``fir-system``'s taps).

.. math::

    \hat d[k] = \sum_{i=0}^{L-1} b_i\, x[k-i]

with :math:`x[k]` the newest sample of the window and :math:`b` given (first tap: no delay), the
convention of ``metadata["noise_path"]["b"]`` and ``metadata["system"]["b"]``. Nothing is fitted.
For the ``cancel`` task it is the Wiener solution the adaptive cancellers converge to: no linear
canceller of the reference does better in expectation. Cost per output sample: :math:`L`
multiply-accumulates. Always stable.

Example
-------
>>> import numpy as np, sigbench as sb
>>> X = np.array([[1.0, 2.0, 3.0]])
>>> sb.get_processor("known-fir")(taps=(1.0, 0.5)).fit(X, [0.0]).predict(X)      # 3 + 0.5·2
array([4.])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor, predict_linear

__all__ = ["KnownFIR"]


class KnownFIR(DSPProcessor):
    """The known FIR ``taps`` applied to the newest samples of each window (nothing fitted).

    Parameters
    ----------
    taps : tuple of float, default (1.0,)
        :math:`b_0, b_1, \\dots` (first tap multiplies the newest sample); at most ``window`` taps.

    Raises
    ------
    ValidationError
        Empty, non-finite or all-zero ``taps``; at ``fit``: more taps than the window, or 2-D targets.

    Notes
    -----
    Output shape ``(rows,)``; ``len(taps)`` multiply-accumulates per output.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("known-fir")(taps=(0.5, -0.25))
    KnownFIR(taps=(0.5, -0.25))
    """

    name: ClassVar[str] = "known-fir"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    #: the model limit it serves (the ``anc`` source's oracle)
    tasks: ClassVar[tuple[str, ...]] = ("cancel",)
    limit_label: ClassVar[str] = "true noise path"

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> KnownFIR:
        """The canceller with the true noise path of an ``anc`` signal (``metadata["noise_path"]["b"]``)."""
        path = dict(metadata.get("noise_path") or {})
        if not path.get("b"):
            raise ValidationError("expected metadata['noise_path']['b'] (the anc source's record); received: none")
        return cls(taps=tuple(float(v) for v in path["b"]))

    def __init__(self, taps: tuple[float, ...] = (1.0,)) -> None:
        from sigbench.datasets._common import float_tuple

        self.taps = float_tuple("taps", taps)
        if not any(self.taps):
            raise ValidationError(f"expected at least one non-zero tap; received: taps={self.taps!r}")
        super().__init__(taps=tuple(self.taps))

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if targets.ndim == 2 and targets.shape[1] != 1:
            raise ValidationError(f"expected one target per row for {self.name}; received: targets.shape="
                                  f"{targets.shape}")
        if len(self.taps) > inputs.shape[1]:
            raise ValidationError(f"expected at most window ({inputs.shape[1]}) taps; received: "
                                  f"{len(self.taps)} taps")

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        weights = np.asarray(self.taps[::-1], dtype=np.float64)[None, :]  # oldest column first
        return predict_linear(inputs, weights)

    def trainable_params(self) -> int:
        """Nothing is fitted."""
        return 0

    def memory_bytes(self) -> int:
        """The taps."""
        return 8 * len(self.taps)

    def macs_per_sample(self) -> float:
        """``len(taps)``."""
        return float(len(self.taps))

    def extra_description(self) -> dict[str, Any]:
        """The taps."""
        return {"numtaps": len(self.taps)}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``known-fir``."""
    register(KnownFIR)
