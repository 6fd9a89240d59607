#!/usr/bin/env bash
# Dependency audit (issue 7, RELIABILITY 32): pip-audit over the installed environment.
#
# Fails on any known vulnerability except those allow-listed in security/audit-ignore.txt — one
# `ID  # reason` per line, only for advisories that have no fixed version yet; each one must also be listed
# in docs/security.md (tests/reliability/test_models.py checks that).
#
# pip-audit asks PyPI's JSON API (`/pypi/NAME/VERSION/json`, the `pypi` vulnerability service) about every
# installed distribution. Exit codes:
#   0  every distribution was audited and none has an advisory outside the allow-list
#   1  at least one advisory outside the allow-list (printed, with its fixed versions)
#   2  the audit could not be completed: distributions could not be looked up (no network, or a registry
#      mirror without the per-version JSON API). AUDIT_ALLOW_UNAUDITED=1 turns this into a warning (exit 0)
#      when *no* distribution could be looked up at all, i.e. the service is unreachable, not a package gap.
#
# Usage: scripts/audit.sh [extra pip-audit options]      (VENV=path/to/venv audits another environment)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$root/.venv}"
ignore_file="${AUDIT_IGNORE:-$root/security/audit-ignore.txt}"

args=()
if [[ -f "$ignore_file" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
        id="${line%%#*}"
        id="${id//[[:space:]]/}"
        if [[ -n "$id" ]]; then
            args+=(--ignore-vuln "$id")
        fi
    done < "$ignore_file"
fi

report="$(mktemp "${TMPDIR:-/tmp}/sigbench-audit.XXXXXX.json")"
trap 'rm -f "$report"' EXIT

# --skip-editable: sigbench itself is installed editable and is not a PyPI release to look up.
set +e
"$venv/bin/pip-audit" --vulnerability-service pypi --skip-editable --progress-spinner off \
    --format json --output "$report" "${args[@]}" "$@" 2>/dev/null
status=$?
set -e

"$venv/bin/python" - "$report" "$status" "${AUDIT_ALLOW_UNAUDITED:-0}" <<'PY'
import json
import sys

path, status, allow_unaudited = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    with open(path) as fh:
        doc = json.load(fh)
except (OSError, json.JSONDecodeError):
    print(f"audit: pip-audit produced no report (exit {status})", file=sys.stderr)
    sys.exit(2)
deps = doc.get("dependencies", [])
skipped = [d for d in deps if d.get("skip_reason") and "editable" not in d["skip_reason"]]
audited = [d for d in deps if not d.get("skip_reason")]
found = [(d, v) for d in audited for v in d.get("vulns", [])]
for dep, vuln in found:
    fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
    print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
print(f"audit: {len(audited)} distributions audited, {len(found)} advisories outside the allow-list, "
      f"{len(skipped)} could not be looked up")
if found:
    sys.exit(1)
if skipped:
    names = ", ".join(d["name"] for d in skipped[:8]) + (" …" if len(skipped) > 8 else "")
    print(f"audit: could not look up: {names}", file=sys.stderr)
    if allow_unaudited and not audited:
        print("audit: WARNING: the vulnerability service was unreachable; nothing was audited", file=sys.stderr)
        sys.exit(0)
    sys.exit(2)
sys.exit(0)
PY
