# The two commands of the quickstart: `make run` and `make test`.
# Everything else here is a helper those two call, or a shortcut for developers.
#
# Installs come from the committed lock (locks/*.txt: exact versions and hashes), through
# uv; `make lock` refreshes it on purpose, `make test-latest` and `make test-lowest` try the
# newest and the lowest allowed releases without it (outside the CI gate).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV     := $(BIN)/uv
PYTEST_ARGS ?=
# contracts/ installs its npm packages once per change of its lock (see contracts-deps).
NPM_STAMP := contracts/node_modules/.installed
NPM_MISSING := npm not found: contracts/ (and the local chain) need Node.js 20 or newer with npm: install them
NODE_TOO_OLD := contracts/ needs Node.js 20 or newer (Hardhat 2 and its EDR runtime); this one is
# The lock is universal (Linux, macOS; Python 3.11 and newer); it is resolved for 3.11.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet \
              --custom-compile-command "make lock"

.PHONY: run test lint typecheck pytest quick bench clean lock lock-keep resolve test-latest test-lowest \
        contracts-deps contracts-deps-maybe contracts-test contracts-abi web web-maybe web-check web-types

run: $(STAMP) web-maybe contracts-deps-maybe
	$(BIN)/impressox up

test: lint typecheck contracts-test web-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The chain tests start anvil from contracts/node_modules: hence the npm install. The
# browser tests (tests/web) drive the built page: build it first.
# The suite runs in PYTEST_WORKERS processes (pytest-xdist): its tests mostly wait on
# servers, processes and clocks, so more processes than cores still gain. Each process
# starts its own Redis and MongoDB; tests/conftest.py keeps a directory sharing one costly
# server per process (the browser's system, the Redis Cluster) in one of them.
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

pytest: $(STAMP) $(NPM_STAMP) web
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# Everything but the slow crash and soak tests, for the edit-test loop.
quick: $(STAMP) $(NPM_STAMP)
	$(BIN)/pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

# contracts/: Solidity compiled by solc-js and tested with Hardhat, both from npm (Node.js 20+);
# anvil, the local chain, comes from the same lock. `npm ci` runs again only when the lock
# (or package.json) changed; nothing but packages is downloaded (no compiler, no binaries).
contracts-deps: $(NPM_STAMP)

$(NPM_STAMP): contracts/package.json contracts/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "$(NPM_MISSING)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || \
	    { echo "$(NODE_TOO_OLD) $$(node --version)" >&2; exit 1; }
	cd contracts && npm ci
	touch $@

contracts-test: $(NPM_STAMP)
	cd contracts && npm test

# After changing a contract: re-export chain/abi/*.json (the ABIs and bytecode Python reads).
contracts-abi: $(NPM_STAMP)
	cd contracts && npm run export-abi

bench: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m bench.store --json
	$(BIN)/python -m bench.runtime --json
	$(BIN)/python -m bench.aggregates --json
	$(BIN)/python -m bench.readside --json
	$(BIN)/python -m bench.rules --json
	$(BIN)/python -m bench.agent --json
	$(BIN)/python -m bench.web --json
	$(BIN)/python -m bench.chain --json

# The web page (web/): npm installs from its committed lock; the bundle is rebuilt only
# when a source, the lock or the build's configuration changed (its index.html is the stamp).
NPM ?= npm
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts \
               web/tsconfig.json web/package.json

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && $(NPM) run build

web: web/dist/index.html

# `make run` builds the page when it can; without Node and npm the API runs all the same,
# and `impressox up` says the page is not built and why.
# The local chain's anvil for `make run`, when npm is there; without it up says the chain is off.
contracts-deps-maybe:
	@if command -v $(NPM) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory contracts-deps || echo "contracts/ did not install (above): make run runs without the local chain."; \
	else echo "npm not found: no local chain (install Node.js 20+ and npm)."; fi

web-maybe:
	@if command -v $(NPM) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory web || echo "The web page did not build (above); the API runs without it."; \
	else echo "npm not found: the web page is not built (install Node.js 20.19+ and npm)."; fi

# The page's type check and its unit and component tests (vitest).
web-check: web/node_modules/.installed
	cd web && $(NPM) run typecheck && $(NPM) test

# The page's API types, from the API's OpenAPI document (commit both files).
web-types: $(STAMP) web/node_modules/.installed
	$(BIN)/python -m impressox.openapi_file web/src/api/openapi.json
	cd web && $(NPM) run types

# 1. A virtualenv; 2. uv, from its own locked line (pip checks the hashes); 3. the
# environment made exactly what locks/dev.txt says (uv checks every hash); 4. this
# project, editable, adding nothing else (built by the locked setuptools: an isolated
# build would fetch whatever setuptools is newest).
$(STAMP): pyproject.toml locks/dev.txt locks/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r locks/uv.txt
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes locks/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock to the newest releases pyproject.toml allows. Commit the result on its
# own, after a green `make test`.
lock: $(STAMP)
	$(MAKE) --no-print-directory resolve RESOLVE=--upgrade

# Re-resolve after editing pyproject.toml (a new dependency), keeping every pin that fits.
lock-keep: $(STAMP)
	$(MAKE) --no-print-directory resolve RESOLVE=

# all.txt holds every extra; the others are its subsets, so the three agree on versions.
resolve:
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) $(RESOLVE) --all-extras -o locks/all.txt
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra embedded --extra dev \
	    -c locks/all.txt -o locks/dev.txt
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) -c locks/all.txt -o locks/runtime.txt
	echo uv | $(UV) pip compile - $(LOCK_FLAGS) -c locks/dev.txt -o locks/uv.txt

# Without the lock: the environment is not the lock's, and FastAPI's OpenAPI output (the
# committed document the web page's types come from) may differ by release.
UNLOCKED := --deselect tests/test_lock.py::test_this_environment_is_exactly_the_lock \
            --deselect tests/api/test_openapi_file.py

# The whole gate on the newest releases, ignoring the lock (a venv of its own).
test-latest:
	rm -rf .venv-latest && $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade -e '.[embedded,dev]'
	touch .venv-latest/.installed
	$(MAKE) test VENV=.venv-latest PYTEST_ARGS="$(UNLOCKED)"

# The suite on the lowest releases pyproject.toml allows for our direct dependencies: do
# the floors hold? Not mypy: older releases carry older type hints (redis-py typed its
# asyncio API only in 8.2), and the types are the lock's business.
test-lowest: $(STAMP)
	rm -rf .venv-lowest && $(PYTHON) -m venv .venv-lowest
	$(UV) pip install --quiet --python .venv-lowest/bin/python --resolution lowest-direct \
	    -e '.[embedded,dev]'
	touch .venv-lowest/.installed
	$(MAKE) lint contracts-test web-check pytest VENV=.venv-lowest PYTEST_ARGS="$(UNLOCKED)"

clean:
	rm -rf $(VENV) .venv-latest .venv-lowest .mypy_cache .ruff_cache .pytest_cache
	rm -rf contracts/node_modules contracts/artifacts contracts/cache
	rm -rf web/node_modules web/dist test-artifacts
