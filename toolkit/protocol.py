"""The comparison protocol: one chronological split and one set of rules for every method.

* The signal's samples are split chronologically into train ``[0, a)``, validation ``[a, b)`` and test
  ``[b, n)`` (fractions, default 0.6/0.2/0.2; or ``train_samples=N``: train ``[0, N)`` and test
  ``[N, n)`` — the founding 4000/1000 split).
* A row (window plus its target) belongs to a segment only if **every** sample it touches lies inside
  it: no window crosses a boundary, so nothing of the test segment is ever seen while fitting.
* Every method is fitted on the fit rows (train + validation; neural methods hold the validation rows
  out for early stopping).
* Prequential mode (the default): online methods (LMS, NLMS, RLS and any processor declaring ``online``)
  then keep adapting on the test rows after predicting each one (predict, score, adapt) — the algorithm a
  DSP engineer deploys; the first ``transient`` fraction of the test rows is scored apart from the rest
  (steady state). Other methods are scored frozen. Each row states its mode (``adapting`` or ``frozen``).
* Offline mode: every method, online ones included, is frozen after fitting and scored on the test rows.
* Stochastic methods run once per seed (``seeds``, default 3) and are reported as mean ± 95 %
  interval (Student t); deterministic methods run once.
* References, named for what they are: the *linear reference* (``wiener`` by default: the affine
  least-squares FIR fitted on the training rows), the *linear oracle* (the same FIR fitted on the test rows
  themselves: no linear filter of that length beats it there) and, where the source knows its model, the
  *model limit*. Every row shows its excess over each, in dB of MSE: ``excess_db``, ``excess_oracle_db``,
  ``excess_limit_db``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sigbench._validate import in_range, one_of, positive_int
from sigbench.errors import ValidationError
from sigbench.tasks import TaskData

__all__ = ["Protocol", "Segments"]


@dataclass(frozen=True)
class Segments:
    """Row ranges of the split, and the sample boundaries they came from."""

    fit: slice
    train: slice
    val: slice
    test: slice
    boundaries: tuple[int, int, int]


@dataclass(frozen=True)
class Protocol:
    """Split fractions (or a train length), mode, seeds, reference, transient fraction.

    Raises
    ------
    ValidationError
        Fractions outside (0, 1) or not summing to 1, ``seeds`` < 1, unknown mode.
    """

    train: float = 0.6
    val: float = 0.2
    test: float = 0.2
    train_samples: int | None = None
    mode: str = "prequential"
    seeds: int = 3
    seed: int = 0
    reference: str = "wiener"
    transient: float = 0.1

    def __post_init__(self) -> None:
        one_of("mode", self.mode, ("offline", "prequential"))
        positive_int("seeds", self.seeds)
        positive_int("seed", self.seed, minimum=0)
        in_range("transient", self.transient, 0.0, 1.0, high_open=True)
        if self.train_samples is not None:
            positive_int("train_samples", self.train_samples)
            return
        for name in ("train", "test"):
            in_range(name, getattr(self, name), 0.0, 1.0, low_open=True, high_open=True)
        in_range("val", self.val, 0.0, 1.0, high_open=True)
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-9:
            raise ValidationError(f"expected train + val + test = 1; received: {self.train} + {self.val} + "
                                  f"{self.test} = {total:g}")

    def seed_list(self, stochastic: bool) -> list[int]:
        """Seeds a method runs with: ``seeds`` of them if stochastic, one otherwise."""
        return [self.seed + i for i in range(self.seeds if stochastic else 1)]

    def boundaries(self, n_samples: int) -> tuple[int, int, int]:
        """Sample indices ``(a, b, n)``: train ``[0, a)``, validation ``[a, b)``, test ``[b, n)``."""
        if self.train_samples is not None:
            if self.train_samples >= n_samples:
                raise ValidationError(f"expected train_samples < {n_samples} (the signal's length); "
                                      f"received: train_samples={self.train_samples}")
            return self.train_samples, self.train_samples, n_samples
        a = round(self.train * n_samples)
        b = round((self.train + self.val) * n_samples)
        return a, b, n_samples

    def split(self, data: TaskData | Any) -> Segments:
        """Rows of each segment; every row lies wholly inside one segment.

        ``data`` is a :class:`~sigbench.TaskData` or a row :class:`~sigbench.run.rows.Geometry` (anything with
        ``rows_within``, ``n_samples``, ``span`` and ``window``).

        Raises
        ------
        ValidationError
            A segment holds no complete row (window + horizon longer than the segment).
        """
        a, b, n = self.boundaries(data.n_samples)
        seg = Segments(fit=data.rows_within(0, b), train=data.rows_within(0, a), val=data.rows_within(a, b),
                       test=data.rows_within(b, n), boundaries=(a, b, n))
        for name, rows, length in (("training", seg.fit, b), ("test", seg.test, n - b)):
            if rows.stop - rows.start < 2:
                raise ValidationError(
                    f"expected the {name} segment ({length} samples) to hold rows of {data.span} samples "
                    f"(window + horizon); received: window={data.window}, segment of {length} samples"
                )
        return seg

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly record of the protocol."""
        return asdict(self)
