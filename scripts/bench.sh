#!/usr/bin/env bash
# `pnpm bench [saml|login|events|sync …] [--size 10k|100k] [--quick]`: builds, makes sure NATS and
# PostgreSQL are there (and Keycloak when the sync bench runs), then runs bench/run.ts. Each
# bench starts its own throw-away database and services. Stops only what it started.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export TZ=UTC
ensure_node_toolchain
bash scripts/services.sh start

wants_sync=1
names=()
for a in "$@"; do case "$a" in --*|*k) ;; *) names+=("$a") ;; esac; done
if [ "${#names[@]}" -gt 0 ] && [[ ! " ${names[*]} " =~ " sync " ]]; then wants_sync=0; fi
keycloak_started=0
if [ "$wants_sync" -eq 1 ] && ! bash scripts/keycloak.sh status >/dev/null 2>&1; then
  bash scripts/keycloak.sh start
  keycloak_started=1
fi
stop_started() {
  [ "$keycloak_started" -eq 1 ] && bash scripts/keycloak.sh stop || true
  bash scripts/services.sh stop || true
}
trap stop_started EXIT INT TERM

log "building"
pnpm --silent build
pnpm --silent build:bench
node --expose-gc dist/bench/run.js "$@"
