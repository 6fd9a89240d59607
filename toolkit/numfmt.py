"""Number formats shared by the terminal leaderboard and the report: one format per column.

- :func:`eng`: engineering notation with SI prefixes and three significant digits, for rates, times,
  counts and costs (``3.31 M``, ``52.8 ms``, ``64``); never ``3e+06`` next to ``958780``.
- :func:`fixed`: a fixed number of decimals, for dB values (``19.76``, ``−0.49``).
- :func:`rate`: scientific notation for error rates (``1.73e-01``), whose SI form (``173 m``) reads badly and
  whose range spans decades (``4.2e-06``).
- :func:`metric_value`: the format of a metric, chosen by its name (``*_db`` → :func:`fixed`; error rates
  ``ber``/``ser`` and their Wilson bounds → :func:`rate`; probabilities ``roc_auc``/``pd_at_pfa`` → three
  decimals; else :func:`eng`).
- :func:`metric_cell`: a table cell of a metric from a row's metrics: an error rate of 0 prints with its
  Wilson upper bound, ``0 (< 3.8e-04)``: "no error in N symbols", never a bare 0.

Missing or NaN values print as ``—``, infinities as ``∞``/``−∞`` (the ``snr_db`` of an exact method).

Examples
--------
>>> eng(3310204.3), eng(0.0528, "s"), eng(64), fixed(-0.4915)
('3.31 M', '52.8 ms', '64', '−0.49')
>>> metric_value("ber", 0.173), metric_value("roc_auc", 0.97712)
('1.73e-01', '0.977')
>>> metric_cell("ber", {"ber": 0.0, "ber_ci_high": 3.84e-4})
'0 (< 3.8e-04)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "PROBABILITY_METRICS", "RATE_METRICS", "eng", "fixed", "is_rate", "metric_cell", "metric_label",
           "metric_value", "rate"]

#: what a missing value prints as
MISSING = "—"
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P"}
#: short column labels of the built-in metrics (a plugin's metric is shown under its own name)
_METRIC_LABELS = {"snr_db": "SNR dB", "snr_gain_db": "SNR gain dB", "mse": "MSE", "rmse": "RMSE", "mae": "MAE",
                  "nmse_db": "NMSE dB", "max_abs_error": "max |e|", "ber": "BER", "ser": "SER", "roc_auc": "AUC",
                  "pd_at_pfa": "Pd@Pfa", "snr_improvement_db": "SNR impr. dB"}
#: error rates (and their Wilson bounds): scientific notation, and 0 read with the upper bound
RATE_METRICS = frozenset({"ber", "ser", "ber_ci_low", "ber_ci_high", "ser_ci_low", "ser_ci_high"})
#: probabilities and areas in [0, 1]: three decimals
PROBABILITY_METRICS = frozenset({"roc_auc", "pd_at_pfa"})


def _special(value: Any) -> str | None:
    if value is None:
        return MISSING
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return None


def eng(value: Any, unit: str = "", digits: int = 3) -> str:
    """Engineering notation: a mantissa in [1, 1000) with ``digits`` significant digits and an SI prefix.

    Parameters
    ----------
    value : float or None
    unit : str, default ""
        Appended after the prefix (``"s"`` gives ``ms``, ``µs``); without a unit the prefix stands alone.
    digits : int, default 3
        Significant digits.

    Returns
    -------
    str
        e.g. ``"3.31 M"``, ``"52.8 ms"``; a count (no unit, an integer below 1000) prints as itself
        (``"64"``); ``"—"`` for a missing value.
    """
    special = _special(value)
    if special is not None:
        return special
    v = float(value)
    suffix = f" {unit}" if unit else ""
    if v == 0:
        return f"0{suffix}"
    if not unit and v.is_integer() and abs(v) < 1000:  # a count
        return str(int(v)).replace("-", "−")
    exp3 = math.floor(math.log10(abs(v)) / 3) * 3
    exp3 = max(min(exp3, max(_PREFIXES)), min(_PREFIXES))
    mantissa = v / 10.0**exp3
    decimals = max(digits - 1 - math.floor(math.log10(abs(mantissa))), 0)
    text = f"{mantissa:.{decimals}f}"
    if abs(float(text)) >= 1000 and exp3 < max(_PREFIXES):  # 999.96 rounds up to the next prefix
        exp3 += 3
        mantissa = v / 10.0**exp3
        text = f"{mantissa:.{digits - 1}f}"
    prefix = _PREFIXES[exp3]
    unit_text = f" {prefix}{unit}" if (prefix or unit) else ""
    return f"{text}{unit_text}".replace("-", "−")


def fixed(value: Any, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals and a true minus sign (``"−0.49"``); ``"—"`` when missing."""
    special = _special(value)
    if special is not None:
        return special
    text = f"{float(value):.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


def rate(value: Any, digits: int = 3) -> str:
    """An error rate in scientific notation with ``digits`` significant digits (``"1.73e-01"``); ``"0"`` for
    zero, ``"—"`` when missing.

    Examples
    --------
    >>> rate(0.0042195), rate(0), rate(None)
    ('4.22e-03', '0', '—')
    """
    special = _special(value)
    if special is not None:
        return special
    v = float(value)
    if v == 0:
        return "0"
    return f"{v:.{max(digits - 1, 0)}e}"


def is_rate(name: str) -> bool:
    """Whether the metric ``name`` is an error rate (``ber``, ``ser`` or one of their Wilson bounds)."""
    return name in RATE_METRICS


def metric_value(name: str, value: Any) -> str:
    """A metric in its column's format: dB metrics with two decimals, error rates in scientific notation,
    probabilities (AUC, Pd) with three decimals, the others in engineering notation."""
    if name in RATE_METRICS:
        return rate(value)
    if name in PROBABILITY_METRICS:
        return fixed(value, 3)
    return fixed(value, 2) if name.endswith("_db") else eng(value)


def metric_cell(name: str, metrics: Mapping[str, Any], *, interval: bool = True) -> str:
    """The table cell of metric ``name`` from a row's ``metrics``: the value, then ``± ci`` over seeds.

    An error rate of exactly 0 is printed with its Wilson upper bound ``<name>_ci_high`` when the row has it:
    ``0 (< 3.8e-04)`` ("no error in N symbols; the rate is below this at 95 %").

    Parameters
    ----------
    name : str
        Metric key, e.g. ``"ber"``.
    metrics : mapping
        The row's metrics (``name``, ``name_ci``, ``name_ci_high`` …).
    interval : bool, default True
        Append ``± <name>_ci`` (the interval over seeds) when it is stored.

    Returns
    -------
    str
    """
    value: Any = metrics.get(name)
    text = metric_value(name, value)
    high: Any = metrics.get(f"{name}_ci_high")
    if name in RATE_METRICS and _special(value) is None and float(value) == 0 and _special(high) is None:
        text = f"0 (< {float(high):.1e})"
    ci = metrics.get(f"{name}_ci")
    if interval and ci is not None and _special(ci) is None:
        text += f" ± {metric_value(name, ci)}"
    return text


def metric_label(name: str) -> str:
    """The column label of a metric (``snr_db`` → ``SNR dB``); a plugin's metric keeps its name."""
    return _METRIC_LABELS.get(name, name)
