# The two commands of the README: `make pack` builds the evidence pack for the default params,
# `make test` runs the tests. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PARAMS ?= params/tower-hamlets.yml
BIN = $(VENV)/bin

.PHONY: pack test fetch run render lab clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

pack: $(BIN)/.installed
	$(BIN)/csp pack --params $(PARAMS)

test: $(BIN)/.installed
	$(BIN)/pytest

fetch: $(BIN)/.installed
	$(BIN)/csp fetch

run: $(BIN)/.installed
	$(BIN)/csp run --params $(PARAMS)

render: $(BIN)/.installed
	$(BIN)/csp render --params $(PARAMS)

lab: $(BIN)/.installed
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf outputs/*/ outputs/.staging-* data/interim
