"""Pipeline files: a whole study — signal, task, methods and chains, protocol, sweep grid, outputs — in TOML.

A pipeline file is validated completely before anything runs (unknown keys, wrong types, unknown sources,
tasks and methods, bad method options), and every error names the file and line::

    study.toml:12: unknown key 'sedes' in [protocol]; expected one of: include_naive, mode, reference, …

``--set KEY=VALUE`` overrides (``signal.n=1500``, ``protocol.seeds=1``, ``methods=["wiener","lms"]``) are
applied to the parsed document before validation, so they are checked exactly like the file; their errors
name the override instead of a line. The text of the file that ran, its SHA-256 and the overrides are
stored in the result run (``config["pipeline"]``), so the study can be rerun from the result file itself.

See ``docs/pipelines.md`` for every key.

Examples
--------
>>> import sigbench.pipeline as pl  # doctest: +SKIP
>>> res = pl.run_pipeline("examples/pipelines/founding.toml", overrides=["protocol.seeds=1"])  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigbench.errors import ConfigError, SigbenchError

if TYPE_CHECKING:
    from sigbench.results import Results

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib

__all__ = ["Pipeline", "SignalSpec", "apply_override", "load_pipeline", "parse_pipeline", "run_pipeline"]

#: the HDF5 signature: a pipeline "file" that starts with it is a result file holding a stored pipeline
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: allowed keys per table, with their types (``float`` accepts integers; ``"int|str"`` either)
_SCHEMA: dict[str, dict[str, str]] = {
    "": {"description": "str", "signal": "table", "task": "table", "methods": "array", "protocol": "table",
         "sweep": "table", "output": "table"},
    "signal": {"source": "str", "file": "str", "name": "str", "n": "int", "seed": "int", "params": "table"},
    "task": {"name": "str", "window": "int", "horizon": "int", "centered": "bool", "channel": "int|str",
             "target": "str", "hop": "int", "delay": "int"},
    "protocol": {"split": "array", "train_samples": "int", "seeds": "int", "seed": "int", "mode": "str",
                 "reference": "str", "transient": "float", "include_naive": "bool"},
    "output": {"results": "str", "report": "str", "report_format": "str"},
    "methods[]": {"name": "str", "options": "table", "chain": "array"},
    "chain[]": {"name": "str", "options": "table"},
}
_TYPE_WORDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
               "table": "a table", "array": "an array", "int|str": "an integer or a string"}
_TASK_DEFAULTS: dict[str, Any] = {"window": 64, "horizon": 1, "centered": False, "channel": 0, "target": "auto",
                                  "hop": None}
_SWEEP_TASK_KEYS = ("window", "horizon", "hop", "centered", "delay")

Path_ = tuple[Any, ...]


# -- locating keys in the text -------------------------------------------------------------------
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'
_KEY_RE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER_RE = re.compile(rf"^\s*(\[\[|\[)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]?\s*(?:#.*)?$")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text))


def _strip_strings(text: str) -> str:
    """The line without string literals and comments (for counting brackets)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', '""', text)
    return text.split("#", 1)[0]


