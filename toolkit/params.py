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

__all__ = ["MethodSpec", "ProcessorMethod", "coerce_params", "coerce_value", "format_option", "parse_kv",
           "parse_method_spec", "processor_method"]


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


def format_option(value: Any) -> str:
    """One option value as written in a method specification (the inverse of :func:`coerce_value`).

    ``0.01`` → ``"0.01"``, ``True`` → ``"true"``, ``None`` → ``"none"``, ``(32, 8)`` → ``"32,8"``;
    anything else by ``str``.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(format_option(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


class ProcessorMethod(typing.NamedTuple):
    """What the engine needs of one method: its specification (label), class and constructor options."""

    spec: MethodSpec
    cls: type
    options: dict[str, Any]


def _defaults(cls: type) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]
    return {k: p.default for k, p in sig.parameters.items()
            if k != "self" and p.default is not inspect.Parameter.empty}


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default) if not isinstance(value, (list, tuple)) else list(value) != list(default)
    except Exception:  # an array or an object without a plain comparison: treat as set by the user
        return True


def processor_method(obj: Any) -> ProcessorMethod:
    """Turn a processor instance or class into the method the engine runs (spec, class, options).

    A class gives its registry name and no options; an instance gives the options that differ from
    its constructor's defaults (``get_params(deep=False)``), so ``LMS(mu=0.01)`` is the method
    ``lms:mu=0.01`` — labelled by its parameters, with the engine's per-seed ``seed`` and the task's
    ``horizon`` still applied unless set. The options are the very values of the instance (not
    strings), ready for ``cls(**options)``; the instance itself is never used, so every seed and
    worker builds a fresh one (a process or Dask worker re-creates it from ``cls`` and ``options``).

    Parameters
    ----------
    obj : Processor or type[Processor]
        A processor instance (fitted or not: only its parameters are taken) or class.

    Returns
    -------
    ProcessorMethod
        ``spec`` (``MethodSpec``: registry name, options as spec strings, the label shown in tables),
        ``cls`` and ``options``.

    Raises
    ------
    ConfigError
        ``obj`` is neither a processor class nor an instance of one (no ``name`` and ``get_params``).

    Examples
    --------
    >>> from sigbench.params import processor_method
    >>> from sigbench.plugins.dsp.lms import LMS
    >>> processor_method(LMS(mu=0.01, numtaps=32)).spec.label
    'lms:numtaps=32,mu=0.01'
    >>> processor_method(LMS).spec.label
    'lms'
    """
    cls = obj if isinstance(obj, type) else type(obj)
    if not callable(getattr(cls, "get_params", None)) or not hasattr(cls, "fit"):
        raise ConfigError(f"expected a method name, a processor class or instance; received: {obj!r}")
    name = str(getattr(cls, "name", "") or cls.__name__.lower())
    options: dict[str, Any] = {}
    if not isinstance(obj, type):
        defaults = _defaults(cls)
        options = {k: v for k, v in obj.get_params(deep=False).items()
                   if k not in defaults or _differs(v, defaults[k])}
    text = {k: format_option(v) for k, v in options.items()}
    label = name + (":" + ",".join(f"{k}={v}" for k, v in text.items()) if text else "")
    return ProcessorMethod(MethodSpec(name=name, options=text, label=label), cls, options)
