"""RELIABILITY 32 (audit half): ``scripts/audit.sh`` — pip-audit with the documented allow-list.

The real audit needs PyPI's vulnerability data (``make audit``/CI); these tests run the script against a fake
``pip-audit`` in a throw-away "venv" so the allow-list handling and the exit codes are checked offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "audit.sh"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="bash script")

_FAKE = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$FAKE_ARGS"
while [[ $# -gt 0 ]]; do
    if [[ "$1" == "--output" ]]; then cp "$FAKE_REPORT" "$2"; fi
    shift
done
exit "$FAKE_STATUS"
"""


def _audit(tmp_path: Path, dependencies: list[dict[str, object]], status: int, ignore: str = "",
           **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    fake = venv / "bin" / "pip-audit"
    fake.write_text(_FAKE)
    fake.chmod(0o755)
    if not (venv / "bin" / "python").exists():
        (venv / "bin" / "python").symlink_to(sys.executable)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    ignore_file = tmp_path / "ignore.txt"
    ignore_file.write_text(ignore)
    full_env = {**os.environ, "VENV": str(venv), "AUDIT_IGNORE": str(ignore_file), "FAKE_REPORT": str(report),
                "FAKE_STATUS": str(status), "FAKE_ARGS": str(tmp_path / "args.txt"), **env}
    res = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=full_env, timeout=60)
    return res, (tmp_path / "args.txt").read_text().splitlines()


_CLEAN = [{"name": "numpy", "version": "2.0.0", "vulns": []},
          {"name": "sigbench", "skip_reason": "distribution marked as editable"}]
_VULN = {"name": "keras", "version": "3.10.0", "vulns": [
    {"id": "GHSA-xxxx-keras", "fix_versions": ["3.11.0"], "aliases": ["CVE-2025-9906"]}]}


def test_clean_environment_passes(tmp_path: Path) -> None:
    res, args = _audit(tmp_path, _CLEAN, 0)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 distributions audited, 0 advisories" in res.stdout
    assert ["--vulnerability-service", "pypi"] == args[args.index("--vulnerability-service"):][:2]
    assert "--skip-editable" in args


def test_an_advisory_fails_and_is_named_with_its_fix(tmp_path: Path) -> None:
    res, _ = _audit(tmp_path, [*_CLEAN, _VULN], 1)
    assert res.returncode == 1
    assert "VULNERABLE keras 3.10.0: GHSA-xxxx-keras (fixed in: 3.11.0)" in res.stdout


def test_allow_list_entries_become_ignore_vuln_flags(tmp_path: Path) -> None:
    ignore = "# comment line\n\nPYSEC-2099-1  # somepkg: no fixed version\n  GHSA-aaaa-bbbb # other: idem\n"
    res, args = _audit(tmp_path, _CLEAN, 0, ignore)
    assert res.returncode == 0
    pairs = [args[i + 1] for i, a in enumerate(args) if a == "--ignore-vuln"]
    assert pairs == ["PYSEC-2099-1", "GHSA-aaaa-bbbb"]


def test_unaudited_distributions_fail_unless_the_service_is_unreachable_and_allowed(tmp_path: Path) -> None:
    unreachable = [{"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited"}]
    res, _ = _audit(tmp_path, unreachable, 0)
    assert res.returncode == 2 and "could not look up: numpy" in res.stderr
    res, _ = _audit(tmp_path, unreachable, 0, AUDIT_ALLOW_UNAUDITED="1")
    assert res.returncode == 0 and "nothing was audited" in res.stderr
    # a gap for one package while others were audited is never waved through
    res, _ = _audit(tmp_path, [*_CLEAN, *unreachable], 0, AUDIT_ALLOW_UNAUDITED="1")
    assert res.returncode == 2


def test_the_project_allow_list_is_documented() -> None:
    ignore = ROOT / "security" / "audit-ignore.txt"
    documented = (ROOT / "docs" / "security.md").read_text()
    assert "scripts/audit.sh" in documented and "security/audit-ignore.txt" in documented
    for line in ignore.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            assert line.split("#", 1)[1].strip(), f"{entry}: no reason given"
            assert entry in documented, f"{entry} is ignored but not listed in docs/security.md"
