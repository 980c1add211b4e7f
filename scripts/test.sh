#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine and runs them all:
# pnpm install, NATS + PostgreSQL + Chromium (Debian packages when missing), Keycloak (Maven
# Central), typecheck, lint, build, then unit → integration → end-to-end tests, and a smoke run
# of the benches (`pnpm bench --quick`).
# Stops only what it started. Closing line: "tests: N passed, N failed, N skipped".
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export TZ=UTC

ensure_node_toolchain
bash scripts/services.sh start --with-browser
keycloak_was_up=0
bash scripts/keycloak.sh status >/dev/null 2>&1 && keycloak_was_up=1

stop_started() {
  [ "$keycloak_was_up" -eq 0 ] && bash scripts/keycloak.sh stop || true
  bash scripts/services.sh stop || true
}
trap 'rc=$?; stop_started; exit $rc' EXIT INT TERM

# Keycloak starts in the background while the code is checked and built.
bash scripts/keycloak.sh start > "$CACHE/keycloak-start.log" 2>&1 &
keycloak_pid=$!

log "typecheck, lint and build"
pnpm --silent typecheck
pnpm --silent lint
pnpm --silent build

summary="$(mktemp)"
export BK_TEST_SUMMARY="$summary"
failed=0
log "unit tests"
pnpm exec jest --selectProjects unit --ci || failed=1
log "integration tests (real NATS and PostgreSQL)"
pnpm exec jest --selectProjects int --runInBand --ci || failed=1
if wait "$keycloak_pid"; then
  log "end-to-end tests (real Keycloak and Chromium)"
  pnpm exec jest --selectProjects e2e --runInBand --ci || failed=1
  # The benches are not timed here; the smoke run proves `pnpm bench` still runs end to end.
  log "bench smoke run (pnpm bench --quick: every bench on tiny sizes; measures nothing)"
  if (pnpm --silent build:bench && node --expose-gc dist/bench/run.js --quick) > "$CACHE/bench-smoke.log" 2>&1; then
    echo '{"passed":1,"failed":0,"skipped":0}' >> "$summary"
  else
    tail -40 "$CACHE/bench-smoke.log" >&2
    log "the bench smoke run failed (whole output: $CACHE/bench-smoke.log)"
    echo '{"passed":0,"failed":1,"skipped":0}' >> "$summary"
    failed=1
  fi
else
  cat "$CACHE/keycloak-start.log" >&2
  log "Keycloak did not start: the end-to-end tests cannot run"
  failed=1
  echo '{"passed":0,"failed":1,"skipped":0}' >> "$summary"
fi

# Stop what we started first, so the totals are the last line printed.
trap - EXIT INT TERM
stop_started
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
  const t = lines.reduce((a, l) => ({ passed: a.passed + l.passed, failed: a.failed + l.failed, skipped: a.skipped + l.skipped }), { passed: 0, failed: 0, skipped: 0 });
  console.log(`\ntests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
' "$summary"
rm -f "$summary"
exit $failed
