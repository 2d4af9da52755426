# Everything runs from a local virtualenv that `make` creates on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench compare eventbench scalebench loadtest faultload crashtest outage deploybench clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the service with its dev tools

# `make run PORT=8080`; exec: the server is make's child itself, so Ctrl-C or a SIGTERM to it
# stops it cleanly (exit 0) with no "make: *** ... Error" line.
PORT ?= 8000
run: $(STAMP)  ## serve on 127.0.0.1:$(PORT) (PORT=8000) from the embedded default, demo data ready
	@exec $(BIN)/lumetrix dev --port $(PORT)

test: $(STAMP)  ## the whole suite (installs redis-server, chromium, chromium-driver, nodejs when it can, else stops naming them)
	VENV_PYTHON=$(BIN)/python tools/run_tests.sh $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

loadtest: $(STAMP)  ## locust, headless, against a server it starts (LOADTEST_ARGS="--users 50")
	$(BIN)/python -m loadtests.run_locust $(LOADTEST_ARGS)

faultload: $(STAMP)  ## locust with a Redis restart mid-run, then MongoDB/Redis audit (FAULTLOAD_ARGS="--kill")
	$(BIN)/python -m loadtests.fault_run $(FAULTLOAD_ARGS)

crashtest: $(STAMP)  ## SIGKILL a mark-read at each step 20 times; totals checked against sample_progress
	CRASH_ROUNDS=$${CRASH_ROUNDS:-20} $(BIN)/python -m pytest -q tests/test_crash_safety.py

outage: $(STAMP)  ## kill -9 the embedded database under load; stale reads, recovery time, audit
	$(BIN)/python -m loadtests.outage_run $(OUTAGE_ARGS)

bench: $(STAMP)  ## side-by-side benchmark: ceiling, cached, uncached, mark-read, my-progress
	$(BIN)/python -m loadtests.bench $(BENCH_ARGS)

compare: $(STAMP)  ## this checkout against BASE (a commit) in one run, interleaved: cached page, my-progress, mark-read
	$(BIN)/python -m loadtests.compare --base $${BASE:?set BASE=<commit>} $(COMPARE_ARGS)

eventbench: $(STAMP)  ## progress events: publisher events/s (embedded DB -> REDIS_URL or local DB 14), mark-read cost with vs without the outbox, xAPI statements/s into a local Ralph LRS and the lag while it is away (EVENTBENCH_ARGS="--xapi-only")
	$(BIN)/python -m loadtests.events_bench $(EVENTBENCH_ARGS)

scalebench: $(STAMP)  ## one Redis vs a local 3-master Redis Cluster: cached-page req/s in one run, memory per 100k students
	$(BIN)/python -m loadtests.scale_bench $(SCALEBENCH_ARGS)

deploybench: $(STAMP)  ## a worker start, a worker SIGKILL, Redis restarts (kept, empty) under load: per-second answers and loads (DEPLOYBENCH_ARGS="--students 300", "--cluster")
	$(BIN)/python -m loadtests.deploy_bench $(DEPLOYBENCH_ARGS)

docs: $(STAMP)  ## regenerate docs/API_EXAMPLES.md from the service on demo data (MONGODB_URL or embedded)
	$(BIN)/python -m tools.api_examples

clean:
	rm -rf $(VENV) .lumetrix .lumetrix-bench .lumetrix-load .lumetrix-deploybench .pytest_cache .mypy_cache .ruff_cache
