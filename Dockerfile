# Multi-stage: compile TypeScript with dev dependencies, ship only dist/ and production modules.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 (the load store) builds from source where no prebuilt binary can be fetched
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY workers workers
COPY shared shared
COPY tools tools
# the web console's page is bundled by esbuild (a dev dependency) at build
COPY scripts/build-console.mjs scripts/build-console.mjs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 STATE_DIR=/var/lib/ohlcv-loadgen
WORKDIR /app
# the load store (SQLite); mount a volume here so loads outlive the container
RUN mkdir -p /var/lib/ohlcv-loadgen && chown node:node /var/lib/ohlcv-loadgen
VOLUME /var/lib/ohlcv-loadgen
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/dist dist
COPY --chown=node:node package.json ./
COPY --chown=node:node bin bin
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/ohlcv-loadgen.js"]
CMD ["serve"]
