# The two commands of the README: `make pack` builds the evidence pack for the default params,
# `make test` runs the tests. Both create the virtual environment on first use, from requirements.lock
# (exact versions with sha256 hashes, for Python 3.11), and make it again whenever the lock changes.
# `make lock` refreshes the lock from pyproject.toml (`make lock LOCK_ARGS=--upgrade` moves every pin
# to the newest release the ranges allow; without it, pins are kept unless pyproject.toml needs a change;
# an unchanged lock is left untouched, so the environment is not rebuilt).
PYTHON ?= python3
VENV ?= .venv
PARAMS ?= params/tower-hamlets.yml
BIN = $(VENV)/bin
LOCK = requirements.lock
PIP_VERSION = 26.3
UV_VERSION = 0.13.9
LOCK_ARGS ?=

.PHONY: pack test test-fast check reproducible lock fetch run render lab clean

$(BIN)/.installed: $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "$(LOCK) is for Python 3.11; this is Python %d.%d: run make with PYTHON=python3.11" % sys.version_info[:2])'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	cp $(LOCK) $(LOCK).new 2>/dev/null || true
	$(BIN)/uv pip compile --quiet pyproject.toml --extra test --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS) --output-file $(LOCK).new
	if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; else mv $(LOCK).new $(LOCK); fi

pack: $(BIN)/.installed
	$(BIN)/csp pack --params $(PARAMS)

# The checks CI runs before the tests: lint and format (library, tests, notebooks), types, the layers contract,
# notebooks committed without outputs (but those of the nbval-checked cells, marked keep_output), and thin
# notebooks (none over 120 code lines, no block of six lines shared by two: tools/check_notebooks.py).
check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/nbstripout --keep-id --keep-count --verify notebooks/*.ipynb
	$(BIN)/python tools/check_notebooks.py notebooks/*.ipynb

# `make test` runs every test: the notebooks executed (nbval), whole packs built, the browser tests. It ends with
# the tests skipped, by reason. PYTEST_ARGS adds options (.ci/run: --durations=30, the slowest tests in its log).
PYTEST_ARGS ?=
test: check
	$(BIN)/pytest $(PYTEST_ARGS)

# `make test-fast`: the everyday lane (and pre-commit's, at push), no notebook executed, no pack built and none
# of the slowest model fits (tests/conftest.py's SLOW): the library, readers, statistics, params, publishing
# and the page builders, in under two minutes.
test-fast: $(BIN)/.installed
	$(BIN)/pytest -q tests -m "not e2e and not notebooks and not slow" $(PYTEST_ARGS)

# What README's "reproducible" promises, checked: the environment matches the lock, and two builds of the
# default pack give the same bytes (and the manifest records the locked versions).
reproducible: $(BIN)/.installed
	CSP_REQUIRE_MIRROR=1 $(BIN)/pytest -p no:cacheprovider tests/test_environment.py \
		tests/test_end_to_end.py -k "environment or byte_identical or manifest_records"

fetch: $(BIN)/.installed
	$(BIN)/csp fetch

run: $(BIN)/.installed
	$(BIN)/csp run --params $(PARAMS)

render: $(BIN)/.installed
	$(BIN)/csp render --params $(PARAMS)

lab: $(BIN)/.installed
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf outputs/*/ outputs/.packs outputs/.staging-* data/interim
	find outputs -maxdepth 1 -type l -delete
