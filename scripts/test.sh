#!/usr/bin/env bash
# The README's second command: sets up the private PostgreSQL and Redis (installing them if
# needed) and runs every test of the workspace against them. Extra arguments go to the
# test runner, e.g. `scripts/test.sh -p bakery-inventory`. Without arguments, it ends with
# the schemathesis run against the OpenAPI document (`scripts/fuzz-api.sh`, bounded;
# `SKIP_FUZZ=1` skips it), the browser test of the demo page (`scripts/e2e.sh`; `SKIP_E2E=1`
# skips it) and the short fault-injection suite (`scripts/faults.sh`; `SKIP_FAULTS=1` skips
# it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

note_what_runs
trap stop_what_we_started EXIT
setup_infrastructure

# databases left behind by an interrupted run (only when this run owns the instance: a
# running stack may be serving other test runs)
[ "$STARTED_PG" = 1 ] && for db in $(psql_admin -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'"); do
  psql_admin -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
done

cd "$ROOT"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi

# the API against its OpenAPI document, through the gateway (only for a full run)
if [ "$#" -eq 0 ] && [ "${SKIP_FUZZ:-0}" != 1 ]; then
  "$ROOT/scripts/fuzz-api.sh"
fi

# the demo page in a real browser against the whole stack (only for a full run)
if [ "$#" -eq 0 ] && [ "${SKIP_E2E:-0}" != 1 ]; then
  "$ROOT/scripts/e2e.sh"
fi

# faults with real processes, short form, on a PostgreSQL and Redis of its own (only for a
# full run; SKIP_FAULTS=1 skips it)
if [ "$#" -eq 0 ] && [ "${SKIP_FAULTS:-0}" != 1 ]; then
  "$ROOT/scripts/faults.sh"
fi
