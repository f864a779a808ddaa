# The verbs a newcomer needs. CI runs `make test` through .ci/run.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell md5sum pyproject.toml | cut -c1-12)
SPARK_STAMP := $(VENV)/.spark-$(shell md5sum pyproject.toml | cut -c1-12)
PORT ?= 8501
export UPLIFT_DB ?= data/uplift.duckdb

.PHONY: install install-spark run sample test lint types unit app browser bench bench-rollup soak screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# The Spark extra (pyspark, about 500 MB) for `uplift rollup --engine spark` and the tests that run it;
# `make run` does not need it. The Spark tests also need a Java runtime (.ci/run installs one).
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	rm -f $(VENV)/.spark-* && touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP)

## run: the app on the bundled sample data (loaded once, into an empty database)
run: install
	$(BIN)/uplift sample --if-empty
	$(BIN)/streamlit run app.py --server.port $(PORT)

sample: install
	$(BIN)/uplift sample

## test: lint, types, unit, app and browser tests
test: install-spark lint types unit app browser

lint: install
	$(BIN)/ruff check .

types: install
	$(BIN)/mypy

unit: install-spark
	$(BIN)/python -m pytest -q tests --ignore=tests/app --ignore=tests/browser

app: install
	$(BIN)/python -m pytest -q tests/app

browser: install
	$(BIN)/python -m pytest -q tests/browser

bench: install
	$(BIN)/python -m benchmarks.run

## bench-rollup: raw decisions to rollups on DuckDB and on Spark local[2], at 1M and 20M decisions
bench-rollup: install-spark
	$(BIN)/python -m benchmarks.rollup

soak: install
	$(BIN)/python -m benchmarks.soak

screenshots: install
	$(BIN)/python -m tests.browser.screenshots docs/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
