# cpts-diag — the two commands of the README:
#   make reports   set everything up (venv, install, open-data snapshot) and produce the Loire reports
#   make test      run the test suite (unit tests with no data reachable, then integration tests)
#   make loire     the reports of every EPCI and bassin de vie of the Loire, and their index
#                  (outputs/territoires-loire/, about 40 reports)
# and: make setup (venv + data only), make clean (remove the venv, the installed snapshot, the caches
# and the reports this project wrote; data/cpts/*.yaml and your own files stay).
# A broken .venv (wrong Python, interrupted install, package gone) is detected and rebuilt first
# (tools/check_venv.sh). `make reports REPORT_OPTS=--pdf` also prints each report to rapport.pdf
# (needs the `chromium` package).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SNAPSHOT ?= ../shared/opendata
JOBS   ?= 2
REPORT_OPTS ?=

.PHONY: reports loire setup venv data test test-unit bench clean clean-cache

reports: setup
	$(BIN)/cpts-diag report --all --jobs $(JOBS) $(REPORT_OPTS)

LOIRE_OUT := outputs/territoires-loire
loire: setup
	$(BIN)/cpts-diag report --all-epci --all-bv --in-dep 42 --jobs $(JOBS) --out $(LOIRE_OUT) $(REPORT_OPTS)

setup: venv data

# Check (and if broken remove) the venv, then install it in a sub-make that sees the result.
venv:
	@sh tools/check_venv.sh "$(VENV)"
	@$(MAKE) --no-print-directory "$(VENV)/.installed" GOAL="$(or $(GOAL),$(MAKECMDGOALS),reports)"

# pip: quiet (-qq also drops "Location ... is ignored" warnings of local index configs), no
# version check, no script-location warning; its errors still print.
PIP := PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1 $(BIN)/python -m pip -qq

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Python ≥ 3.11 requis ($(PYTHON) : $$($(PYTHON) -c 'import platform; print("Python " + platform.python_version())' 2>/dev/null || echo introuvable)) : PYTHON=python3.11 make $(or $(GOAL),$(MAKECMDGOALS))" >&2; exit 1; }
	@echo "Installation de l'environnement $(VENV) (quelques minutes la première fois)…"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

data: venv
	@if [ -d "$(SNAPSHOT)" ]; then $(BIN)/cpts-diag data install --from "$(SNAPSHOT)"; \
	else echo "No snapshot at $(SNAPSHOT): trying the official publishers"; $(BIN)/cpts-diag data fetch; fi
	$(BIN)/cpts-diag data status

# Unit tests first, with no snapshot reachable (an empty data root: a unit test that starts reading
# real data fails), then the integration tests on the real snapshot (../shared/opendata or data/),
# then the adversarial suite (hostile inputs over the CLI, the API, perimeters, data, outputs).
test: venv
	CPTS_DIAG_DATA="$(CURDIR)/tests/.no-snapshot" $(BIN)/python -m pytest -q tests/unit
	$(BIN)/python -m pytest -q tests/integration
	$(BIN)/python -m pytest -q tests/adversarial

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

bench: setup
	$(BIN)/python bench/load_data.py

clean-cache:
	rm -rf data/.cache

# What `make setup` and `make reports` wrote, and only that: in outputs/, the files each report
# listed in its manifest and nobody changed since (python -m cpts_diag.outputs --clean: your own
# files in a report folder, or a report file you edited, stay), the index if cpts-diag wrote it,
# unfinished builds and lock files; everything .gitignore ignores in data/ and geo/ (the installed
# snapshot, the cache); the venv. (cpts_diag.outputs needs only the standard library.) Kept: data/cpts/*.yaml, .gitkeep, other outputs.
KNOWN_CPTS := $(basename $(notdir $(wildcard data/cpts/*.yaml)))

clean:
	PYTHONPATH="$(CURDIR)" $(PYTHON) -m cpts_diag.outputs --clean $(addprefix outputs/,$(KNOWN_CPTS)) \
	  $(wildcard $(LOIRE_OUT)/epci-* $(LOIRE_OUT)/bv-*)
	@for d in outputs $(LOIRE_OUT); do if [ -f $$d/index.html ] && grep -q 'name="generator" content="cpts-diag' $$d/index.html; then rm -f $$d/index.html; fi; done
	rm -rf outputs/.build-* outputs/.old-* outputs/.index.html.tmp-* outputs/.lock-* outputs/.cpts-diag-probe-*
	rm -rf $(LOIRE_OUT)/.build-* $(LOIRE_OUT)/.old-* $(LOIRE_OUT)/.index.html.tmp-* $(LOIRE_OUT)/.lock-*
	[ ! -d $(LOIRE_OUT) ] || rmdir $(LOIRE_OUT) 2>/dev/null || true
	rm -rf $(VENV) cpts_diag.egg-info
	[ ! -d data ] || find data -mindepth 1 -maxdepth 1 ! -name cpts ! -name .gitkeep -exec rm -rf {} +
	[ ! -d data/cpts ] || find data/cpts -mindepth 1 -maxdepth 1 ! -name '*.yaml' -exec rm -rf {} +
	[ ! -d geo ] || find geo -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
