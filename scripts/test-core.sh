#!/usr/bin/env bash
# The core install (issue 17): `pip install .` without extras, in a fresh venv, has no TensorFlow/Keras;
# the DSP-only tests and a `sigbench compare` of DSP methods must pass in it. Run by `make test-core`
# and by .ci/run. Takes about a minute (the install, ~0.6 GB, comes from pip's cache after the first time).
#
# Usage: scripts/test-core.sh            (CORE_VENV=path picks the venv folder; default .venv-core)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CORE_VENV:-$root/.venv-core}"
python="${PYTHON:-python3}"
start=$SECONDS

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$root"
# the test runner and the DSP tests' own helpers only (no `test` extra: it would not add TensorFlow,
# but the point is to test what `pip install sigbench` gives)
"$venv/bin/python" -m pip install --quiet "pytest>=8" "hypothesis>=6.100" "padasip>=1.2.2"
echo "core venv: $(du -sm "$venv" | cut -f1) MiB"

if "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('tensorflow') or u.find_spec('keras') else 1)"; then
    echo "error: the core install pulled in TensorFlow or Keras" >&2
    exit 1
fi

# the DSP-only tests (tests/core_tests.txt) against the installed package, not the source tree
cd "$root"
mapfile -t tests < <(grep -v '^\s*#' tests/core_tests.txt | grep -v '^\s*$')
"$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not neural and not slow and not browser" "${tests[@]}"

# a DSP comparison through the CLI, and proof that it never imported a neural backend
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/sigbench" generate sines -o "$work/s.h5" --seed 1 >/dev/null 2>&1
"$venv/bin/sigbench" compare "$work/s.h5" -m lms -m nlms -m rls -m fir-bank -o "$work/r.h5" --json > "$work/r.json"
"$venv/bin/python" - "$work/r.h5" <<'PY'
import sys

import sigbench as sb

res = sb.load_results(sys.argv[1])
bad = [r.method for r in res.rows if r.status != "ok"]
assert not bad, f"failed rows in the core install: {bad}"
assert "keras" not in sys.modules and "tensorflow" not in sys.modules
print(f"core compare: {len(res.rows)} rows ok, no TensorFlow/Keras imported")
PY
# a neural method is listed and fails as one line naming the extra
if "$venv/bin/sigbench" compare "$work/s.h5" -m dnn -o "$work/n.h5" --seeds 1 > /dev/null 2> "$work/err.txt"; then
    echo "error: dnn ran without a backend" >&2
    exit 1
fi
grep -q 'sigbench\[tensorflow\]' "$work/err.txt" || { echo "error: the dnn failure does not name the extra" >&2; cat "$work/err.txt" >&2; exit 1; }
echo "core install checks passed in $((SECONDS - start)) s"
