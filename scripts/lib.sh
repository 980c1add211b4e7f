# Shared helpers for the project scripts. Source it: . "$(dirname "$0")/lib.sh"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

log() { printf '\033[1;34m[bridgekeeper]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bridgekeeper] %s\033[0m\n' "$*" >&2; exit 1; }

apt_updated=0
apt_install() {
  # apt_install PACKAGE... : installs Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated -eq 0 ]; then log "apt-get update"; $sudo apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() { # host port seconds name
  local i=0
  until port_open "$1" "$2"; do
    i=$((i + 1)); [ "$i" -gt "$3" ] && die "$4 did not open $1:$2 within $3 s"
    sleep 1
  done
}

ensure_node_toolchain() {
  command -v node >/dev/null || die "Node.js 20.19+ is required (https://nodejs.org)"
  if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "12.4.2" ]; then
    log "installing pnpm 12.4.2"
    npm install -g pnpm@12.4.2 >/dev/null
  fi
  export npm_config_nodedir="${npm_config_nodedir:-/usr}"
  log "pnpm install"
  (cd "$ROOT" && pnpm install --frozen-lockfile >/dev/null)
}
