#!/usr/bin/env bash
# Sets up and runs the whole stack on this machine: NATS (and PostgreSQL only if DATABASE_URL
# is set; otherwise the embedded SQLite default under data/), the demo Keycloak realm, then
# directory, provisioning and auth. Prints the login URL and the demo accounts, and runs until
# Ctrl-C, then stops what it started.
#   scripts/dev.sh            foreground
#   scripts/dev.sh --detach   start and return (stop later with scripts/dev.sh --stop)
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
LOGS="$CACHE/logs"
PIDS="$CACHE/dev.pids"
mkdir -p "$LOGS"

stop_stack() {
  if [ -f "$PIDS" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$PIDS"
    rm -f "$PIDS"
  fi
  bash scripts/keycloak.sh stop || true
  bash scripts/services.sh stop || true
}

if [ "${1:-}" = "--stop" ]; then stop_stack; exit 0; fi
[ -f "$PIDS" ] && die "the stack seems to run already (scripts/dev.sh --stop to stop it)"

ensure_node_toolchain
if [ -n "${DATABASE_URL:-}" ]; then bash scripts/services.sh start; else
  # NATS only: storage is the embedded SQLite default.
  bash scripts/services.sh start 2>/dev/null || true
fi
bash scripts/keycloak.sh start
log "building"
pnpm --silent build

export DATA_DIR="${DATA_DIR:-$ROOT/data}"
# The OpenID Connect IdP beside the SAML one: the realm's OIDC client (or a copy for another URL).
oidc_client="$(node scripts/keycloak-register-oidc.mjs "${AUTH_PUBLIC_URL:-http://localhost:3000}" keycloak-oidc)"
export AUTH_OIDC_ISSUER="${AUTH_OIDC_ISSUER:-$(node -e 'console.log(JSON.parse(process.argv[1]).issuer)' "$oidc_client")}"
export AUTH_OIDC_CLIENT_ID="${AUTH_OIDC_CLIENT_ID:-$(node -e 'console.log(JSON.parse(process.argv[1]).clientId)' "$oidc_client")}"
export AUTH_OIDC_CLIENT_SECRET="${AUTH_OIDC_CLIENT_SECRET:-$(node -e 'console.log(JSON.parse(process.argv[1]).clientSecret)' "$oidc_client")}"
for svc in directory provisioning auth; do
  node "dist/apps/$svc/src/main.js" > "$LOGS/$svc.log" 2>&1 &
  echo $! >> "$PIDS"
done
trap '[ "${detached:-0}" = 1 ] || stop_stack' EXIT
for port in 3001 3002 3000; do
  i=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 60 ] && { tail -30 "$LOGS"/*.log >&2; die "a service on port $port did not get ready (logs in $LOGS)"; }
    sleep 1
  done
done
node scripts/keycloak-register-sp.mjs "${AUTH_PUBLIC_URL:-http://localhost:3000}"

cat <<MSG

  Bridgekeeper is running.

    Sign in:        http://localhost:3000/login        (choose SAML or OpenID Connect; then see http://localhost:3000/session)
                    http://localhost:3000/login?idp=keycloak  ·  http://localhost:3000/login?idp=keycloak-oidc
                    (two IdPs are two identity sources: a user provisioned through one is refused by
                    the other, never taken over; e.g. alice through SAML, bob through OIDC)
    Demo accounts:  alice / alice   (groups engineering/backend, staff)
                    bob / bob       (groups staff, contractors)
                    carol / carol   (group engineering/frontend)
                    dave / dave     (disabled in Keycloak: refused)
    Admin API:      pnpm bk tokens create --name me --role admin    (then Authorization: Bearer <token>)
    Keycloak admin: http://localhost:8080/admin         admin / admin, realm "bridgekeeper"
    API docs:       http://localhost:3000/api/docs  ·  :3001/api/docs  ·  :3002/api/docs
    Logs:           $LOGS/{auth,provisioning,directory}.log
    Directory data: ${DATABASE_URL:-$DATA_DIR/directory.sqlite}

MSG

if [ "${1:-}" = "--detach" ]; then detached=1; log "detached: stop with scripts/dev.sh --stop"; exit 0; fi
log "press Ctrl-C to stop"
wait
