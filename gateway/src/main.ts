import { createTokenVerifier } from "@shop/auth";
import { closeRedis, createRedis, defineService, isEntryPoint, runService, whenReady } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { ResponseCache } from "./response-cache.ts";
import { createClientRateLimiter } from "./client-rate-limit.ts";
import { loadGatewayConfig, upstreamUrl } from "./config.ts";
import { UpstreamProxy } from "./proxy.ts";
import { createRateLimiter } from "./rate-limit.ts";
import type { UpstreamName } from "./routing.ts";

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const gatewayService = defineService({
  name: "gateway",
  loadConfig: loadGatewayConfig,
  start: async (config, ctx): Promise<Omit<RunningGateway, "stop">> => {
    const { logger } = ctx;
    const upstreams = new Map<UpstreamName, UpstreamProxy>();
    for (const name of config.UPSTREAMS) {
      const proxy = new UpstreamProxy(
        {
          name,
          baseUrl: upstreamUrl(config, name),
          timeoutMs: config.UPSTREAM_TIMEOUT_MS,
          breaker: {
            volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
            errorThresholdPercentage: config.BREAKER_ERROR_PERCENTAGE,
            resetTimeoutMs: config.BREAKER_RESET_MS,
          },
        },
        logger,
      );
      upstreams.set(
        name,
        ctx.own(`upstream ${name}`, proxy, (p) => p.close()),
      );
    }
    // Redis serves only the rate limiter, which must not wait for it: no offline queue, short timeouts.
    const redis = config.RATE_LIMIT_ENABLED
      ? ctx.own(
          "redis",
          createRedis(config.REDIS_URL, { logger, whileDown: "writes are not rate limited until it is back", commandTimeoutMs: 250, autoPipelining: false }),
          closeRedis,
        )
      : undefined;
    // Not a readiness check: without Redis writes pass unlimited (the limiter fails open), so a Redis
    // outage must not take every gateway replica out of the load balancer.
    if (redis && !(await whenReady(redis, 2_000))) logger.warn("Redis not reachable at start; writes are not rate limited until it is");
    const app = createApp({
      logger,
      upstreams,
      verifyToken: createTokenVerifier({
        secret: config.JWT_SECRET,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
        jwksUrl: config.JWT_JWKS_URL,
      }),
      rateLimiter: redis && createRateLimiter(redis, { writesPerSecond: config.RATE_LIMIT_WRITES_PER_SECOND, burst: config.RATE_LIMIT_BURST }, logger),
      readiness: ctx.readiness,
      metrics: ctx.metrics,
      clientRateLimiter: config.RATE_LIMIT_ENABLED
        ? createClientRateLimiter({
            requestsPerSecond: config.ANON_RATE_LIMIT_PER_SECOND,
            burst: config.ANON_RATE_LIMIT_BURST,
            maxClients: config.ANON_RATE_LIMIT_CLIENTS,
          })
        : undefined,
      cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS, maxAgeSeconds: config.CORS_MAX_AGE_SECONDS },
      requestBodyLimitBytes: config.REQUEST_BODY_LIMIT_BYTES,
      responseCache: new ResponseCache({
        ttlMs: config.RESPONSE_CACHE_TTL_MS,
        maxEntries: config.RESPONSE_CACHE_MAX_ENTRIES,
        maxBodyBytes: config.RESPONSE_CACHE_MAX_BODY_BYTES,
      }),
    });
    const server = await ctx.listen(app, { upstreams: [...upstreams.keys()] });
    return { url: server.url, port: server.port };
  },
});

/** Owns the port, the upstream pools and Redis (tests start it on port 0); `stop()` closes the port first, then the rest. */
export const start = gatewayService.start;

if (isEntryPoint(import.meta.url)) await runService(gatewayService);
