# carecli — everything a newcomer needs on a machine with Python 3.11+ and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test demo bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

## run: open carecli on the embedded demo store (built on first start)
run: $(STAMP)
	$(BIN)/carecli

## test: the whole suite (stress suites at reduced size unless CARECLI_STRESS_SCALE is set), in JOBS
## workers: one and a half per core by default (a Pilot test spends much of its time sleeping while it
## waits for the app to go idle; a worker per core leaves the core idle then)
JOBS ?= $(shell $(PY) -c "import os; n = os.cpu_count() or 1; print(n + (n + 1) // 2)")
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS)

## demo: (re)build the demo store; ORDERS=1000000 for the full-size one
demo: $(STAMP)
	$(BIN)/carecli demo --orders $(or $(ORDERS),10000)

## bench: every benchmark, printing each figure next to its floor
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
