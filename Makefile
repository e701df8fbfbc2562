# Two commands a new user needs: `make run` and `make test`. Everything else is what they call.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve serve-distributed test test-fast browser bench screenshots clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## Start the app on http://127.0.0.1:8050 with the embedded default dataset.
run: $(VENV)/.installed
	$(BIN)/python app.py

## Production-style: gunicorn, as the Procfile does.
serve: $(VENV)/.installed
	$(BIN)/gunicorn app:server --workers 2 --threads 4 --timeout 180 --bind 127.0.0.1:8050

## Shared-nothing locally: redis-server (REDIS_PORT, else a free port), two web processes on PORT and PORT+1
## (8050, 8051) and a Celery worker, sharing only Redis. Ctrl-C stops all.
serve-distributed: $(VENV)/.installed browser
	$(BIN)/python scripts/distributed.py

## Debian packages the tests use: chromium + chromium-driver (browser tests), redis-server (Celery and the
## shared store), postgresql (database sources). The tests start and stop the servers themselves.
DEBIAN_PACKAGES := chromium chromium-driver redis-server postgresql
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v redis-server >/dev/null \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  ( $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(DEBIAN_PACKAGES) )

## The whole suite: unit tests and browser tests in headless chromium.
test: $(VENV)/.installed browser
	$(BIN)/pytest --headless

## Unit tests only (no browser).
test-fast: $(VENV)/.installed
	$(BIN)/pytest -m "not browser"

bench: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

screenshots: $(VENV)/.installed browser
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
