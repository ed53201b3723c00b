# Template-root targets. `make bench` is a benchmark, not a test: it writes artifacts/bench/.
PYTHON ?= python3.11
BENCH_VENV := .cache/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench

$(BENCH_STAMP): bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -r bench/requirements.txt
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Load the baked default project and bare baselines; report ratios
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "wrk not installed: using the Python load generator"
	$(BENCH_VENV)/bin/python -m bench
