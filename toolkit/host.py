"""The plugin host: one pluggy ``PluginManager`` and the registry built from its hooks.

(The module is ``sigbench.host`` rather than ``sigbench.plugins`` because ``sigbench.plugins`` is the
package of built-in processors, per the layout in DESIGN.md.)

Loading rules
-------------
* Built-in modules in :data:`DEFAULT_PLUGINS` register through the same hooks as third parties.
* Entry points of group ``sigbench`` load **one at a time**, each inside ``try``: a plugin that fails to
  import, has a hookimpl with a bad signature or a misspelled hook name, or raises inside a
  ``register_*`` hook is recorded in :attr:`Registry.broken` with its package and error, its partial
  registrations are rolled back, and every other plugin keeps working.
* ``SIGBENCH_LOAD_PLUGINS=a,b`` loads only the entry points (or distributions) named; an empty value
  loads none. ``SIGBENCH_STRICT_PLUGINS=1`` re-raises the first failure (for plugin developers).
  ``SIGBENCH_TRACE_PLUGINS=1`` prints every hook call to stderr.
* Under tests (``sys._called_from_test``) entry points are never autoloaded.
* Names are unique per kind. A second registration of a taken name is refused; the name is marked
  ambiguous and asking for it raises :class:`~sigbench.errors.PluginError` naming both origins.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from sigbench import hookspecs
from sigbench.errors import PluginError, UnknownNameError, ValidationError

__all__ = [
    "DEFAULT_PLUGINS",
    "BrokenPlugin",
    "Entry",
    "Host",
    "Registry",
    "get_host",
    "reset_host",
]

#: built-in plugin modules, registered exactly like third-party plugins
DEFAULT_PLUGINS: tuple[str, ...] = (
    "sigbench.datasets.synthetic",
    "sigbench.datasets.systems",
    "sigbench.datasets.importers",
    "sigbench.datasets.comms",
    "sigbench.plugins.dsp.naive",
    "sigbench.plugins.dsp.wiener",
    "sigbench.plugins.dsp.lms",
    "sigbench.plugins.dsp.nlms",
    "sigbench.plugins.dsp.rls",
    "sigbench.plugins.dsp.fir",
    "sigbench.plugins.dsp.fir_bank",
    "sigbench.plugins.dsp.fft",
    "sigbench.plugins.dsp.equalise",
    "sigbench.plugins.dsp.detect",
    "sigbench.plugins.dsp.known_fir",
    "sigbench.plugins.dsp.sines_ml",
    "sigbench.plugins.dsp.ar_kalman",
    "sigbench.plugins.neural.dnn",
    "sigbench.plugins.neural.cnn",
    "sigbench.plugins.neural.lstm",
    "sigbench.plugins.neural.cnn_lstm",
    "sigbench.plugins.neural.rnn",
    "sigbench.tasks",
    "sigbench.tasks_comms",
    "sigbench.metrics",
    "sigbench.metrics_comms",
)

KINDS = ("sources", "processors", "tasks", "metrics")


@dataclass(frozen=True)
class Entry:
    """One registered thing: its name, the object, and where it came from."""

    kind: str
    name: str
    obj: Any
    origin: str
    package: str
    version: str
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description (used by ``sigbench plugins --json``)."""
        info = {k: v for k, v in self.info.items() if k != "accumulator"}
        if self.kind == "metrics":
            info["blockwise"] = self.info.get("accumulator") is not None
        return {"name": self.name, "origin": self.origin, "package": self.package, "version": self.version, **info}


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to load or register: where it came from and the error."""

    name: str
    package: str
    error: str
    stage: str

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly description."""
        return {"name": self.name, "package": self.package, "error": self.error, "stage": self.stage}


