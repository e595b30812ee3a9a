#!/usr/bin/env bash
# The whole suite: static checks, frontend unit tests, Python tests on SQLite and on PostgreSQL,
# browser end-to-end tests (required under CI=true). Exits non-zero if any part fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_ADMIN_URL=${TEST_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/test}
failures=()

step() { printf '\n=== %s\n' "$1"; }
run() { local name=$1; shift; step "$name"; "$@" || failures+=("$name"); }

# Python source folders that exist in this checkout (bench/ and sdk/ may be absent).
mapfile -t PY_DIRS < <(for d in backend agents tools tests bench sdk; do [ -d "$d" ] && echo "$d"; done)
run "ruff" $BIN/ruff check "${PY_DIRS[@]}"
run "ruff format" $BIN/ruff format --check "${PY_DIRS[@]}"
run "mypy" $BIN/mypy
run "import layers" $BIN/lint-imports

# One typed protocol: the exported schema and the generated TypeScript must match the code.
run "protocol files fresh" bash -c "$BIN/python -m backend.protocol.export --check && cd sdk/typescript && npm run check:generated --silent"
run "typescript client (types + tests against live servers)" bash -c "cd sdk/typescript && npm run typecheck --silent && npm test --silent"

if [ -f frontend/package.json ]; then
  run "frontend unit tests" bash -c "cd frontend && npm test --silent"
fi

# pytest-xdist: the Python passes run on every core (each worker has its own SQLite file or PostgreSQL
# database, see tests/conftest.py); tests marked `serial` restart a shared service and run alone after.
WORKERS=${PYTEST_WORKERS:-$(nproc)}
pytest_pass() {  # pytest_pass: the parallel part, then the serial part (exit 5 = none of them here)
  $BIN/pytest -q -p no:cacheprovider -m "not e2e and not serial" -n "$WORKERS" || return 1
  $BIN/pytest -q -p no:cacheprovider -m "serial and not e2e"
  local code=$?
  [ $code -eq 0 ] || [ $code -eq 5 ]
}
run "pytest (SQLite)" pytest_pass

# Browser end-to-end tests (tests/e2e): once, against a live server with its own SQLite database.
# Under CI they must run: a missing Chromium fails the build, and the tests fail (never skip) when
# the browser cannot start. On a developer's machine without Chromium they are skipped, said plainly.
e2e_skipped=""
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  run "browser end-to-end (Chromium)" $BIN/pytest -q -p no:cacheprovider -m e2e tests/e2e
elif [ "${CI:-}" = "true" ]; then
  step "browser end-to-end (Chromium)"
  echo "Chromium not found at $chromium: CI must run the browser tests (.ci/run installs Debian's chromium)." >&2
  failures+=("browser end-to-end: Chromium missing")
else
  e2e_skipped="Chromium not found at $chromium: the browser end-to-end tests were SKIPPED (apt-get install chromium)."
  step "browser end-to-end (Chromium)"
  echo "NOTE: $e2e_skipped" >&2
fi

scratch="switchboard_test_$$_$RANDOM"
step "pytest (PostgreSQL, database $scratch)"
if $BIN/python - "$PG_ADMIN_URL" "$scratch" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=5) as c:
    c.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY
then
  pg_url="${PG_ADMIN_URL%/*}/$scratch"
  TEST_DATABASE_URL="$pg_url" pytest_pass || failures+=("pytest (PostgreSQL)")
  $BIN/python - "$PG_ADMIN_URL" "$scratch" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
PY
else
  failures+=("PostgreSQL unreachable at $PG_ADMIN_URL")
fi

[ -n "$e2e_skipped" ] && printf '\nNOTE: %s\n' "$e2e_skipped"
if [ ${#failures[@]} -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failures[@]}"
  exit 1
fi
printf '\nAll checks passed.\n'
