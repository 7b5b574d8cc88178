# syntax=docker/dockerfile:1
# Hourglass, self-hosted: `docker compose up` (compose.yaml) or build the targets yourself:
#   docker build -t hourglass .                      the app: Next's standalone server, non-root, `node server.js`
#   docker build --target migrate -t hourglass-migrate .   `npm run db:migrate`, run before each release (safe to repeat)
# Values the build bakes in (the prerendered /pricing page, the CSP's upgrade-insecure-requests) are build args.
ARG NODE_VERSION=22

# Every dependency, dev ones included (the build and the migrator need them). The postinstall patch runs here.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-postgres.mjs scripts/
RUN npm ci --no-audit --no-fund

FROM deps AS build
ARG APP_URL=http://localhost:3000
ARG CHAT_TOKEN_BUDGET=1000000
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 APP_URL=${APP_URL} CHAT_TOKEN_BUDGET=${CHAT_TOKEN_BUDGET}
COPY . .
RUN npm run build

# The migrator: applies db/migrations to DATABASE_URL under an advisory lock, so concurrent runs are safe.
FROM deps AS migrate
ENV NODE_ENV=production
COPY tsconfig.json ./
COPY db db
COPY lib lib
COPY scripts scripts
USER node
CMD ["npx", "--no-install", "tsx", "scripts/db-migrate.ts"]

# The app: only the traced standalone output, the static assets and the public folder (Next leaves both out of the
# standalone output; without public/ the manifest's icons answer 404), run as the image's unprivileged `node` user.
FROM node:${NODE_VERSION}-bookworm-slim AS runner
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0 DATA_DIR=/app/.data
COPY --from=build --chown=node:node /app/.next/standalone ./
COPY --from=build --chown=node:node /app/.next/static ./.next/static
COPY --from=build --chown=node:node /app/public ./public
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# Liveness only (/api/health); point your orchestrator's readiness probe at /api/ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server.js"]
