# sigbench — the two commands in README.md work on a fresh machine with Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED ?= 0
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: demo test test-slow test-core lint typecheck docs audit bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[tensorflow,test,dask,docs]"
	@touch $(STAMP)

install: $(STAMP)

## Run the founding experiment on the built-in default signal; writes demo.h5 and demo-report.html
demo: $(STAMP)
	$(BIN)/sigbench demo

## Lint, type-check, run the test suite (what CI runs)
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q -m "not slow and not browser"

## The core install (`pip install .`, no TensorFlow/Keras) in a fresh venv: DSP-only tests and a compare
test-core:
	scripts/test-core.sh

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or browser"

lint: $(STAMP)
	$(BIN)/ruff check toolkit plugins datasets tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

## Dependency audit (pip-audit; advisories without a fix may be listed in security/audit-ignore.txt)
audit: $(STAMP)
	scripts/audit.sh

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict --quiet

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_adaptive.py
	$(BIN)/python benchmarks/bench_neural.py

clean:
	rm -rf $(VENV) .venv-core build *.egg-info .pytest_cache .mypy_cache .ruff_cache demo.h5 demo-report.html site
