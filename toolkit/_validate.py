"""Small validators shared by constructors. Messages follow ``expected …; received: name=value``."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sigbench.errors import ValidationError


def _received(name: str, value: Any) -> str:
    return f"received: {name}={value!r}"


def positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int ≥ ``minimum``; reject bools, floats with a fraction, NaN."""
    integral = isinstance(value, numbers.Integral)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or (not integral and (
        not math.isfinite(float(value)) or not float(value).is_integer()
    )):
        raise ValidationError(f"expected {name} to be an integer >= {minimum}; {_received(name, value)}")
    ivalue = int(value) if integral else int(float(value))  # type: ignore[call-overload]
    if ivalue < minimum:
        raise ValidationError(f"expected {name} >= {minimum}; {_received(name, value)}")
    return ivalue


def finite_float(name: str, value: Any) -> float:
    """Return ``value`` as a finite float."""
    if isinstance(value, bool):
        raise ValidationError(f"expected {name} to be a finite number; {_received(name, value)}")
    try:
        fvalue = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"expected {name} to be a finite number; {_received(name, value)}") from None
    if not math.isfinite(fvalue):
        raise ValidationError(f"expected {name} to be a finite number; {_received(name, value)}")
    return fvalue


def positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or ≥ 0 with ``allow_zero``)."""
    fvalue = finite_float(name, value)
    if fvalue < 0 or (fvalue == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValidationError(f"expected {name} {bound}; {_received(name, value)}")
    return fvalue


def in_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
             high_open: bool = False) -> float:
    """Return ``value`` as a float inside the interval; the message shows the interval in maths notation."""
    fvalue = finite_float(name, value)
    ok_low = fvalue > low if low_open else fvalue >= low
    ok_high = fvalue < high if high_open else fvalue <= high
    if not (ok_low and ok_high):
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValidationError(f"expected {name} in {left}{low}, {high}{right}; {_received(name, value)}")
    return fvalue


def sample_rate(value: Any, name: str = "sample_rate_hz") -> float:
    """Validate a sample rate: finite and > 0 (scipy's ``_validate_fs`` lets NaN and inf through)."""
    return positive_float(name, value)


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValidationError(f"expected {name} to be one of {', '.join(choices)}; {_received(name, value)}")
    return str(value)
