# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: screenshots install run test test-compose test-fast test-faults lint format clean migration bench bench-quick bench-brokers

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev,local]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/pilotwatch up

# Test files run side by side in TEST_WORKERS processes (pytest-xdist), a file's tests together in one
# process: each process has its own Redis server and every test its own database and ports.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# docker-compose.yml run for real in podman, every image built from Debian's packages (a few minutes;
# the images are kept for the next run). Installs podman, docker-compose and debootstrap when missing.
test-compose: install
	tests/ops/install-engine
	PILOTWATCH_COMPOSE_TEST=1 $(BIN)/python -m pytest -q -s tests/ops/test_compose_stack.py

screenshots: install
	PILOTWATCH_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/e2e/test_browser.py tests/e2e/test_office_browser.py tests/e2e/test_report_form.py tests/e2e/test_sheet_round_trip.py tests/e2e/test_finding_browser.py tests/e2e/test_every_page.py

test-faults: install
	$(BIN)/python -m pytest -q tests/faults

test-fast: install
	$(BIN)/python -m pytest -q -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# A new migration from the models' changes: make migration MESSAGE="units have a kind". Review the
# generated file (data migrations are written by hand) and run the tests on SQLite and PostgreSQL.
migration: install
	@test -n "$(MESSAGE)" || { echo 'say what changed: make migration MESSAGE="..."'; exit 2; }
	rm -f instance/.migration.db
	$(BIN)/python -c "from shared import migrate; u = 'sqlite:///instance/.migration.db'; migrate.upgrade(u); migrate.revision('$(MESSAGE)', u)"
	rm -f instance/.migration.db

# Our stack side by side with bare Flask and Celery (results in bench/results/). Uses wrk when it is
# installed (Debian: apt-get install -y wrk), an asyncio client otherwise; PostgreSQL when one answers
# on 127.0.0.1:5432 (BENCH_ARGS="--postgres-url postgresql://user@host:port/db" to point elsewhere).
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

# Reports per second drained by one and by two evaluation workers, on Redis and on RabbitMQ (the
# RabbitMQ runs need one on 127.0.0.1:5672 and rabbitmqctl for a throwaway vhost; else they are skipped).
bench-brokers: install
	$(BIN)/python -m bench.brokers $(BENCH_ARGS)
