# The README's commands. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO := CHORUS_DEMO=1

.PHONY: install demo test lint format bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## demo: migrate SQLite in instance/, load the demo survey and 300 synthetic responses, serve :5000
demo: $(STAMP)
	mkdir -p instance
	$(DEMO) $(BIN)/chorus db upgrade
	$(DEMO) $(BIN)/chorus user demo
	$(DEMO) $(BIN)/chorus demo --slug demo --responses 300 --custodian analyst@demo.chorus
	$(DEMO) $(BIN)/chorus serve --host 127.0.0.1 --port 5000

## test: the whole suite (SQLite unless TEST_DATABASE_URL is set; browser tests skip without Chromium
## unless CHORUS_REQUIRE_BROWSER=1), then branch coverage of survey/ and admin/ (files not
## fully covered, and the total; settings in pyproject.toml's [tool.coverage.*])
test: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/sdc_bench.py
	$(BIN)/python bench/report.py --n 100000
	$(BIN)/python bench/render.py --pdf
