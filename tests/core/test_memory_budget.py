"""Issue 17 item 5: the memory budget comes from psutil when it is installed (every platform)."""

from __future__ import annotations

import sys
import types

import pytest

from sigbench.h5safe import memory_budget_bytes


def test_budget_is_half_of_what_psutil_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGBENCH_MEMORY_BUDGET", raising=False)
    fake = types.SimpleNamespace(virtual_memory=lambda: types.SimpleNamespace(available=6 * 2**30))
    monkeypatch.setitem(sys.modules, "psutil", fake)
    assert memory_budget_bytes() == 3 * 2**30


def test_without_psutil_linux_meminfo_or_the_fixed_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGBENCH_MEMORY_BUDGET", raising=False)
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil raises ImportError
    budget = memory_budget_bytes()
    if sys.platform == "linux":
        with open("/proc/meminfo") as fh:
            avail = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
        assert abs(budget - avail // 2) < 256 * 2**20  # memory moves a little between the two reads
    else:
        assert budget == 4 * 2**30


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGBENCH_MEMORY_BUDGET", "300M")
    assert memory_budget_bytes() == 300 * 2**20
