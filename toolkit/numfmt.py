"""Number formats shared by the terminal leaderboard and the report: one format per column.

- :func:`eng`: engineering notation with SI prefixes and three significant digits, for rates, times,
  counts and costs (``3.31 M``, ``52.8 ms``, ``64``); never ``3e+06`` next to ``958780``.
- :func:`fixed`: a fixed number of decimals, for dB values (``19.76``, ``−0.49``).
- :func:`metric_value`: the format of a metric, chosen by its name (``*_db`` → :func:`fixed`, else :func:`eng`).

Missing or NaN values print as ``—``, infinities as ``∞``/``−∞`` (the ``snr_db`` of an exact method).

Examples
--------
>>> eng(3310204.3), eng(0.0528, "s"), eng(64), fixed(-0.4915)
('3.31 M', '52.8 ms', '64', '−0.49')
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MISSING", "eng", "fixed", "metric_label", "metric_value"]

#: what a missing value prints as
MISSING = "—"
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P"}
#: short column labels of the built-in metrics (a plugin's metric is shown under its own name)
_METRIC_LABELS = {"snr_db": "SNR dB", "snr_gain_db": "SNR gain dB", "mse": "MSE", "rmse": "RMSE", "mae": "MAE",
                  "nmse_db": "NMSE dB", "max_abs_error": "max |e|"}


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


def metric_value(name: str, value: Any) -> str:
    """A metric in its column's format: dB metrics with two decimals, the others in engineering notation."""
    return fixed(value, 2) if name.endswith("_db") else eng(value)


def metric_label(name: str) -> str:
    """The column label of a metric (``snr_db`` → ``SNR dB``); a plugin's metric keeps its name."""
    return _METRIC_LABELS.get(name, name)
