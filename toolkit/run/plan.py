"""The plan of a run: methods resolved before any work, grid points, the configuration (and its hash, which
``--resume`` matches), and cell options. Nothing here touches data."""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigbench.errors import ConfigError
from sigbench.host import get_host
from sigbench.params import MethodSpec, coerce_params, parse_method_spec
from sigbench.processor import Processor
from sigbench.protocol import Protocol
from sigbench.results import Results

__all__ = ["DEFAULT_METHODS", "ROLES", "Method", "RunInfo", "build_config", "cell_options", "default_methods",
           "grid_points",
           "model_limit", "new_run_id", "resolve_methods", "with_grid_options"]

#: methods compared when none are named, per task
DEFAULT_METHODS: dict[str, tuple[str, ...]] = {
    "predict": ("dnn", "cnn", "lstm", "cnn-lstm", "lms", "wiener", "fir-bank:mode=features,numtaps=31,bands=16",
                "naive"),
    "denoise": ("dnn", "cnn", "lstm", "lms", "wiener", "fir-bank", "naive"),
    "identify": ("dnn", "lstm", "lms", "nlms", "rls", "wiener"),
    "spectrum": ("dnn:preset=dft", "fft", "fft:dtype=float32", "wiener"),  # = SpectrumTask.default_methods
}


@dataclass
class RunInfo:
    """What observers (``on_run_start``/``on_method_done``/``on_run_end``) receive."""

    run_id: str
    task: str
    methods: list[str]
    protocol: dict[str, Any]
    signal: dict[str, Any]
    results: Results | None = None


#: the references a row is measured against, in the order they run: label shown in tables, excess column
ROLES: dict[str, tuple[str, str]] = {
    "reference": ("linear reference", "excess_db"),
    "oracle": ("linear oracle", "excess_oracle_db"),
    "limit": ("model limit", "excess_limit_db"),
}


@dataclass
class Method:
    """A resolved method: its specification, class and validated constructor options, and its role: ``""`` for a
    compared method, or one of :data:`ROLES` — ``reference`` (the linear reference, fitted on the training
    rows), ``oracle`` (the same FIR fitted on the test rows themselves: no filter of its kind beats it there) or
    ``limit`` (the source's model-based estimator)."""

    spec: MethodSpec
    cls: type[Processor]
    options: dict[str, Any]
    role: str = ""

    @property
    def is_reference(self) -> bool:
        """The linear reference (the bound of ``excess_db``)."""
        return self.role == "reference"

    @property
    def fit_on_test(self) -> bool:
        """Fitted on the test rows (the linear oracle)."""
        return self.role == "oracle"

    @property
    def stochastic(self) -> bool:
        """Runs once per seed (the class is not deterministic)."""
        return not getattr(self.cls, "deterministic", True)

    @property
    def is_chain(self) -> bool:
        """A chain of processors (``"a | b"``)."""
        return bool(getattr(self.cls, "is_chain", False))


def cell_options(m: Method, seed: int) -> dict[str, Any]:
    """Constructor options of one cell: the user's, plus ``seed`` for a processor that takes one (everything else
    a processor may want from the run — horizon, validation share, sample rate — is in its
    :class:`~sigbench.processor.TaskContext`)."""
    opts = dict(m.options)
    if "seed" in m.cls.param_names() and "seed" not in m.spec.options:
        opts["seed"] = seed
    return {k: v for k, v in opts.items() if not k.startswith("_")}


#: float processors with a quantised counterpart, per scheme (``--quantize``): int8 for the exportable (neural)
#: ones, Q15 fixed point for the FIR-type DSP baselines
QUANTIZABLE: dict[str, tuple[str, ...]] = {"q15": ("wiener", "fir", "fir-bank", "lms", "nlms", "rls")}


