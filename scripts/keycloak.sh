#!/usr/bin/env bash
# Dev/test Keycloak: fetches org.keycloak:keycloak-quarkus-dist from Maven Central with mvn
# into .cache/keycloak (git-ignored), starts it in dev mode on 127.0.0.1:8080 with the
# realm in keycloak/*.json imported, waits until the realm answers, and stops it.
#   scripts/keycloak.sh start|stop|status|fetch
# Running start twice is harmless: a running Keycloak is left alone.
. "$(dirname "$0")/lib.sh"

KC_VERSION="${KEYCLOAK_VERSION:-26.5.6}"
KC_HOME="$CACHE/keycloak/keycloak-$KC_VERSION"
KC_PORT="${KEYCLOAK_PORT:-8080}"
KC_PID="$CACHE/keycloak/keycloak.pid"
KC_LOG="$CACHE/keycloak/keycloak.log"
REALM_URL="http://127.0.0.1:$KC_PORT/realms/bridgekeeper"

fetch() {
  [ -x "$KC_HOME/bin/kc.sh" ] && return 0
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION from Maven Central"
  mkdir -p "$CACHE/keycloak"
  mvn -q -B dependency:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KC_VERSION:tar.gz" \
    "-DoutputDirectory=$CACHE/keycloak" \
    || die "could not fetch org.keycloak:keycloak-quarkus-dist:$KC_VERSION with mvn (see the error above)"
  tar -xzf "$CACHE/keycloak/keycloak-quarkus-dist-$KC_VERSION.tar.gz" -C "$CACHE/keycloak"
  rm -f "$CACHE/keycloak/keycloak-quarkus-dist-$KC_VERSION.tar.gz"
}

running() { curl -fsS -o /dev/null "$REALM_URL" 2>/dev/null; }

start() {
  if running; then log "Keycloak already answers at $REALM_URL"; return 0; fi
  port_open 127.0.0.1 "$KC_PORT" && die "port $KC_PORT is taken by something that is not the Bridgekeeper realm"
  fetch
  mkdir -p "$KC_HOME/data/import"
  # A changed realm file means a fresh dev database, so the import is never stale.
  local sum; sum="$(cat "$ROOT"/keycloak/*.json | sha256sum | cut -c1-16)"
  if [ "$(cat "$KC_HOME/data/realm.sum" 2>/dev/null)" != "$sum" ]; then
    rm -rf "$KC_HOME/data/h2" "$KC_HOME/data/import/"*
    cp "$ROOT"/keycloak/*.json "$KC_HOME/data/import/"
    echo "$sum" > "$KC_HOME/data/realm.sum"
  fi
  log "starting Keycloak $KC_VERSION on 127.0.0.1:$KC_PORT (log: $KC_LOG)"
  KC_BOOTSTRAP_ADMIN_USERNAME="${KEYCLOAK_ADMIN_USER:-admin}" \
  KC_BOOTSTRAP_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD:-admin}" \
  JAVA_OPTS_APPEND="${KEYCLOAK_JAVA_OPTS:--Xms256m -Xmx1g}" \
    setsid "$KC_HOME/bin/kc.sh" start-dev \
      --http-host=127.0.0.1 --http-port="$KC_PORT" \
      --hostname="http://localhost:$KC_PORT" \
      --import-realm --health-enabled=true \
      > "$KC_LOG" 2>&1 < /dev/null &
  echo $! > "$KC_PID"
  local i=0
  until running; do
    i=$((i + 1))
    if ! kill -0 "$(cat "$KC_PID")" 2>/dev/null; then tail -40 "$KC_LOG" >&2; die "Keycloak exited during start"; fi
    [ "$i" -gt 300 ] && { tail -40 "$KC_LOG" >&2; die "Keycloak did not answer within 300 s"; }
    sleep 1
  done
  log "Keycloak is up: admin console http://localhost:$KC_PORT/admin (admin/admin), realm 'bridgekeeper'"
}

stop() {
  [ -f "$KC_PID" ] || { log "no Keycloak started by this script"; return 0; }
  local pid; pid="$(cat "$KC_PID")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping Keycloak (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$KC_PID"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  status) running && echo "up" || { echo "down"; exit 1; } ;;
  *) die "usage: $0 start|stop|status|fetch" ;;
esac