class _Lines:
    """Where each key of a TOML text is: ``(table…, key) → (first line, last line)``; array-of-tables
    elements carry their index (``("methods", 2, "name")``)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.spans: dict[Path_, tuple[int, int]] = {}
        counts: dict[Path_, int] = {}
        table: Path_ = ()
        depth = 0
        current: Path_ | None = None
        multiline: str | None = None
        for no, line in enumerate(self.lines, 1):
            if multiline is not None:
                if line.count(multiline) % 2 == 1:
                    multiline = None
                    self._extend(current, no)
                continue
            if depth > 0:
                depth += self._balance(line)
                self._extend(current, no)
                continue
            header = _HEADER_RE.match(line)
            if header:
                parts = _split_key(header.group(2))
                if header.group(1) == "[[":
                    path = (*self._indexed(parts[:-1], counts), parts[-1])
                    counts[path] = counts.get(path, -1) + 1
                    path = (*path, counts[path])
                else:
                    path = self._indexed(parts, counts)
                table = path
                self.spans.setdefault(table, (no, no))
                continue
            key = _KEY_RE.match(line)
            if key:
                current = (*table, *_split_key(key.group(1)))
                self.spans[current] = (no, no)
                rest = line[key.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        multiline = quote
                depth = self._balance(rest) if multiline is None else 0

    @staticmethod
    def _indexed(path: Path_, counts: dict[Path_, int]) -> Path_:
        out: Path_ = ()
        for part in path:
            out = (*out, part)
            if out in counts:
                out = (*out, counts[out])
        return out

    @staticmethod
    def _balance(text: str) -> int:
        clean = _strip_strings(text)
        return clean.count("[") + clean.count("{") - clean.count("]") - clean.count("}")

    def _extend(self, key: Path_ | None, no: int) -> None:
        if key is not None and key in self.spans:
            self.spans[key] = (self.spans[key][0], no)

    def line(self, path: Path_, needles: Sequence[str] = ()) -> int | None:
        """The line of ``path`` (or of its nearest located parent); ``needles`` narrow a multi-line value."""
        for k in range(len(path), 0, -1):
            span = self.spans.get(path[:k])
            if span is None:
                continue
            for needle in needles:
                for no in range(span[0], span[1] + 1):
                    if needle in self.lines[no - 1]:
                        return no
            return span[0]
        return None


# -- the validated model ---------------------------------------------------------------------------
@dataclass
class SignalSpec:
    """The signal of a study: a generator source with its parameters, or a sigbench HDF5 file."""

    source: str | None = None
    file: Path | None = None
    name: str | None = None
    n: int | None = None
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pipeline:
    """A validated pipeline file (after overrides).

    Attributes
    ----------
    path : Path
        The TOML file, or the result file the pipeline was read back from.
    text : str
        The TOML text exactly as read (stored in the result run).
    overrides : list of str
        ``KEY=VALUE`` overrides applied on top of ``text``.
    base_dir : Path
        A relative input file (``[signal] file``) is resolved against it: the TOML file's folder.
    output_dir : Path
        Relative ``[output]`` paths are resolved against it: the current folder when the pipeline was read,
        or ``--output-dir``; never the TOML file's folder unless asked for.
    methods : list of str or None
        Method specifications (chains included) as the engine takes them; ``None``: the task's defaults.
    protocol : dict
        ``split``, ``train_samples``, ``seeds``, ``seed``, ``mode``, ``reference``, ``transient``,
        ``include_naive``.
    grid : dict
        The sweep grid; empty for a single comparison.
    document : dict
        The parsed document after overrides (what was validated).
    """

    path: Path
    text: str
    overrides: list[str]
    base_dir: Path
    output_dir: Path
    description: str
    signal: SignalSpec
    task: str
    task_options: dict[str, Any]
    methods: list[str] | None
    protocol: dict[str, Any]
    grid: dict[str, list[Any]]
    results: Path | None
    report: Path | None
    report_format: str
    document: dict[str, Any]
    file_name: str = "pipeline.toml"
    from_results: bool = False

    @property
    def sha256(self) -> str:
        """SHA-256 of :attr:`text`."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def record(self) -> dict[str, Any]:
        """What is stored in ``config["pipeline"]`` of the result run."""
        return {"file": self.file_name, "base_dir": str(self.base_dir), "text": self.text, "sha256": self.sha256,
                "overrides": list(self.overrides),
                "effective": self.document}

    def summary(self) -> str:
        """One line: what the study runs."""
        sig = self.signal
        what = (f"source {sig.source} (n={sig.n if sig.n is not None else 'default'}, seed {sig.seed}"
                + "".join(f", {k}={v}" for k, v in sig.params.items()) + ")") if sig.source else f"file {sig.file}"
        methods = "task defaults" if self.methods is None else f"{len(self.methods)} methods"
        grid = ", grid " + " × ".join(f"{k}[{len(v)}]" for k, v in self.grid.items()) if self.grid else ""
        split = (f"train_samples {self.protocol['train_samples']}" if self.protocol["train_samples"] is not None
                 else "split " + "/".join(f"{f:g}" for f in self.protocol["split"]))
        return (f"{what}; task {self.task} (window {self.task_options['window']}); {methods}; {split}, "
                f"{self.protocol['seeds']} seed(s){grid}")