def processor_class(name: str) -> type[Processor]:
    """The processor class registered as ``name``; ``NAME@SCHEME`` (``dnn@int8``, ``wiener@q15``) is the
    quantised version of ``NAME`` (see :func:`sigbench.deploy.quantized`)."""
    registry = get_host().registry
    if "@" in name:
        base, scheme = name.rsplit("@", 1)
        from sigbench.deploy.quantize import quantized

        return quantized(registry.get("processors", base).obj, scheme)
    cls: type[Processor] = registry.get("processors", name).obj
    return cls


def quantized_variants(methods: list[Method], schemes: Sequence[str]) -> list[Method]:
    """``<name>@<scheme>`` of every method with a quantised counterpart (int8: neural; q15: FIR-type DSP)."""
    out: list[Method] = []
    for scheme in schemes:
        for m in methods:
            if m.role not in ("", "reference") or m.is_chain or "@" in m.spec.name:
                continue
            fits = (m.cls.family == "neural") if scheme == "int8" else m.spec.name in QUANTIZABLE.get(scheme, ())
            if not fits:
                continue
            cls = processor_class(f"{m.spec.name}@{scheme}")
            rest = m.spec.label[len(m.spec.name):]
            spec = MethodSpec(f"{m.spec.name}@{scheme}", dict(m.spec.options), f"{m.spec.name}@{scheme}{rest}")
            out.append(Method(spec, cls, dict(m.options)))
    return out


def default_methods(task: Any, reference: str = "wiener") -> tuple[str, ...]:
    """Methods compared when none are named: the task's own (:attr:`sigbench.tasks.Task.default_methods`), the
    engine's for a built-in task, else the reference alone."""
    own = tuple(getattr(task, "default_methods", ()) or ())
    return own or DEFAULT_METHODS.get(task.name, (reference or "wiener",))


def resolve_methods(methods: Sequence[Any] | None, task: Any, reference: str,
                    include_naive: bool = True, oracle: bool = True, quantize: Sequence[str] = ()) -> list[Method]:
    """Parse method specifications, look them up, coerce and validate their options (before any work).

    Raises
    ------
    ConfigError, ValidationError
        An unknown option or an invalid value (a usage error: nothing has run yet).
    UnknownNameError, PluginError
        An unknown method, or one whose plugin failed to load.
    """
    from sigbench.chains import is_chain_spec, resolve_chain
    from sigbench.params import processor_method

    objects: dict[str, Any] = {}  # label -> (class, options) of methods given as processor classes or instances
    specs = []
    for item in methods or default_methods(task, reference):
        if isinstance(item, str):
            specs.append(parse_method_spec(item))
        else:  # a processor class or instance: labelled by its parameters, re-created per cell
            pm = processor_method(item)
            objects[pm.spec.label] = (pm.cls, pm.options)
            specs.append(pm.spec)
    plain = [None if is_chain_spec(s.label) else s.name for s in specs]  # a chain is never "its first stage"
    ref_index = next((i for i, s in enumerate(specs) if s.label == reference), None)
    if ref_index is None:
        ref_index = next((i for i, name in enumerate(plain) if name == reference), None)
    if reference and ref_index is None:
        specs.insert(0, parse_method_spec(reference))
        ref_index = 0
    if include_naive and task.has_naive and "naive" not in plain:
        specs.append(parse_method_spec("naive"))
    if len({s.label for s in specs}) != len(specs):
        raise ConfigError(f"expected each method once; received: {', '.join(s.label for s in specs)}")
    resolved: list[Method] = []
    for index, spec in enumerate(specs):
        if spec.label in objects:
            cls, options = objects[spec.label]
        elif is_chain_spec(spec.label):
            cls, options = resolve_chain(spec.label)
        else:
            cls = processor_class(spec.name)
            options = coerce_params(cls.__init__, spec.options, what=f"option of method {spec.name!r}")
        m = Method(spec, cls, options, role="reference" if reference and index == ref_index else "")
        m.cls(**cell_options(m, 0))  # validates the options now
        resolved.append(m)
    resolved += quantized_variants(resolved, quantize)
    ref = next((m for m in resolved if m.is_reference), None)
    if (oracle and getattr(task, "linear_oracle", True) and ref is not None and not ref.is_chain
            and getattr(ref.cls, "linear_least_squares", False)):
        label = ROLES["oracle"][0]
        resolved.append(Method(MethodSpec(ref.spec.name, dict(ref.spec.options), label), ref.cls, dict(ref.options),
                               role="oracle"))
    order = list(ROLES)
    resolved.sort(key=lambda m: order.index(m.role) if m.role else len(order))  # references first
    return resolved


