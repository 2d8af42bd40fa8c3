# logsift: build the N-API addon against Debian's libvectorscan, then a slim runtime with only the
# runtime library, tini as PID 1, and the bundled KB's database compiled for a generic x86-64 CPU.
# Build: docker build -t logsift .
# Run:   docker run --read-only --tmpfs /var/cache/logsift -v ./config.json:/etc/logsift/config.json:ro logsift
FROM node:26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvectorscan-dev pkg-config g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY binding.gyp tsconfig.json tsconfig.build.json ./
COPY native ./native
COPY src ./src
RUN npx node-gyp rebuild && npx tsc -p tsconfig.build.json && npm prune --omit=dev
# The bundled KB's database, portable (no AVX2/AVX512 assumptions): a host whose own cache has none
# loads it in milliseconds instead of compiling; a host that cannot run it compiles as usual.
COPY bin ./bin
COPY data ./data
RUN node bin/logsift.js kb compile --portable --kb data/kb --cache-dir /app/kb-db

FROM node:26-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvectorscan5 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production LOGSIFT_CACHE_DIR=/var/cache/logsift LOGSIFT_KB_PREBUILT_DIR=/app/kb-db
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/logsift_hs.node ./build/Release/logsift_hs.node
COPY --from=build /app/dist ./dist
COPY --from=build /app/kb-db ./kb-db
COPY package.json ./
COPY bin ./bin
COPY data ./data
COPY schema ./schema
COPY config ./config
# The only path logsift writes: the compiled-database cache. With a read-only root filesystem, mount a
# volume or tmpfs here (it starts empty; the bundled KB's database is read from /app/kb-db).
RUN mkdir -p /var/cache/logsift && chown 1000:1000 /var/cache/logsift
USER 1000:1000
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini as PID 1: forwards SIGTERM/SIGINT to logsift and reaps children, under Kubernetes too.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/logsift.js"]
CMD ["run", "--config", "/etc/logsift/config.json"]
