"""Issue 17 item 6: ``python -m sigbench`` and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys

from core.helpers import cli_env


def _python_m(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sigbench", *args], capture_output=True, text=True, timeout=60,
                          env=cli_env(PYTHONPATH=os.environ.get("PYTHONPATH"), **env))


def test_python_dash_m_runs_the_cli() -> None:
    proc = _python_m("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("sigbench ")
    proc = _python_m("info", "--help")
    assert proc.returncode == 0 and "Usage: sigbench info" in proc.stdout
    assert _python_m("no-such-command").returncode == 2


def test_shell_completion_completes_commands_and_options() -> None:
    proc = _python_m(_SIGBENCH_COMPLETE="complete_bash", COMP_WORDS="sigbench comp", COMP_CWORD="1")
    assert proc.returncode == 0 and proc.stdout.split() == ["compare"]
    proc = _python_m(_SIGBENCH_COMPLETE="complete_bash", COMP_WORDS="sigbench compare --see", COMP_CWORD="2")
    assert "--seeds" in proc.stdout.split()
    # the shell named explicitly (typer detects it from the parent process otherwise: `sh` under make)
    script = _python_m("--show-completion", "bash", SHELL="/bin/bash", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert script.returncode == 0 and "_SIGBENCH_COMPLETE" in script.stdout
