# Two commands for a newcomer on a fresh Debian machine with Python >= 3.11:
#   make demo   set everything up, then run the main job on the built-in default
#   make test   set everything up, then lint, type-check, check layering, run the tests
# Both are idempotent: the second run only re-installs when pyproject.toml changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.l1sim-installed
APT_PACKAGES := iverilog yosys ghdl
DEMO_OUT ?= demo-output
PYTEST_ARGS ?=

.PHONY: all setup system-packages demo test lint typecheck layers pytest bench clean

all: test

setup: system-packages $(STAMP)

# HDL tools come from Debian: installed with apt when missing and running as root,
# otherwise a warning says what to install (the simulator tests then skip).
system-packages:
	@missing=""; \
	for tool in $(APT_PACKAGES); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "warning: missing$$missing; install them with: sudo apt-get install$$missing" >&2; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "l1sim needs Python >= 3.11, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/l1sim demo --out $(DEMO_OUT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

layers: setup
	$(BIN)/lint-imports

pytest: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck layers pytest

bench: setup
	$(BIN)/python benchmarks/fixed_point.py
	$(BIN)/python benchmarks/nn.py
	$(BIN)/python benchmarks/streams.py
	$(BIN)/python benchmarks/replay.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
