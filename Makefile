# The README's commands. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever the ranges or the pins change.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock 2>/dev/null | cksum | cut -d' ' -f1)
DEMO := CHORUS_DEMO=1
# The gettext catalogues (`make messages`); their compiled .mo files are committed too, so a
# wheel or a checkout installed any other way speaks every language (tests/project/test_catalogues.py
# checks they match the .po files), and `make install` compiles them again.
CATALOGUES := survey/translations

.PHONY: install lock messages demo test lint format bench loadtest

## install: the exact versions in requirements.lock, each checked against its hashes, then the
## project itself (editable, its dependencies already there); pip check fails if a pin no longer
## meets pyproject.toml's ranges (re-lock with `make lock`)
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	$(BIN)/pybabel -q compile -d $(CATALOGUES)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## lock: re-pin requirements.lock (Python 3.11, Linux x86_64) from pyproject.toml's ranges and its
## test and dev extras, with every file's hash. Pins already in the file are kept; to move them
## to the newest releases the ranges allow, add --upgrade (or --upgrade-package NAME).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --extra test --extra dev \
	  --output-file requirements.lock pyproject.toml

## messages: extract the app's words (survey/, admin/, templates/) into messages.pot and
## merge them into every language's messages.po (new ones empty, changed ones fuzzy), then
## compile the .mo files the app reads. Translate the empty and fuzzy entries, then run it again.
## A new language: $(BIN)/pybabel init -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) -l xx
EXTRACT_KEYWORDS := -k lazy_gettext -k N_
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(EXTRACT_KEYWORDS) --add-location=file \
	  --sort-by-file --project=Chorus --copyright-holder="Chorus contributors" \
	  --msgid-bugs-address="" -o $(CATALOGUES)/messages.pot survey admin templates
	$(BIN)/pybabel -q update --ignore-obsolete -i $(CATALOGUES)/messages.pot -d $(CATALOGUES)
	$(BIN)/pybabel compile --statistics -d $(CATALOGUES)

## demo: migrate SQLite in instance/, load the demo survey and 300 synthetic responses, serve :5000
demo: $(STAMP)
	mkdir -p instance
	$(DEMO) $(BIN)/chorus db upgrade
	$(DEMO) $(BIN)/chorus user demo
	$(DEMO) $(BIN)/chorus demo --slug demo --responses 300 --custodian analyst@demo.chorus
	$(DEMO) $(BIN)/chorus serve --host 127.0.0.1 --port 5000

## test: the whole suite (SQLite unless TEST_DATABASE_URL is set; browser tests skip without Chromium
## unless CHORUS_REQUIRE_BROWSER=1), then branch coverage of survey/ and admin/ (files not
## fully covered, and the total; settings in pyproject.toml's [tool.coverage.*]); `make test COV=`
## runs it without coverage (about a third faster)
COV ?= --cov --cov-report=term
test: $(STAMP)
	$(BIN)/pytest $(COV)

## lint: ruff, then mypy (survey/ strict, admin/ not yet; settings in pyproject.toml's [tool.mypy])
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/flow.py
	$(BIN)/python bench/sdc_bench.py
	$(BIN)/python bench/report.py --n 100000
	$(BIN)/python bench/render.py --pdf
	$(BIN)/python bench/quote_masking.py
	$(BIN)/python bench/themes.py

## loadtest: full respondent flows through nginx + gunicorn + PostgreSQL + Redis of its own
## (started on free ports, stopped and deleted at the end), then every receipt checked against
## the stored responses; FAULTS=1 also kills workers, restarts and stops PostgreSQL, stops
## Redis and trickles slow clients during the run. Needs PostgreSQL's server binaries, redis-server
## and nginx (Debian: postgresql, redis-server, nginx-light). Exits non-zero on any failed check.
DURATION ?= 60
CLIENTS ?= 12
FAULTS ?=
loadtest: $(STAMP)
	$(BIN)/python -m bench.loadtest --duration $(DURATION) --clients $(CLIENTS) \
	  $(if $(filter-out 0,$(FAULTS)),--faults)
