#!/usr/bin/env bash
# `pnpm bench [names…] [--size 10k|100k] [--quick]`: builds, then runs bench/run.ts. Benches that
# need services start their own (NATS, PostgreSQL, the three services, Keycloak for sync).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export TZ=UTC
ensure_node_toolchain
pnpm --silent build
npx tsc -p tsconfig.bench.json && npx tsc-alias -p tsconfig.bench.json
exec node --expose-gc dist/bench/run.js "$@"
