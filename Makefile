# Pathways LMS. Each target bootstraps .venv on its own: a fresh clone needs nothing installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export FLASK_APP := app

.PHONY: run test bench lint translations translations-extract browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d lms/translations

# Re-extract every string from the code (babel.cfg says where, and which keywords) and merge it into each locale's
# catalogue of config.LANGUAGES, creating the missing ones; tests/lms/test_translations.py lists what needs translating.
translations-extract: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -c TRANSLATORS: --add-location=file --project=Pathways \
		--copyright-holder="Pathways contributors" \
		-o lms/translations/messages.pot .
	@for locale in $$($(BIN)/python -c 'from lms.config import Defaults; print(*Defaults.LANGUAGES)'); do \
		$(BIN)/pybabel -q update --init-missing --ignore-obsolete -i lms/translations/messages.pot \
			-d lms/translations -l $$locale; done
	$(BIN)/python tools/sr_latn.py

# Debian's Chromium for the browser tests (Playwright cannot download browsers here), DejaVu fonts for PDFs.
browser-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get install -y -q chromium fonts-dejavu-core >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium fonts-dejavu-core >/dev/null; }; }

run: $(STAMP) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask lms demo
	@echo "Serving on http://127.0.0.1:$(PORT) (scheduler and worker in the same process). Ctrl+C stops."
	LMS_RUN_BACKGROUND=true $(BIN)/flask run --host 127.0.0.1 --port $(PORT) --no-reload

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP) translations browser-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadfile
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL answers: running the suite against it too"; \
		LMS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 --dist loadfile -m "not browser"; \
	else echo "PostgreSQL does not answer at $(PG_TEST_URL): SQLite only"; fi

# Pages under gunicorn driven by wrk (Debian package, installed when missing), audit verify over 1,000,000 events.
# BENCH_SECONDS (per page, default 10), BENCH_AUDIT_EVENTS, BENCH_IMPORT_ROWS, BENCH_POSTGRES_URL: see bench/__init__.py.
bench: $(STAMP) translations
	@command -v wrk >/dev/null || { $(SUDO) apt-get install -y -q wrk >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q wrk >/dev/null; }; }
	$(BIN)/python -m bench
