# cpts-diag — the two commands of the README:
#   make reports   set everything up (venv, install, open-data snapshot) and produce the Loire reports
#   make test      run the test suite
# `make reports REPORT_OPTS=--pdf` also prints each report to rapport.pdf (needs the `chromium` package).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SNAPSHOT ?= ../shared/opendata
JOBS   ?= 2
REPORT_OPTS ?=

.PHONY: reports setup data test test-unit bench clean-cache

reports: setup
	$(BIN)/cpts-diag report --all --jobs $(JOBS) $(REPORT_OPTS)

setup: $(VENV)/.installed data

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

data: $(VENV)/.installed
	@if [ -d "$(SNAPSHOT)" ]; then $(BIN)/cpts-diag data install --from "$(SNAPSHOT)"; \
	else echo "No snapshot at $(SNAPSHOT): trying the official publishers"; $(BIN)/cpts-diag data fetch; fi
	$(BIN)/cpts-diag data status

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

test-unit: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/unit

bench: setup
	$(BIN)/python bench/load_data.py

clean-cache:
	rm -rf data/.cache
