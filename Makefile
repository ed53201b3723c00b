# Template repository: bake a project, run every test of the template and of its bakes.
PYTHON ?= python3.11
# uv never downloads an interpreter. It builds the template's environments with $(PYTHON), set on
# those commands only: exported, it would reach the bakes' hooks, which lock for the answered version.
export UV_PYTHON_DOWNLOADS := never
# Bytecode is written: the tests start hundreds of Python processes (bakes' suites, servers, CLI
# commands); with PYTHONDONTWRITEBYTECODE set (as some images do) each one compiled every module
# it imports from source again, a sixth of a baked suite's CPU.
unexport PYTHONDONTWRITEBYTECODE
UV_VERSION := 0.13.8
# uv from PATH; without one, this pinned uv is put in .cache/uv with pip (a fresh CI machine).
UV := $(or $(shell command -v uv 2>/dev/null),.cache/uv/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# cookiecutter alone, for `make bake`.
BAKE_VENV := .cache/bake-venv
BAKE_STAMP := $(BAKE_VENV)/.installed
OUT ?= build
BENCH_VENV := .cache/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed
# Claude Code, pinned: its offline validator checks the baked .claude/ folders in the tests.
CLAUDE_CODE_VERSION := 2.1.330
CLAUDE_PREFIX := .cache/claude
CLAUDE_STAMP := $(CLAUDE_PREFIX)/.installed-$(CLAUDE_CODE_VERSION)
# Parallel workers for the template tests (each bake runs its own suite).
WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install bake test lint claude bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's|$$(OUT)|$(OUT)|g' \
		| awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.cache/uv/bin/uv:
	@echo "uv is not on PATH: installing uv==$(UV_VERSION) into .cache/uv with pip"
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PYTHON) $(UV) sync --locked --quiet
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with the template's locked tooling (uv.lock, group dev)

$(BAKE_STAMP): pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PYTHON) UV_PROJECT_ENVIRONMENT=$(BAKE_VENV) $(UV) sync --locked --quiet --only-group bake
	@touch $(BAKE_STAMP)

$(CLAUDE_STAMP):
	timeout 300 npm install --prefix $(CLAUDE_PREFIX) --no-audit --no-fund --loglevel=error \
		@anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	@touch $(CLAUDE_STAMP)

claude: $(CLAUDE_STAMP) ## Install the pinned Claude Code into .cache/claude (validates agent files)

# uv on PATH: the bake's hook writes the project's uv.lock with it.
bake: $(BAKE_STAMP) ## Bake the default project into $(OUT)/ (answers: make bake ARGS="database=sqlite")
	PATH="$(abspath $(dir $(UV))):$$PATH" $(BAKE_VENV)/bin/cookiecutter --no-input \
		--overwrite-if-exists --output-dir $(OUT) . $(ARGS)

test: $(STAMP) lint ## Lint the template's code, then bake every variant and run its checks and tests
	@$(MAKE) --no-print-directory claude || echo "Claude Code not installed: its validator checks will be skipped"
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup --verbose $(ARGS)

lint: $(STAMP) ## ruff on hooks/, tests/, bench/, answers_extension.py; mypy --strict on hooks/, tests/ and the extension
	$(BIN)/ruff check hooks tests bench answers_extension.py
	$(BIN)/ruff format --check hooks tests bench answers_extension.py
	$(BIN)/mypy hooks tests answers_extension.py

$(BENCH_STAMP): bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r bench/requirements.txt
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Load the baked default project and bare baselines; report ratios
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "wrk not installed: using the Python load generator"
	$(BENCH_VENV)/bin/python -m bench
