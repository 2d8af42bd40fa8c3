#!/usr/bin/env bash
# Builds helm-render offline from Debian's Go packages (golang-go, golang-github-masterminds-sprig-dev,
# golang-gopkg-yaml.v3-dev, which scripts/setup.sh installs) in GOPATH mode: Debian ships the sources
# under /usr/share/gocode, but without the /v3 import paths of sprig and semver, which a small GOPATH
# of links beside the binary provides. No module proxy is used. Cached by source hash outside the
# repository; prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${LOGSIFT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift-deps}"
hash=$(cat "$here"/*.go | sha256sum | cut -c1-12)
bin="$cache/helm-render-$hash"
debian=/usr/share/gocode

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "helm-render: go not found (apt-get install golang-go)" >&2; exit 1; }
  for d in github.com/Masterminds/sprig github.com/Masterminds/semver gopkg.in/yaml.v3; do
    [ -d "$debian/src/$d" ] || { echo "helm-render: $debian/src/$d missing (run scripts/setup.sh)" >&2; exit 1; }
  done
  gopath="$cache/helm-render-gopath"
  for m in sprig semver; do
    mkdir -p "$gopath/src/github.com/Masterminds/$m"
    ln -sfn "$debian/src/github.com/Masterminds/$m" "$gopath/src/github.com/Masterminds/$m/v3"
  done
  echo "helm-render: building with $(go version | cut -d' ' -f3)" >&2
  tmp="$bin.tmp.$$"
  (cd "$here" && GO111MODULE=off GOPATH="$gopath:$debian" GOPROXY=off GOFLAGS= GOCACHE="$cache/helm-render-gocache" \
    go build -trimpath -o "$tmp" .)
  mv "$tmp" "$bin"
fi
ln -sfn "$bin" "$cache/helm-render"
echo "$bin"