@dataclass
class Registry:
    """Everything the plugins registered, by kind and name."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {k: {} for k in KINDS})
    broken: list[BrokenPlugin] = field(default_factory=list)
    ambiguous: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Entry:
        """The entry of ``kind`` named ``name``; errors name the alternatives or the clash."""
        if (kind, name) in self.ambiguous:
            origins = " and ".join(self.ambiguous[(kind, name)])
            raise PluginError(f"{kind[:-1]} {name!r} is registered by both {origins}; uninstall one of them")
        try:
            return self.entries[kind][name]
        except KeyError:
            for broken in self.broken:
                if name == broken.name or name.startswith(broken.name + "-"):
                    raise PluginError(
                        f"{kind[:-1]} {name!r} is not available: plugin {broken.name} ({broken.package}) "
                        f"failed to load: {broken.error}"
                    ) from None
            known = ", ".join(sorted(self.entries[kind])) or "none"
            import difflib

            close = difflib.get_close_matches(name, list(self.entries[kind]), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            if self.broken:  # it may well be what a plugin that failed to load would have provided
                failed = "; ".join(f"{b.name} ({b.package}): {b.error}" for b in self.broken)
                raise PluginError(f"{kind[:-1]} {name!r} is not available; {hint}plugins that failed to load "
                                  f"might provide it: {failed} (known: {known})") from None
            raise UnknownNameError(f"unknown {kind[:-1]} {name!r}; {hint}known: {known}") from None

    def names(self, kind: str) -> list[str]:
        """Sorted names registered under ``kind``."""
        return sorted(self.entries[kind])


def exception_line(exc: BaseException) -> str:
    """``Type: message`` on one line (pluggy puts the reason of a validation error on later lines)."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _dist_of(module: ModuleType | None, fallback: str) -> tuple[str, str]:
    from sigbench import __version__

    modname = getattr(module, "__name__", "") or ""
    if modname.startswith("sigbench."):
        return "sigbench", __version__
    return fallback, "unknown"


