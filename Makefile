# Two commands on a fresh machine with python3: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fuzz lint bench install

run: $(STAMP) config.toml
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

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

config.toml:
	cp config.example.toml config.toml
