"""Parsing ``key=value`` parameters from the command line and method specifications.

``coerce_params(fn, {"snr_db": "5"})`` converts strings with the annotations of ``fn``'s parameters:
``int``, ``float``, ``bool`` (``true/false/1/0/yes/no``), ``str``, and ``tuple``/``list`` of numbers
given as comma lists (``units=32,8``). A method specification is ``name:key=value,key=value``; a
comma-separated piece without ``=`` continues the previous value, so ``dnn:units=32,8,epochs=5`` means
``units=(32, 8)``, ``epochs=5``.
"""

from __future__ import annotations

import collections.abc
import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Any, Union

from sigbench.errors import ConfigError

__all__ = ["MethodSpec", "coerce_params", "coerce_value", "parse_kv", "parse_method_spec"]


def parse_kv(items: list[str] | tuple[str, ...], *, what: str = "--param") -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``; a piece without ``=`` raises :class:`ConfigError`."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"expected {what} KEY=VALUE; received: {item!r}")
        out[key] = value.strip()
    return out


def _split_options(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in text.split(","):
        if "=" in piece or not pieces:
            pieces.append(piece)
        else:
            pieces[-1] += "," + piece
    return [p for p in pieces if p.strip()]


def _parse_bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected {name} to be true or false; received: {name}={raw!r}")


def _parse_number(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is int:
            value = float(raw)
            if not math.isfinite(value) or value != int(value):
                raise ValueError
            return int(value)
        value = float(raw)
    except ValueError:
        raise ConfigError(f"expected {name} to be {'an integer' if kind is int else 'a number'}; "
                          f"received: {name}={raw!r}") from None
    return value


def coerce_value(name: str, raw: Any, annotation: Any) -> Any:
    """Convert one raw string to the annotated type (non-strings pass through)."""
    if not isinstance(raw, str):
        return raw
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if raw.strip().lower() == "none" and type(None) in args:
            return None
        errors: list[str] = []
        for option in non_none:
            try:
                return coerce_value(name, raw, option)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"cannot parse {name}={raw!r}")
    if origin is typing.Literal:
        if raw in args:
            return raw
        raise ConfigError(f"expected {name} to be one of {', '.join(map(str, args))}; received: {name}={raw!r}")
    if origin in (tuple, list, collections.abc.Sequence) or annotation in (tuple, list):
        item_type = args[0] if args else float
        items = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
        values = [coerce_value(name, p, item_type) for p in items]
        return values if (origin is list or annotation is list) else tuple(values)
    if annotation is bool:
        return _parse_bool(name, raw)
    if annotation is int:
        return _parse_number(name, raw, int)
    if annotation is float:
        return _parse_number(name, raw, float)
    return raw


def coerce_params(fn: Callable[..., Any], raw: dict[str, Any], *, what: str = "parameter") -> dict[str, Any]:
    """Convert ``raw`` strings with the annotations of ``fn``; unknown keys raise :class:`ConfigError`."""
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references in a third-party plugin: fall back to strings
        hints = {}
    params = {k: v for k, v in sig.parameters.items() if k not in ("self", "path")}
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in params or params[key].kind is inspect.Parameter.VAR_KEYWORD:
            if accepts_any:
                out[key] = value
                continue
            allowed = ", ".join(k for k, p in params.items() if p.kind is not p.VAR_KEYWORD)
            raise ConfigError(f"unknown {what} {key!r}; expected one of: {allowed}")
        out[key] = coerce_value(key, value, hints.get(key, str))
    return out


class MethodSpec(typing.NamedTuple):
    """A parsed method specification: registry name, option strings and the label shown in tables."""

    name: str
    options: dict[str, str]
    label: str


def parse_method_spec(text: str) -> MethodSpec:
    """Parse ``"lms:mu=0.005,numtaps=64"`` (options stay strings until the processor class coerces them)."""
    raw = text.strip()
    if not raw:
        raise ConfigError("expected a method name; received: ''")
    name, _, rest = raw.partition(":")
    name = name.strip()
    options = parse_kv(_split_options(rest), what=f"option of method {name!r}") if rest.strip() else {}
    return MethodSpec(name=name, options=options, label=raw)