# -- overrides -------------------------------------------------------------------------------------
def _parse_value(text: str) -> Any:
    """A TOML value (``1500``, ``true``, ``["a", "b"]``, ``"x"``), or the bare text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(document: dict[str, Any], item: str) -> Path_:
    """Apply ``KEY=VALUE`` (``KEY`` dotted, list indices allowed: ``methods.0.options.mu``) to ``document``.

    Returns
    -------
    tuple
        The path that was set.

    Raises
    ------
    ConfigError
        No ``=``, an empty key, or a path through a value that is not a table or an array.
    """
    key, sep, value = item.partition("=")
    parts = _split_key(key.strip())
    if not sep or not parts or not key.strip():
        raise ConfigError(f"expected --set KEY=VALUE; received: {item!r}")
    node: Any = document
    path: Path_ = ()
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        step: Any = part
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"--set {item}: expected an index below {len(node)} into "
                                  f"{'.'.join(map(str, path))}; received: {part!r}")
            step = int(part)
        elif not isinstance(node, dict):
            raise ConfigError(f"--set {item}: {'.'.join(map(str, path))} is not a table")
        path = (*path, step)
        if last:
            node[step] = _parse_value(value.strip())
        else:
            if isinstance(node, dict) and step not in node:
                node[step] = {}
            node = node[step]
    return path


# -- validation ------------------------------------------------------------------------------------
class _Checker:
    """Validates a parsed document; every error names the file and line (or the override)."""

    def __init__(self, file_label: str, lines: _Lines, overridden: dict[Path_, str]) -> None:
        self.file_label, self.lines, self.overridden = file_label, lines, overridden

    def where(self, path: Path_, needles: Sequence[str] = ()) -> str:
        for k in range(len(path), 0, -1):
            if path[:k] in self.overridden:
                return f"--set {self.overridden[path[:k]]}"
        no = self.lines.line(path, needles)
        return f"{self.file_label}:{no}" if no is not None else self.file_label

    def fail(self, path: Path_, message: str, needles: Sequence[str] = ()) -> ConfigError:
        return ConfigError(f"{self.where(path, needles)}: {message}")

    @staticmethod
    def _table_name(path: Path_, schema: str) -> str:
        if schema == "":
            return "the top level"
        if schema == "methods[]":
            return f"[[methods]] #{path[1] + 1}" if len(path) > 1 and isinstance(path[1], int) else "[[methods]]"
        if schema == "chain[]":
            return "a chain stage"
        return f"[{'.'.join(map(str, path))}]"

    def table(self, value: Any, path: Path_, schema: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected {'.'.join(map(str, path))} to be a table; received: {value!r}")
        allowed = _SCHEMA[schema]
        for key, item in value.items():
            if key not in allowed:
                raise self.fail((*path, key), f"unknown key {key!r} in {self._table_name(path, schema)}; "
                                              f"expected one of: {', '.join(sorted(allowed))}")
            self.typed(item, (*path, key), allowed[key])
        return value

    def typed(self, value: Any, path: Path_, kind: str) -> None:
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "table": isinstance(value, dict),
            "array": isinstance(value, list),
            "int|str": isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)),
        }[kind]
        if not ok:
            name = ".".join(map(str, path))
            raise self.fail(path, f"expected {name} to be {_TYPE_WORDS[kind]}; received: {path[-1]}={value!r}")

    def at_least(self, value: int | None, path: Path_, minimum: int) -> None:
        if value is not None and value < minimum:
            raise self.fail(path, f"expected {'.'.join(map(str, path))} to be an integer >= {minimum}; "
                                  f"received: {path[-1]}={value!r}")


def _raw(value: Any, what: str) -> str:
    """A TOML value as the option text of a method specification (``units=[32, 8]`` → ``"32,8"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"expected {what} to be finite; received: {value!r}")
        return repr(value)
    if isinstance(value, str):
        if any(c in value for c in ",|:="):
            raise ConfigError(f"expected {what} without ',', '|', ':' or '='; received: {value!r}")
        return value
    if isinstance(value, list) and value and all(not isinstance(v, (list, dict)) for v in value):
        return ",".join(_raw(v, what) for v in value)
    raise ConfigError(f"expected {what} to be a number, a string, a boolean or a non-empty array of them; "
                      f"received: {value!r}")


