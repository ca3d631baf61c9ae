# Two commands on a fresh machine with python3: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
# The bot and its libraries at the versions in requirements.lock, hashes checked:
# what `make run` and a server need. The dev tools come on top, for `make test`.
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
LOCKED := $(BIN)/python -m pip install -q --require-hashes -r requirements.lock

.PHONY: run test fuzz lint bench install install-prod lock

run: $(RUNTIME) config.toml
	$(BIN)/organise-bot db upgrade
	$(BIN)/organise-bot run

test: $(STAMP)
	scripts/ensure-postgres
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# Property-based tests at full strength: 100,000 cases (tests/test_fuzz.py), about
# half an hour; each test's statistics show how many ran and how many failed.
fuzz: $(STAMP)
	scripts/ensure-postgres
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz.py --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m bench

install: $(STAMP)

# A server's install: the locked libraries and the bot itself, no dev tools.
install-prod: $(RUNTIME)

$(VENV)/pyvenv.cfg:
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): $(VENV)/pyvenv.cfg requirements.lock pyproject.toml
	$(LOCKED)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Remake requirements.lock from pyproject.toml's ranges: every platform and Python
# 3.11+ (markers pick what each needs), every extra, each file's hash.
lock: $(VENV)/pyvenv.cfg
	$(BIN)/python -m pip install -q uv==0.13.8
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--generate-hashes --extra postgres --extra webhook --extra metrics \
		--custom-compile-command "make lock" --quiet -o requirements.lock

config.toml:
	cp config.example.toml config.toml
