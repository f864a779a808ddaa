# The verbs a newcomer needs. CI runs `make test` through .ci/run.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell md5sum pyproject.toml | cut -c1-12)
SPARK_STAMP := $(VENV)/.spark-$(shell md5sum pyproject.toml | cut -c1-12)
PORT ?= 8501
export UPLIFT_DB ?= data/uplift.duckdb

.PHONY: install install-spark run sample test lint types unit app browser bench bench-rollup validate load profile soak screenshots look clean

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

## validate: training-effect headline bias and coverage by simulation (benchmarks/validation.md)
validate: install
	$(BIN)/python -m benchmarks.validate_effects

## load: websocket sessions against a real server, timed server-side; writes benchmarks/load_results.md
load: install
	$(BIN)/python -m benchmarks.load --sessions 1,4,8,16
	$(BIN)/python -m benchmarks.load --store 1m --sessions 8 --append

## profile: where each page's run time goes (sampled in a real server); writes benchmarks/page_profile.md
profile: install
	$(BIN)/python -m benchmarks.page_profile
	$(BIN)/python -m benchmarks.page_profile --store 1m --append

## bench-rollup: raw decisions to rollups on DuckDB and on Spark local[2], at 1M and 20M decisions
bench-rollup: install-spark
	$(BIN)/python -m benchmarks.rollup

soak: install
	$(BIN)/python -m benchmarks.soak

screenshots: install
	$(BIN)/python -m tests.browser.screenshots docs/screenshots

## look: every page at 1400 px, normal and presenting, in test-artifacts/look/ (to check by eye)
look: install
	$(BIN)/python -m tests.browser.screenshots look test-artifacts/look

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