def model_limit(source: str | None, params: dict[str, Any] | None, task: str,
                metadata: dict[str, Any] | None = None) -> Method | None:
    """The model-limit method of a signal whose source registered an ``oracle`` estimator (a processor built from
    the signal's metadata with its ``from_metadata`` classmethod — which may return a processor of another
    registered class, e.g. the energy detector for a tone of random phase — else from the recorded parameters its
    constructor takes; its class attribute ``tasks`` names the tasks it serves), or ``None``. The row is labelled
    ``model limit``, or ``model limit (<limit_label>)`` when the processor's class names what it is."""
    if not source:
        return None
    registry = get_host().registry
    entry = registry.entries.get("sources", {}).get(source)
    name = entry.info.get("oracle") if entry is not None else None
    if not name or name not in registry.entries.get("processors", {}):
        return None
    cls = registry.get("processors", name).obj
    if task not in getattr(cls, "tasks", (task,)):
        return None
    if hasattr(cls, "from_metadata"):  # the estimator reads what it needs (the noise level actually used, …)
        obj = cls.from_metadata(metadata or {"params": params or {}})
        cls, name = type(obj), str(type(obj).name)
        if task not in getattr(cls, "tasks", (task,)):
            return None
        options = obj.get_params()
    else:
        accepted = set(cls.param_names())
        options = {k: v for k, v in (params or {}).items() if k in accepted}
    what = getattr(cls, "limit_label", "")
    label = f"{ROLES['limit'][0]} ({what})" if what else ROLES["limit"][0]
    return Method(MethodSpec(name, {}, label), cls, options, role="limit")


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (one dict per point; ``[{}]`` for no grid).

    Raises
    ------
    ConfigError
        A key without values.
    """
    points: list[dict[str, Any]] = [{}]
    for key, values in grid.items():
        if not values:
            raise ConfigError(f"expected at least one value for grid {key!r}")
        points = [{**p, key: v} for p in points for v in values]
    return points


def with_grid_options(m: Method, point: dict[str, Any]) -> Method:
    """``m`` with the point's ``METHOD.OPTION`` values (chains are addressed as a whole, never their stages)."""
    if m.is_chain:
        return m
    extra = {k.split(".", 1)[1]: v for k, v in point.items() if "." in k and k.split(".", 1)[0] == m.spec.name}
    if not extra:
        return m
    options = {**m.options, **coerce_params(m.cls.__init__, {k: str(v) for k, v in extra.items()})}
    return Method(m.spec, m.cls, options, m.role)


def build_config(kind: str, task: Any, methods: list[Method], protocol: Protocol, task_opts: dict[str, Any],
                 signal: dict[str, Any], grid: dict[str, list[Any]] | None = None,
                 metrics: Sequence[str] = ()) -> dict[str, Any]:
    """The run's configuration (recorded in the result file; its hash is what ``--resume`` matches)."""
    config = {"kind": kind, "task": task.name, "task_options": task_opts, "protocol": protocol.as_dict(),
              "methods": [{"label": m.spec.label, "name": m.spec.name, "options": m.options} for m in methods],
              "signal": {k: signal.get(k) for k in ("name", "path", "samples", "source", "seed", "params")},
              "grid": grid or {}}
    if metrics:
        config["metrics"] = list(metrics)
    return config


def new_run_id() -> str:
    """A fresh run id: UTC time stamp and a random suffix."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"
