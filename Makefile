# Two commands set everything up: `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench bench-quick clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	# Dependency groups need pip >= 25.1.
	$(PY) -m pip install --quiet --upgrade 'pip>=25.1'

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[s3,xlsx]' --group dev
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(PY) examples/demo_bot.py

test: $(STAMP)
	bash scripts/install-test-tools.sh
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check perftrack tests benchmarks examples
	$(PY) -m ruff format --check perftrack tests benchmarks examples
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet --group bench
	$(PY) -m benchmarks

bench-quick: $(STAMP)
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
