# dragonhoard: `make run` serves the demo, `make test` runs the suite.
# Needs only Python 3.11+ and make on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INI ?= development.ini

.PHONY: run test install serve initdb bench fuzz clean

# Re-install when the project's metadata changes.
$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

initdb: install
	mkdir -p var
	$(BIN)/dragonhoard-initdb $(INI) --demo

run: initdb
	$(BIN)/pserve $(INI)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The contract fuzzed deeper than in `make test`: many more examples, and
# schemathesis's stateful phase over the document's links (README, "The API document").
fuzz: install
	DRAGONHOARD_FUZZ=deep $(BIN)/python -m pytest -p no:cacheprovider tests/test_fuzz.py \
		tests/test_refusals_change_nothing.py $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