def _stage_spec(ck: _Checker, entry: Any, path: Path_, schema: str) -> str:
    """One method (or chain stage) as a specification string."""
    if isinstance(entry, str):
        if not entry.strip():
            raise ck.fail(path, "expected a method specification; received: ''")
        return entry.strip()
    table = ck.table(entry, path, schema)
    if "chain" in table:
        if "name" in table or "options" in table:
            raise ck.fail((*path, "chain"), "expected either chain or name/options in a method, not both")
        stages = table["chain"]
        if len(stages) < 2:
            raise ck.fail((*path, "chain"), f"expected a chain of at least two stages; received: {stages!r}")
        specs = [_stage_spec(ck, s, (*path, "chain", i), "chain[]") for i, s in enumerate(stages)]
        for i, spec in enumerate(specs):
            if "|" in spec:
                raise ck.fail((*path, "chain", i), f"expected one stage per chain entry; received: {spec!r}")
        return " | ".join(specs)
    if "name" not in table:
        raise ck.fail(path, "expected a method table with a name (and optional options) or a chain")
    name = table["name"].strip()
    if not name or any(c in name for c in ":|,="):
        raise ck.fail((*path, "name"), f"expected a bare method name (options go in options = {{…}}); "
                                       f"received: name={table['name']!r}")
    options = table.get("options", {})
    if not options:
        return name
    parts = []
    for key, value in options.items():
        try:
            parts.append(f"{key}={_raw(value, f'option {key!r} of method {name!r}')}")
        except ConfigError as exc:
            raise ck.fail((*path, "options", key), str(exc)) from None
    return f"{name}:{','.join(parts)}"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _validate(doc: dict[str, Any], ck: _Checker, base_dir: Path, *, from_results: bool,
              output_dir: Path) -> dict[str, Any]:
    """Check ``doc`` against the schema and the registry; returns the parts of a :class:`Pipeline`."""
    from sigbench.host import get_host
    from sigbench.params import coerce_params
    from sigbench.protocol import Protocol
    from sigbench.run import resolve_methods

    registry = get_host().registry
    ck.table(doc, (), "")

    # [signal] ------------------------------------------------------------------------------------
    if "signal" not in doc:
        raise ck.fail((), "missing [signal]: expected source = \"NAME\" or file = \"PATH\"")
    sd = ck.table(doc["signal"], ("signal",), "signal")
    if ("source" in sd) == ("file" in sd):
        raise ck.fail(("signal",), "expected exactly one of source or file in [signal]")
    signal = SignalSpec(name=sd.get("name"))
    factory: Any = None
    if "source" in sd:
        signal.source = sd["source"]
        try:
            entry = registry.get("sources", sd["source"])
        except SigbenchError as exc:
            raise ck.fail(("signal", "source"), str(exc)) from None
        if entry.info.get("kind") == "loader":
            raise ck.fail(("signal", "source"), f"source {sd['source']!r} imports files; expected a generator "
                                                "(convert the file with `sigbench import` and use file = …)")
        factory = entry.obj
        ck.at_least(sd.get("n"), ("signal", "n"), 1)
        ck.at_least(sd.get("seed"), ("signal", "seed"), 0)
        signal.n, signal.seed = sd.get("n"), int(sd.get("seed", 0))
        for key, value in sd.get("params", {}).items():
            path: Path_ = ("signal", "params", key)
            if key in ("n", "seed"):
                raise ck.fail(path, f"expected {key} in [signal], not in [signal.params]")
            try:
                signal.params.update(coerce_params(factory, {key: _raw(value, f"parameter {key!r}")},
                                                   what=f"parameter of source {sd['source']!r}"))
            except SigbenchError as exc:
                raise ck.fail(path, str(exc)) from None
    else:
        for key in ("n", "seed", "params"):
            if key in sd:
                raise ck.fail(("signal", key), f"expected {key} only with source = …, not with file = …")
        file = Path(sd["file"]).expanduser()
        file = file if file.is_absolute() else base_dir / file
        if not file.is_file():
            raise ck.fail(("signal", "file"), f"expected an existing sigbench HDF5 file; received: file={str(file)!r}")
        signal.file = file

    # [task] ----------------------------------------------------------------------------------------
    td = ck.table(doc.get("task", {}), ("task",), "task")
    task_name = td.get("name", "predict")
    try:
        task_obj = registry.get("tasks", task_name).obj
    except SigbenchError as exc:
        raise ck.fail(("task", "name"), str(exc)) from None
    for key in ("window", "horizon", "hop"):
        ck.at_least(td.get(key), ("task", key), 1)
    ck.at_least(td.get("delay"), ("task", "delay"), 0)
    task_options = {**_TASK_DEFAULTS, **{k: v for k, v in td.items() if k != "name"}}

    # [protocol] ------------------------------------------------------------------------------------
    pd = ck.table(doc.get("protocol", {}), ("protocol",), "protocol")
    if "split" in pd and "train_samples" in pd:
        raise ck.fail(("protocol", "train_samples"), "expected either split or train_samples in [protocol], "
                                                     "not both")
    split = pd.get("split", [0.6, 0.2, 0.2])
    if len(split) != 3 or not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in split):
        raise ck.fail(("protocol", "split"), f"expected split = [train, val, test] fractions; received: {split!r}")
    ck.at_least(pd.get("train_samples"), ("protocol", "train_samples"), 1)
    ck.at_least(pd.get("seeds"), ("protocol", "seeds"), 1)
    ck.at_least(pd.get("seed"), ("protocol", "seed"), 0)
    if pd.get("mode", "prequential") not in ("offline", "prequential"):
        raise ck.fail(("protocol", "mode"), f"expected mode to be offline or prequential; received: "
                                            f"mode={pd['mode']!r}")
    protocol = {"split": tuple(float(f) for f in split), "train_samples": pd.get("train_samples"),
                "seeds": pd.get("seeds", 3), "seed": pd.get("seed", 0), "mode": pd.get("mode", "prequential"),
                "reference": pd.get("reference", str(getattr(task_obj, "reference", "wiener"))),
                "transient": float(pd.get("transient", 0.1)),
                "include_naive": pd.get("include_naive", True)}
    try:
        Protocol(*protocol["split"], train_samples=protocol["train_samples"], mode=protocol["mode"],
                 seeds=protocol["seeds"], seed=protocol["seed"], reference=protocol["reference"],
                 transient=protocol["transient"])
    except SigbenchError as exc:
        raise ck.fail(("protocol",), str(exc)) from None

    # methods ---------------------------------------------------------------------------------------
    methods: list[str] | None = None
    if "methods" in doc:
        entries = doc["methods"]
        if not entries:
            raise ck.fail(("methods",), "expected at least one method (omit methods for the task's defaults)")
        methods = []
        for i, entry in enumerate(entries):
            spec = _stage_spec(ck, entry, ("methods", i), "methods[]")
            needles = (f'"{entry}"', f"'{entry}'") if isinstance(entry, str) else ()
            try:
                resolve_methods([spec], task_obj, "", include_naive=False)
            except SigbenchError as exc:
                where: Path_ = ("methods", i)
                if isinstance(entry, dict):  # the options (or the chain) are the likelier culprit
                    where = (*where, "chain" if "chain" in entry else "options" if "options" in entry else "name")
                raise ck.fail(where, f"method {spec!r}: {exc}", needles) from None
            methods.append(spec)
    try:
        resolved = resolve_methods(methods, task_obj, protocol["reference"], protocol["include_naive"])
    except SigbenchError as exc:
        path = ("protocol", "reference") if "reference" in pd else ("methods",)
        raise ck.fail(path, str(exc)) from None

    # [sweep] ---------------------------------------------------------------------------------------
    sweep = doc.get("sweep", {})
    ck.typed(sweep, ("sweep",), "table")
    grid = _flatten(sweep)
    source_keys = set(inspect.signature(factory).parameters) if factory is not None else set()
    for key, values in grid.items():
        path = ("sweep", key) if ("sweep", key) in ck.lines.spans else ("sweep", *key.split("."))
        if not isinstance(values, list) or not values:
            raise ck.fail(path, f"expected a non-empty array of values for sweep {key!r}; received: {values!r}")
        if any(isinstance(v, (list, dict)) for v in values):
            raise ck.fail(path, f"expected numbers, strings or booleans in sweep {key!r}; received: {values!r}")
        method_name, dot, option = key.partition(".")
        if key in _SWEEP_TASK_KEYS:
            continue
        if key in source_keys and key not in ("n", "seed"):
            for v in values:
                try:
                    coerce_params(factory, {key: _raw(v, f"sweep {key!r}")}, what="parameter of the source")
                except SigbenchError as exc:
                    raise ck.fail(path, str(exc)) from None
            continue
        matches = [m for m in resolved if dot and m.spec.name == method_name and "|" not in m.spec.label]
        if not matches:
            expected = [*sorted(set(_SWEEP_TASK_KEYS) | (source_keys - {"n", "seed"})), "METHOD.OPTION"]
            raise ck.fail(path, f"unknown sweep key {key!r}; expected one of: {', '.join(expected)} "
                                "(METHOD one of the study's methods, not a chain)")
        for v in values:
            try:
                value = coerce_params(matches[0].cls.__init__, {option: _raw(v, f"sweep {key!r}")},
                                      what=f"option of method {method_name!r}")
                matches[0].cls(**{**matches[0].options, **value})  # the constructor validates the value too
            except SigbenchError as exc:
                raise ck.fail(path, str(exc)) from None

    # [output] --------------------------------------------------------------------------------------
    od = ck.table(doc.get("output", {}), ("output",), "output")

    def _out(key: str) -> Path | None:
        if key not in od or from_results:  # a stored pipeline never overwrites the original outputs
            return None
        p = Path(od[key]).expanduser()
        return p if p.is_absolute() else output_dir / p

    report = _out("report")
    report_format = od.get("report_format") or ("md" if report is not None and report.suffix == ".md" else "html")
    if report_format not in ("html", "md"):
        raise ck.fail(("output", "report_format"), f"expected report_format to be html or md; received: "
                                                   f"report_format={report_format!r}")
    return {"description": doc.get("description", ""), "signal": signal, "task": task_name,
            "task_options": task_options, "methods": methods, "protocol": protocol, "grid": grid,
            "results": _out("results"), "report": report, "report_format": report_format}