class Host:
    """A plugin manager plus the registry built from it.

    Parameters
    ----------
    load_entrypoints : bool, optional
        Autoload installed entry points. Default: yes, except under tests.
    builtins : iterable of str, optional
        Built-in module names (default :data:`DEFAULT_PLUGINS`).
    """

    def __init__(self, *, load_entrypoints: bool | None = None, builtins: Iterable[str] | None = None) -> None:
        self.pm = pluggy.PluginManager("sigbench")
        self.pm.add_hookspecs(hookspecs)
        if os.environ.get("SIGBENCH_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: print(msg, end="", file=sys.stderr))
            self.pm.enable_tracing()
        if load_entrypoints is None:
            load_entrypoints = not getattr(sys, "_called_from_test", False)
        self._load_entrypoints = load_entrypoints
        self._builtins = tuple(DEFAULT_PLUGINS if builtins is None else builtins)
        self._packages: dict[str, tuple[str, str]] = {}
        self._loaded = False
        self._entrypoints_loaded = False
        self._registry: Registry | None = None
        self.broken: list[BrokenPlugin] = []

    @property
    def strict(self) -> bool:
        """``SIGBENCH_STRICT_PLUGINS=1``: re-raise plugin failures."""
        return os.environ.get("SIGBENCH_STRICT_PLUGINS", "") not in ("", "0")

    # -- loading -----------------------------------------------------------------------------
    def load_plugins(self) -> None:
        """Register built-ins and (unless disabled) entry points; idempotent."""
        if self._loaded:
            return
        self._loaded = True
        for modname in self._builtins:
            module = importlib.import_module(modname)
            self._register_plugin(module, modname, ("sigbench", _dist_of(module, "sigbench")[1]))
        self.load_entry_points()

    def load_entry_points(self) -> None:
        """Register the installed entry points only (unless disabled); idempotent.

        The command line calls this to let third-party plugins add commands (no built-in does), so
        that ``sigbench --help`` imports no built-in plugin module (and with them NumPy); the
        built-ins register on first use of :attr:`registry`, and the registry still sees them first.
        """
        if self._entrypoints_loaded:
            return
        self._entrypoints_loaded = True
        if self._load_entrypoints:
            self._registry = None
            self._load_entry_points()

    def _allowlist(self) -> set[str] | None:
        raw = os.environ.get("SIGBENCH_LOAD_PLUGINS")
        if raw is None:
            return None
        return {part.strip() for part in raw.split(",") if part.strip()}

    def _load_entry_points(self) -> None:
        allow = self._allowlist()
        for ep in metadata.entry_points(group="sigbench"):
            dist = getattr(ep, "dist", None)
            package = dist.name if dist is not None else ep.value.split(":")[0].split(".")[0]
            version = dist.version if dist is not None else "unknown"
            if allow is not None and ep.name not in allow and package not in allow:
                continue
            self.load_entry_point(ep.name, ep.load, package, version)

    def load_entry_point(self, name: str, loader: Callable[[], Any], package: str, version: str) -> bool:
        """Import one plugin with ``loader()`` and register it; record a failure instead of raising."""
        if self.pm.has_plugin(name):
            return True
        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout is for --json; a plugin's prints go to stderr
                plugin = loader()
        except (Exception, SystemExit) as exc:  # SystemExit: a module-level sys.exit() or argparse
            self._fail(name, package, _as_exception(exc, "importing it"), "import")
            return False
        return self._register_plugin(plugin, name, (package, version))

    def register(self, plugin: Any, name: str | None = None, *, package: str = "registered in code",
                 version: str = "unknown") -> bool:
        """Register a plugin object (module or class instance) at run time; True if it loaded cleanly."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        ok = self._register_plugin(plugin, name, (package, version))
        self._registry = None
        return ok

    def unregister(self, name: str) -> None:
        """Remove a plugin registered under ``name`` (tests do this in ``finally``)."""
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self.broken = [b for b in self.broken if b.name != name]
        self._registry = None

    def package_of(self, name: str) -> str:
        """The distribution that provided the plugin registered as ``name`` (``"unknown"`` if not known)."""
        return self._packages.get(name, ("unknown", "unknown"))[0]

    def _register_plugin(self, plugin: Any, name: str, dist: tuple[str, str]) -> bool:
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            # pluggy has already added the hookimpls it verified before the bad one (see the XXX in
            # PluginManager.register): roll the partial registration back
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(name, dist[0], exc, "register")
            return False
        except ValueError as exc:  # the plugin name (or the object) is already registered: keep the first
            self._fail(name, dist[0], exc, "register")
            return False
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            self._fail(name, dist[0], exc, "register")
            return False
        self._packages[name] = dist
        return True

    def _fail(self, name: str, package: str, exc: BaseException, stage: str) -> None:
        if self.strict:
            raise exc
        self.broken.append(BrokenPlugin(name=name, package=package, error=exception_line(exc), stage=stage))
        if os.environ.get("SIGBENCH_DEBUG"):
            traceback.print_exception(exc, file=sys.stderr)

    # -- registry ----------------------------------------------------------------------------
    @property
    def registry(self) -> Registry:
        """The registry, built on first use from every plugin's ``register_*`` hooks."""
        if self._registry is None:
            self.load_plugins()
            self._registry = self._build_registry()
        return self._registry

    def _build_registry(self) -> Registry:
        registry = Registry(broken=list(self.broken))
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"register_{kind}")
            # get_hookimpls() is in registration order (pluggy *calls* them last-registered first), so a
            # name clash names the plugin that registered first, first; built-ins count as registered
            # first even when the command line loaded the entry points before them
            for impl in self._builtins_first(caller.get_hookimpls()):
                origin = impl.plugin_name
                package, version = self._packages.get(origin, ("unknown", "unknown"))
                pending: list[Entry] = []
                collect = _Collector(kind, origin, package, version, pending)
                try:
                    impl.function(register=collect)
                except (Exception, SystemExit) as exc:
                    if self.strict:
                        raise
                    line = exception_line(_as_exception(exc, "registering"))
                    registry.broken.append(BrokenPlugin(origin, package, line, f"register_{kind}"))
                    continue  # roll back this plugin's registrations of this kind
                for entry in pending:
                    table = registry.entries[kind]
                    clash = table.get(entry.name)
                    key = (kind, entry.name)
                    if clash is not None or key in registry.ambiguous:
                        first = [f"{clash.origin} ({clash.package})"] if clash else []
                        origins = registry.ambiguous.setdefault(key, first)
                        origins.append(f"{entry.origin} ({entry.package})")
                        table.pop(entry.name, None)
                        msg = f"{kind[:-1]} name {entry.name!r} registered by both " + " and ".join(origins)
                        if self.strict:
                            raise PluginError(msg)
                        registry.broken.append(BrokenPlugin(origin, package, msg, "name clash"))
                        continue
                    table[entry.name] = entry
        return registry

    def _builtins_first(self, impls: list[Any]) -> list[Any]:
        """``impls`` with the built-in plugins' in :data:`DEFAULT_PLUGINS` order first (a stable sort)."""
        rank = {name: i for i, name in enumerate(self._builtins)}
        return sorted(impls, key=lambda impl: rank.get(impl.plugin_name, len(rank)))

    def call_observers(self, hook: str, **kwargs: Any) -> list[str]:
        """Call an ``on_*`` observer hook on every plugin; a raising observer is reported, never fatal."""
        problems: list[str] = []
        caller = getattr(self.pm.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
            except Exception as exc:
                if self.strict:
                    raise
                problems.append(f"observer {impl.plugin_name}.{hook} raised {type(exc).__name__}: {exc}")
        return problems


def _as_exception(exc: BaseException, doing: str) -> BaseException:
    """``exc``, or for ``SystemExit`` an exception whose message says what happened (its ``str`` is only the
    exit code)."""
    if isinstance(exc, SystemExit):
        err = PluginError(f"called sys.exit({exc.code!r}) while {doing} (a module-level argparse or sys.exit?)")
        err.__cause__ = exc
        return err
    return exc


class _Collector:
    """The ``register`` callable handed to one plugin's ``register_<kind>`` hook."""

    def __init__(self, kind: str, origin: str, package: str, version: str, pending: list[Entry]) -> None:
        self.kind, self.origin, self.package, self.version, self.pending = kind, origin, package, version, pending

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.kind == "processors":
            (cls,) = args
            name = getattr(cls, "name", "")
            info = {
                "family": getattr(cls, "family", "?"),
                "online": bool(getattr(cls, "online", False)),
                "causal": bool(getattr(cls, "causal", True)),
                "deterministic": bool(getattr(cls, "deterministic", True)),
                "requires": list(getattr(cls, "requires", ())),
                "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            }
            obj = cls
        elif self.kind == "tasks":
            (obj,) = args
            name = getattr(obj, "name", "")
            info = {"description": getattr(obj, "description", ""), "metrics": list(getattr(obj, "metrics", ()))}
        elif self.kind == "sources":
            name, obj = args[0], args[1]
            info = {"kind": kwargs.get("kind", "generator"), "description": kwargs.get("description", ""),
                    "oracle": kwargs.get("oracle")}
        else:  # metrics
            name, obj = args[0], args[1]
            info = {"higher_is_better": bool(kwargs.get("higher_is_better", False)),
                    "description": kwargs.get("description", ""), "unit": kwargs.get("unit", ""),
                    "accumulator": kwargs.get("accumulator")}
        if not isinstance(name, str) or not name:
            raise ValidationError(f"expected a non-empty {self.kind[:-1]} name; received: name={name!r}")
        for existing in self.pending:
            if existing.name == name:
                raise PluginError(f"{self.origin} registers {self.kind[:-1]} {name!r} twice")
        self.pending.append(Entry(self.kind, name, obj, self.origin, self.package, self.version, info))


_HOST: Host | None = None


def get_host() -> Host:
    """The process-wide host (created and loaded on first use)."""
    global _HOST
    if _HOST is None:
        _HOST = Host()
    return _HOST


def reset_host(host: Host | None = None) -> Host:
    """Replace the process-wide host (tests use a fresh one); returns the new host."""
    global _HOST
    _HOST = host if host is not None else Host()
    return _HOST
