#!/usr/bin/env bash
# Builds the mock Kafka cluster used by tests and the demo: librdkafka 2.15.1 (its source ships in the
# npm package @confluentinc/kafka-javascript@1.10.1) with our patch applied
# (txn-offsets-and-read-committed.patch: TxnOffsetCommit offsets committed by EndTxn, read_committed
# Fetch below the LSO with aborted transactions, InitProducerId fencing by TransactionalId, producer ids
# unique: the stock mock draws them at random and a repeat broke that producer for good), linked
# statically with launcher.c. Cached by version, patch hash and launcher hash outside the repository;
# prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
LIBRDKAFKA_VERSION=2.15.1
NPM_PACKAGE=@confluentinc/kafka-javascript@1.10.1
cache="${LOGSIFT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift-deps}"
PATCH="$here/txn-offsets-and-read-committed.patch"
patch_hash=$(sha256sum "$PATCH" | cut -c1-12)
lib="$cache/librdkafka-$LIBRDKAFKA_VERSION-$patch_hash"
hash=$(cat "$here/launcher.c" "$PATCH" | sha256sum | cut -c1-12)
bin="$cache/mock-broker-$LIBRDKAFKA_VERSION-$hash"

if [ ! -x "$bin" ]; then
  if [ ! -f "$lib/src/librdkafka.a" ]; then
    echo "mock-broker: building librdkafka $LIBRDKAFKA_VERSION from $NPM_PACKAGE (about 40 s)" >&2
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack "$NPM_PACKAGE" --silent >/dev/null && tar xzf ./*.tgz)
    src="$work/package/deps/librdkafka"
    # RD_KAFKA_VERSION is 0xMMmmrrxx: 2.15.1 -> 0x020f01
    want=$(printf "0x%02x%02x%02x" $(echo "$LIBRDKAFKA_VERSION" | tr . " "))
    grep -q "define RD_KAFKA_VERSION $want" "$src/src/rdkafka.h" || { echo "mock-broker: $NPM_PACKAGE does not ship librdkafka $LIBRDKAFKA_VERSION" >&2; exit 1; }
    patch -s -p1 -d "$src" < "$PATCH" || { echo "mock-broker: $PATCH does not apply to librdkafka $LIBRDKAFKA_VERSION" >&2; exit 1; }
    (cd "$src" && ./configure --disable-ssl --disable-gssapi --disable-zstd --disable-curl --disable-lz4-ext >/dev/null \
      && make -C src librdkafka.a -j"$(nproc)" >/dev/null)
    mkdir -p "$cache"
    rm -rf "$lib.tmp" && mkdir -p "$lib.tmp/src"
    cp "$src"/src/librdkafka.a "$src"/src/rdkafka.h "$src"/src/rdkafka_mock.h "$lib.tmp/src/"
    grep -E '^(LIBS|MKL_PKGCONFIG_LIBS_PRIVATE)' "$src/Makefile.config" > "$lib.tmp/libs.mk" || true
    rm -rf "$lib" && mv "$lib.tmp" "$lib"
  fi
  libs=$(sed -n 's/^LIBS+\{0,1\}=//p' "$lib/libs.mk" | tr '\n' ' ')
  tmp="$bin.tmp.$$"
  cc -O2 -Wall -I"$lib/src" "$here/launcher.c" "$lib/src/librdkafka.a" $libs -lpthread -lm -o "$tmp"
  mv "$tmp" "$bin"
fi
ln -sfn "$bin" "$cache/mock-broker"
echo "$bin"