# -- public API ------------------------------------------------------------------------------------
def parse_pipeline(text: str, *, path: str | os.PathLike[str] = "pipeline.toml", overrides: Sequence[str] = (),
                   base_dir: str | os.PathLike[str] | None = None, from_results: bool = False,
                   output_dir: str | os.PathLike[str] | None = None) -> Pipeline:
    """Validate pipeline ``text`` (with ``overrides``) and return the :class:`Pipeline`.

    Parameters
    ----------
    text : str
        The TOML document.
    path : path-like
        Its file name, used in error messages.
    overrides : sequence of str
        ``KEY=VALUE`` items applied in order before validation.
    base_dir : path-like, optional
        Folder that a relative input file is resolved against (default: ``path``'s folder).
    output_dir : path-like, optional
        Folder that relative ``[output]`` paths are resolved against (default: the current folder).

    Raises
    ------
    ConfigError
        A TOML syntax error (with tomllib's line and column), an unknown key, a wrong type, an unknown
        source, task or method, or a bad option; the message starts with ``FILE:LINE:`` or ``--set ITEM:``.
    """
    path = Path(path)
    label = path.name
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: invalid TOML: {exc}") from None
    overridden: dict[Path_, str] = {}
    for item in overrides:
        overridden[apply_override(doc, item)] = item
    checker = _Checker(label, _Lines(text), overridden)
    base = Path(base_dir) if base_dir is not None else path.resolve().parent
    out_dir = Path(output_dir) if output_dir is not None else Path.cwd()
    parts = _validate(doc, checker, base, from_results=from_results, output_dir=out_dir)
    return Pipeline(path=path, text=text, overrides=list(overrides), base_dir=base, output_dir=out_dir,
                    document=doc, file_name=label, from_results=from_results, **parts)


