# medlofte-analysis: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIGS := evaluations/knivsta-2024-2025.toml evaluations/demo-dalarna.toml

.DEFAULT_GOAL := help
.PHONY: help setup all build validate report test lint format bench lab clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the package with its dependencies

all: setup ## The main job: build data/processed, execute the notebooks, write reports/ (HTML, PDF, citizen page, Excel; = medlofte all)
	$(BIN)/medlofte all

build: setup ## Build data/processed from data/raw
	$(BIN)/medlofte build

validate: setup ## Check raw checksums and the processed schema
	$(BIN)/medlofte validate

report: setup ## Execute the notebooks and write reports/ (HTML, PDF, citizen page, Excel; after build)
	$(BIN)/medlofte report --all

test: setup ## Every test: lint, unit tests, and strict nbval on the committed notebooks
	$(BIN)/ruff check medlofte_analysis tests benchmarks
	$(BIN)/python -m pytest

lint: setup ## ruff check
	$(BIN)/ruff check medlofte_analysis tests benchmarks

format: setup ## ruff format and fix imports
	$(BIN)/ruff check --fix --select I medlofte_analysis tests benchmarks
	$(BIN)/ruff format medlofte_analysis tests benchmarks

bench: setup ## Print the benchmark figures
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_synth.py --quick
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_fuzz.py
	$(BIN)/python benchmarks/bench_evaluate.py --jobs 2

lab: setup ## Open the notebooks in JupyterLab on the project's environment
	$(BIN)/jupyter lab notebooks/

clean: ## Remove the virtual environment
	rm -rf $(VENV)
