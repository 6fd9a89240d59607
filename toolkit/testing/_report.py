"""The result of a conformance run: one :class:`CheckResult` per check, gathered in a :class:`ConformanceReport`."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILED", "NOT_SUPPORTED", "PASSED", "SKIPPED", "CheckFailure", "CheckResult", "ConformanceReport"]

#: the check ran and the subject behaved as the contract says
PASSED = "passed"
#: the check ran and found a breach of the contract
FAILED = "failed"
#: the check does not apply (no ``seed`` parameter, not an online processor, not importable by name)
SKIPPED = "skipped"
#: the subject refused the case with a :class:`~sigbench.ValidationError` (e.g. 2-D targets), which is allowed
NOT_SUPPORTED = "not supported"

_STATUSES = (PASSED, FAILED, SKIPPED, NOT_SUPPORTED)


class CheckFailure(AssertionError):
    """Raised inside a check to fail it with a message (the harness catches it)."""


class _Skip(Exception):
    """Raised inside a check to mark it skipped or not supported."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    name : str
        Short check name, e.g. ``"save-load round trip"``.
    status : {"passed", "failed", "skipped", "not supported"}
    message : str
        Why it failed or was skipped; empty when it passed (or a short note).
    duration_s : float
        Wall time of the check in seconds.
    """

    name: str
    status: str
    message: str = ""
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the check failed."""
        return self.status != FAILED

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"name": self.name, "status": self.status, "message": self.message,
                "duration_s": round(self.duration_s, 4)}


@dataclass
class ConformanceReport:
    """All checks run on one subject (a processor class, a source or a metric).

    Attributes
    ----------
    kind : {"processor", "source", "metric"}
    subject : str
        What was checked: a registry name or a qualified class/function name.
    checks : list of CheckResult
        In the order they ran.
    package : str
        The distribution providing the subject, when known.

    Examples
    --------
    >>> from sigbench.testing import ConformanceReport
    >>> report = ConformanceReport("processor", "demo")
    >>> with report.check("always fine"):
    ...     pass
    >>> report.passed, [c.status for c in report.checks]
    (True, ['passed'])
    """

    kind: str
    subject: str
    checks: list[CheckResult] = field(default_factory=list)
    #: the distribution that provides the subject, when known (``sigbench plugins validate`` fills it in)
    package: str = ""

    @property
    def passed(self) -> bool:
        """True when no check failed (skipped and not-supported checks do not fail a report)."""
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        """The failed checks."""
        return [c for c in self.checks if c.status == FAILED]

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def add(self, name: str, status: str, message: str = "", duration_s: float = 0.0) -> CheckResult:
        """Record a result directly (for checks decided without running code)."""
        if status not in _STATUSES:
            raise ValueError(f"expected a status among {_STATUSES}; received: status={status!r}")
        result = CheckResult(name, status, message, duration_s)
        self.checks.append(result)
        return result

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        """Run the body as the check ``name``: an exception fails it, :func:`skip` skips it.

        A :class:`CheckFailure` (or a plain ``AssertionError``) gives its message; any other exception
        gives ``"raised Type: message"`` plus the innermost frame, so the author sees where.
        """
        start = time.perf_counter()
        try:
            yield
        except _Skip as exc:
            self.add(name, exc.status, str(exc), time.perf_counter() - start)
        except AssertionError as exc:
            self.add(name, FAILED, str(exc) or "assertion failed", time.perf_counter() - start)
        except (Exception, SystemExit) as exc:  # a processor calling sys.exit fails its check, not the command
            self.add(name, FAILED, _describe_exception(exc), time.perf_counter() - start)
        else:
            self.add(name, PASSED, "", time.perf_counter() - start)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (``sigbench plugins validate --json``)."""
        return {"kind": self.kind, "subject": self.subject, "package": self.package, "passed": self.passed,
                "checks": [c.as_dict() for c in self.checks]}

    def format(self) -> str:
        """Plain-text report, one line per check."""
        lines = [f"{self.kind} {self.subject}: {'passed' if self.passed else 'FAILED'}"]
        for c in self.checks:
            mark = {PASSED: "ok  ", FAILED: "FAIL", SKIPPED: "skip", NOT_SUPPORTED: "n/s "}[c.status]
            lines.append(f"  [{mark}] {c.name}" + (f": {c.message}" if c.message else ""))
        return "\n".join(lines)

    __str__ = format

    def raise_for_failures(self) -> None:
        """Raise ``AssertionError`` listing every failed check (what strict mode does)."""
        if not self.passed:
            failed = "\n".join(f"  - {c.name}: {c.message}" for c in self.failures)
            raise AssertionError(
                f"{self.kind} {self.subject} failed {len(self.failures)} conformance check(s):\n{failed}\n\n"
                f"{self.format()}"
            )


def skip(message: str) -> None:
    """Inside :meth:`ConformanceReport.check`: mark the check skipped."""
    raise _Skip(SKIPPED, message)


def not_supported(message: str) -> None:
    """Inside :meth:`ConformanceReport.check`: mark the case refused with a ValidationError (allowed)."""
    raise _Skip(NOT_SUPPORTED, message)


def expect(condition: bool, message: str | Callable[[], str]) -> None:
    """Fail the running check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message() if callable(message) else message)


def _describe_exception(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    where = ""
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        frame = tb[-1]
        where = f" (at {frame.filename}:{frame.lineno} in {frame.name})"
    return f"raised {type(exc).__name__}: {text}{where}"
