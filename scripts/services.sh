#!/usr/bin/env bash
# NATS with JetStream (127.0.0.1:4222) and PostgreSQL (127.0.0.1:5432, trust auth): used where
# they already run; otherwise installed from Debian's packages if missing and started. Only
# what this script started is stopped by `services.sh stop`.
#   scripts/services.sh start|stop [--with-browser]
. "$(dirname "$0")/lib.sh"
STARTED="$CACHE/started-services"

ensure_nats() {
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then apt_install nats-server; fi
  port_open 127.0.0.1 4222 && { log "NATS already listens on 127.0.0.1:4222"; return 0; }
  local bin; bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  mkdir -p "$CACHE/nats"
  log "starting nats-server -js on 127.0.0.1:4222"
  start-stop-daemon --start --background --make-pidfile --pidfile "$CACHE/nats/nats.pid" --exec "$bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd "$CACHE/nats/store" -l "$CACHE/nats/nats.log"
  wait_for_port 127.0.0.1 4222 30 nats-server
  echo nats >> "$STARTED"
}

ensure_postgres() {
  port_open 127.0.0.1 5432 && { log "PostgreSQL already listens on 127.0.0.1:5432"; return 0; }
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version; version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  [ -n "$version" ] || { apt_install postgresql; version="$(ls /etc/postgresql | sort -V | tail -1)"; }
  [ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main >/dev/null
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^# bridgekeeper: trust on loopback' "$hba"; then
    log "PostgreSQL: trust auth for 127.0.0.1 and ::1 (dev and test only)"
    { echo '# bridgekeeper: trust on loopback'; echo 'host all all 127.0.0.1/32 trust'; echo 'host all all ::1/128 trust'; cat "$hba"; } > "$hba.new"
    mv "$hba.new" "$hba"; chown postgres:postgres "$hba" 2>/dev/null || true
  fi
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port 127.0.0.1 5432 60 PostgreSQL
  echo "postgres $version" >> "$STARTED"
}

ensure_browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

stop_started() {
  [ -f "$STARTED" ] || return 0
  while read -r name version; do
    case "$name" in
      nats) log "stopping nats-server"; start-stop-daemon --stop --quiet --oknodo --pidfile "$CACHE/nats/nats.pid" --remove-pidfile || true ;;
      postgres) log "stopping PostgreSQL $version"; pg_ctlcluster --skip-systemctl-redirect "$version" main stop || true ;;
    esac
  done < "$STARTED"
  rm -f "$STARTED"
}

case "${1:-start}" in
  start)
    ensure_nats
    ensure_postgres
    if [ "${2:-}" = "--with-browser" ]; then ensure_browser; fi
    ;;
  stop) stop_started ;;
  *) die "usage: $0 start|stop [--with-browser]" ;;
esac
