# `make chat` talks to the bot in the terminal, `make run` starts it, `make test` runs every
# check. Each creates the virtual environment itself; only Python 3.11+ is needed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYBABEL := PYTHONPATH=. $(BIN)/pybabel
# Compiled bytecode goes to a temporary folder, not into the checkout (the tests start many
# processes; none of them, nor the bot, leaves __pycache__ folders behind).
export PYTHONPYCACHEPREFIX ?= $(or $(TMPDIR),/tmp)/feedbackbot-pycache

.PHONY: install catalogs chat run test lint check-flows extract-messages clean bench reliability

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogs

catalogs: $(STAMP)
	$(PYBABEL) compile --domain messages --directory locales --use-fuzzy --statistics

# No token, no network: the real bot against a Bot API stand-in; e.g. make chat ARGS="--lang en"
chat: install
	$(BIN)/feedbackbot chat $(ARGS)

run: install
	$(BIN)/feedbackbot run

test: install lint
	$(BIN)/python -m pytest

# Benchmarks, each against a baseline in the same run (about twelve minutes; JSON into .benchmarks/).
# A smoke run, or a selection: make bench ARGS="--quick"   make bench ARGS="rights e2e"
bench: install
	$(BIN)/python -m benchmarks $(ARGS)

# The whole reliability suite (make test runs its quick subset): several minutes.
reliability: install
	RELIABILITY_FULL=1 $(BIN)/python -m pytest tests/reliability $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot flows storage tests benchmarks
	$(BIN)/ruff format --check bot flows storage tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory check-flows

check-flows: $(STAMP)
	$(BIN)/feedbackbot check --lang en flows/definitions

# After changing user-visible text: extract, then translate the new entries in both .po files.
extract-messages: $(STAMP)
	$(PYBABEL) extract --mapping-file babel.cfg --keywords N_ --no-location --sort-output \
		--ignore-dirs ".* _* build tests locales docs" \
		--project feedbackbot --output-file locales/messages.pot .
	$(PYBABEL) update --width 100 --domain messages --input-file locales/messages.pot --output-dir locales \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info
	find locales -name '*.mo' -delete
