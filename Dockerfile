# logsift: build the N-API addon against Debian's libvectorscan, then a slim runtime with only the
# runtime library. Build: docker build -t logsift .   Run: docker run logsift run --config /etc/logsift/config.json
FROM node:20-bookworm AS build
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

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvectorscan5 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production LOGSIFT_KB_CACHE_DIR=/var/cache/logsift
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/logsift_hs.node ./build/Release/logsift_hs.node
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY data ./data
COPY schema ./schema
COPY config ./config
RUN mkdir -p /var/cache/logsift && chown node:node /var/cache/logsift
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "/app/bin/logsift.js"]
CMD ["run", "--config", "/etc/logsift/config.json"]
