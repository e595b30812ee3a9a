# Switchboard — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install contract-mocks sdk-typescript frontend protocol lint format fuzz clean

run: install frontend ## install and start on the embedded defaults (SQLite, offline model, demo sandboxes)
	DEMO_MODE=true HL7_LISTEN_PORT=$${HL7_LISTEN_PORT:-2575} $(BIN)/switchboard serve --migrate

test: install frontend ## install everything and run all tests (lint, types, unit, SQLite, PostgreSQL, browser)
	bash scripts/test.sh

install: $(STAMP) contract-mocks

# The OpenAPI mock server (Prism, from npm) the Jira contract tests serve Atlassian's examples with.
PRISM_DIR := tests/contracts/jira
contract-mocks:
	@if command -v npm >/dev/null 2>&1; then \
		cd $(PRISM_DIR) && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --silent; }; \
	else echo "NOTE: npm not found: the Jira contract tests (tests/contracts/jira) will be skipped" >&2; fi

$(STAMP): pyproject.toml sdk/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	$(BIN)/pip install --quiet -e sdk/python --config-settings editable_mode=compat  # the Python client (tests/sdk)
	touch $(STAMP)

sdk-typescript: ## install and build the TypeScript client (the web app depends on it)
	cd sdk/typescript && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } \
		&& npm run build --silent

protocol: install sdk-typescript ## regenerate the protocol files and the TypeScript types after changing a frame or a REST schema
	$(BIN)/python -m backend.protocol.export
	cd sdk/typescript && npm run generate --silent && npm run build --silent

frontend: sdk-typescript ## build the web app when its sources exist
	@if [ -f frontend/package.json ]; then \
		cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } \
		&& npm run build; \
	fi

PY_DIRS = $(wildcard backend agents tools tests bench sdk)

lint: install
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/lint-imports

fuzz: install ## the API, WebSocket and MLLP fuzzers with many more examples than CI runs
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/pytest -q -p no:cacheprovider tests/reliability/test_api_fuzz.py \
		tests/reliability/test_websocket_fuzz.py tests/tools/hl7/test_hl7_mllp.py

format: install
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist sdk/typescript/node_modules sdk/typescript/dist $(PRISM_DIR)/node_modules \
		.mypy_cache .ruff_cache .pytest_cache