def load_pipeline(path: str | os.PathLike[str], overrides: Sequence[str] = (), *, run: str | None = None,
                  output_dir: str | os.PathLike[str] | None = None) -> Pipeline:
    """Read and validate a pipeline file — or the pipeline stored in a sigbench result file.

    Parameters
    ----------
    path : path-like
        A TOML pipeline file, or a result file written by :func:`run_pipeline` (the pipeline of run ``run``,
        default the latest, is read back with its overrides; its ``[output]`` section is ignored).
    overrides : sequence of str
        ``KEY=VALUE`` items (applied after the stored ones).
    output_dir : path-like, optional
        Folder for relative ``[output]`` paths (default: the current folder).

    Raises
    ------
    ConfigError
        See :func:`parse_pipeline`; also a result run that was not produced by a pipeline.
    FileFormatError
        An unreadable result file.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read pipeline file {p}: {exc.strerror or exc}") from None
    if raw.startswith(_HDF5_MAGIC):
        from sigbench.results import load_results

        res = load_results(p, run, predictions=False)
        stored = res.config.get("pipeline")
        if not isinstance(stored, dict) or "text" not in stored:
            raise ConfigError(f"{p}: run {res.run_id} was not produced by a pipeline file; expected a run of "
                              "`sigbench pipeline run`")
        pipe = parse_pipeline(stored["text"], path=stored.get("file", "pipeline.toml"),
                              overrides=[*stored.get("overrides", []), *overrides],
                              base_dir=stored.get("base_dir", str(p.resolve().parent)), from_results=True,
                              output_dir=output_dir)
        pipe.path = p
        return pipe
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p.name}: expected a UTF-8 TOML file") from None
    return parse_pipeline(text, path=p, overrides=overrides, output_dir=output_dir)


def run_pipeline(pipeline: Pipeline | str | os.PathLike[str], overrides: Sequence[str] = (), *,
                 output: str | os.PathLike[str] | None = None, report: str | os.PathLike[str] | None = None,
                 run: str | None = None, **engine: Any) -> Results:
    """Run a pipeline: validate it, run the comparison (or sweep), store the pipeline in the run, report.

    Parameters
    ----------
    pipeline : Pipeline or path-like
        A :class:`Pipeline` or a file for :func:`load_pipeline`.
    output, report : path-like, optional
        Override ``[output] results`` / ``report`` (relative to the current folder).
    **engine
        ``resume``, ``workers``, ``timeout``, ``scheduler``: how to run, as in :func:`sigbench.compare`
        (not part of the study: they never change its numbers).

    Returns
    -------
    Results
        With ``config["pipeline"]`` = ``{"file", "base_dir", "text", "sha256", "overrides", "effective"}``.
    """
    import sigbench as sb
    from sigbench.run import compare, sweep

    p = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline, overrides, run=run)
    out = Path(output) if output is not None else p.results
    rep = Path(report) if report is not None else p.report
    proto = dict(p.protocol)
    opts: dict[str, Any] = {
        "seeds": proto["seeds"], "seed": proto["seed"], "split": proto["split"],
        "train_samples": proto["train_samples"], "mode": proto["mode"], "reference": proto["reference"],
        "transient": proto["transient"], "include_naive": proto["include_naive"],
        **{k: v for k, v in p.task_options.items()},
        **{k: v for k, v in engine.items() if k in ("resume", "workers", "timeout", "scheduler")},
    }
    unknown = sorted(set(engine) - {"resume", "workers", "timeout", "scheduler"})
    if unknown:
        raise ConfigError(f"expected resume, workers, timeout or scheduler; received: {unknown[0]}")
    sig = p.signal
    if p.grid:
        if sig.source is not None:
            results = sweep(sig.source, p.grid, p.task, p.methods, source_params={**sig.params, "seed": sig.seed},
                            n=sig.n, output=out, **opts)
        else:
            assert sig.file is not None
            results = sweep(str(sig.file), p.grid, p.task, p.methods, output=out, signal_name=sig.name, **opts)
    else:
        source: Any
        if sig.source is not None:
            generated = sb.generate(sig.source, n=sig.n, seed=sig.seed, **sig.params)
            source = generated.with_(name=sig.name or generated.name or sig.source)
            results = compare(source, p.task, p.methods, output=out, **opts)
        else:
            assert sig.file is not None
            results = compare(sig.file, p.task, p.methods, output=out, signal_name=sig.name, **opts)
    results.config["pipeline"] = p.record()
    if out is not None:  # the engine checkpointed without the pipeline: rewrite the run with it
        results.save(out, base=out)
    if rep is not None:
        from sigbench.report import write_report

        fmt = ("md" if rep.suffix == ".md" else "html") if report is not None else p.report_format
        write_report(results, rep, fmt=fmt)
    return results
