#!/usr/bin/env bash
# Installs everything logsift needs on a fresh Debian machine, then builds it.
# Idempotent: each step is skipped when its result is already there.
#   Node.js       22 is the floor, .nvmrc the target: when the machine's node is older than the floor
#                 (or LOGSIFT_NODE=target), the target's official build is installed from the npm
#                 registry (scripts/node.sh) and used for everything below and for every npm script
#                 (node_modules/.bin/node links to it; npm puts that directory first on PATH)
#   apt packages  libvectorscan-dev (or an installed libhyperscan-dev), build tools, and the real
#                 tools the tests run against: kcat, prometheus/promtool, rsyslog-kafka
#   syslog-ng     syslog-ng-core + syslog-ng-mod-rdkafka unpacked into the deps cache (Debian makes
#                 them conflict with rsyslog: both are "the" system logger; the tests run it from there)
#   npm ci        when package-lock.json changed
#   native addon  node-gyp, when native/ or binding.gyp changed
#   TypeScript    tsc -> dist/
#   mock broker   librdkafka 2.15.1's mock cluster + our launcher (tools/mock-broker), cached by version
#   helm-render   the chart renderer the chart tests use (tools/helm-render; Debian's Go and sprig)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; fi
fi

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if ! have_pkg libvectorscan-dev && ! have_pkg libhyperscan-dev; then need+=(libvectorscan-dev); fi
for p in pkg-config g++ make patch python3 kcat prometheus prometheus-alertmanager rsyslog rsyslog-kafka \
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev \
  libivykis0 libnet1 libpcre3 libwrap0 libjson-c5 librdkafka1; do
  have_pkg "$p" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

NODE_FLOOR=22
NODE_TARGET=$(cat .nvmrc)
if ! command -v npm >/dev/null; then
  # Only to fetch the target from the npm registry: Debian's own Node.js is older than the floor.
  log "installing Debian's nodejs and npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
machine_node="$(command -v node) $(node -v)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
use_target=""
if [ "$node_major" -lt "$NODE_FLOOR" ] || { [ "${LOGSIFT_NODE:-}" = target ] && [ "$(node -v)" != "v$NODE_TARGET" ]; }; then
  nodedir=$(bash scripts/node.sh "$NODE_TARGET")
  export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
  use_target=1
  log "using Node.js $NODE_TARGET from $nodedir (the machine's node: $machine_node)"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

shim=node_modules/.bin/node
if [ -n "$use_target" ]; then
  ln -sfn "$nodedir/bin/node" "$shim"
elif [ -L "$shim" ]; then
  rm "$shim"   # from an earlier set-up on an older machine Node
fi

addon=build/Release/logsift_hs.node
if [ ! -f "$addon" ] || [ native/addon.cc -nt "$addon" ] || [ binding.gyp -nt "$addon" ]; then
  log "building the native matcher (node-gyp)"
  npx --no-install node-gyp rebuild --loglevel=error >/dev/null
fi

log "compiling TypeScript"
npx --no-install tsc -p tsconfig.build.json

deps_dir=${LOGSIFT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift-deps}
sng_root=$deps_dir/syslog-ng/root
if [ ! -x "$sng_root/usr/sbin/syslog-ng" ] || [ ! -f "$sng_root/usr/lib/syslog-ng/3.38/libkafka.so" ]; then
  log "unpacking syslog-ng and its Kafka module into $deps_dir/syslog-ng"
  rm -rf "$deps_dir/syslog-ng" && mkdir -p "$deps_dir/syslog-ng/debs"
  ( cd "$deps_dir/syslog-ng/debs" && { apt-get download -qq syslog-ng-core syslog-ng-mod-rdkafka 2>/dev/null || { $SUDO apt-get update -qq && apt-get download -qq syslog-ng-core syslog-ng-mod-rdkafka; }; } )
  for deb in "$deps_dir"/syslog-ng/debs/*.deb; do dpkg-deb -x "$deb" "$sng_root"; done
fi

if [ -f tools/mock-broker/build.sh ]; then
  bash tools/mock-broker/build.sh
fi
if [ -f tools/helm-render/build.sh ]; then
  bash tools/helm-render/build.sh >/dev/null
fi
log "ready"
