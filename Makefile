# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-citus lint install translations browser db demo bench bench-smoke clean

$(BIN)/flask: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The translations (service/translations/<lang>/LC_MESSAGES/*.po) compiled for Flask-Babel; the
# .mo files are built here, never committed.
MO := $(patsubst %.po,%.mo,$(wildcard service/translations/*/LC_MESSAGES/*.po))
%.mo: %.po $(BIN)/flask
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Gather the English messages of the code into the catalogs (then translate what is new in id/).
translations: install
	$(BIN)/pybabel extract -F service/translations/babel-messages.cfg -k _l -k N_ --no-location -o service/translations/messages.pot .
	$(BIN)/pybabel extract -F service/translations/babel-pages.cfg -k _l --no-location -o service/translations/pages.pot .
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations -D messages --no-fuzzy-matching
	$(BIN)/pybabel update -i service/translations/pages.pot -d service/translations -D pages --no-fuzzy-matching

install: $(BIN)/flask $(MO)

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load --if-empty

# The web server and the job runner together; stopping one (Ctrl-C) stops both. Rate limits are
# counted in the local Redis when it answers (as several web processes would share them).
REDIS_URL ?= redis://127.0.0.1:6379
run: demo
	@if [ -z "$$RANTANG_RATELIMIT_STORAGE_URI" ] && $(BIN)/python -c "import redis, sys; redis.Redis.from_url('$(REDIS_URL)', socket_timeout=0.5).ping()" 2>/dev/null; then \
	  export RANTANG_RATELIMIT_STORAGE_URI=$(REDIS_URL); echo "rate limits counted in $(REDIS_URL)"; \
	else echo "rate limits counted in this process (no Redis at $(REDIS_URL))"; fi; \
	echo "Pages (sign in with a demo login): http://$(HOST):$(PORT)/"; \
	echo "API documentation: http://$(HOST):$(PORT)/api/v1/docs"; \
	$(FLASK) scheduler run & runner=$$!; \
	trap 'kill $$runner 2>/dev/null; wait $$runner 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# The browser tests' tools: Debian's Chromium (installed when missing, as root; Playwright's own
# browser download cannot work here) and axe-core from the npm registry (tests/js, pinned).
AXE := tests/js/node_modules/axe-core/axe.min.js
$(AXE): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

browser: $(AXE)
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The whole suite on a Citus cluster: coordinator 127.0.0.1:5601, workers 5602 and 5603, as
# ../shared/tools/citus-cluster.sh starts them (CI cannot build Citus). The suite's database is made
# anew on every node, with the extension, and the workers joined to it.
CITUS_DB ?= rantang_test
CITUS_NODES ?= 5601 5602 5603
# Shards of each distributed table: few, as the tests check routing, not spread (32 in production).
CITUS_SHARDS ?= 4
test-citus: install browser
	@for port in $(CITUS_NODES); do \
	  psql -h 127.0.0.1 -p $$port -U postgres -qtA -c "DROP DATABASE IF EXISTS $(CITUS_DB) WITH (FORCE)" \
	    -c "CREATE DATABASE $(CITUS_DB)" >/dev/null && \
	  psql -h 127.0.0.1 -p $$port -U postgres -d $(CITUS_DB) -qtA -c "CREATE EXTENSION citus" >/dev/null || exit 1; \
	done
	@psql -h 127.0.0.1 -p $(firstword $(CITUS_NODES)) -U postgres -d $(CITUS_DB) -qtA \
	  -c "ALTER DATABASE $(CITUS_DB) SET citus.shard_count = $(CITUS_SHARDS)" \
	  -c "SELECT citus_set_coordinator_host('127.0.0.1', $(firstword $(CITUS_NODES)))" \
	  $(foreach port,$(wordlist 2,9,$(CITUS_NODES)),-c "SELECT citus_add_node('127.0.0.1', $(port))") >/dev/null
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$(firstword $(CITUS_NODES))/$(CITUS_DB) \
	  $(BIN)/pytest $(PYTEST_ARGS)

# The rules are in pyproject.toml ([tool.ruff]); CI runs this before the tests.
lint: install
	$(BIN)/ruff check .

# The benchmarks at the sizes of the README's figures (PostgreSQL database rantang_bench: BENCH_PG_DB).
bench: install
	$(BIN)/python bench/import_recipients.py
	$(BIN)/python bench/api_latency.py
	$(BIN)/python bench/assignment.py
	$(BIN)/python bench/schedule.py
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/confirm_load.py
	$(BIN)/python bench/opportunities.py
	$(BIN)/python bench/targets.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/signin_timing.py
	$(BIN)/python bench/province.py

# Every benchmark at a small size: does each still run and print its figures? (about 70 s;
# database rantang_bench_smoke unless BENCH_PG_DB says otherwise). CI runs it after the tests.
bench-smoke: install
	$(BIN)/python bench/smoke.py

clean:
	rm -rf $(VENV) instance .pytest_cache .coverage *.egg-info
