import { Redis } from "ioredis";
import { listen } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { createApp } from "./app.ts";
import { createTokenVerifier } from "@shop/auth";
import { loadGatewayConfig, upstreamUrl, type GatewayConfig } from "./config.ts";
import { UpstreamProxy } from "./proxy.ts";
import { createClientRateLimiter } from "./client-rate-limit.ts";
import { createRateLimiter } from "./rate-limit.ts";
import type { UpstreamName } from "./routing.ts";

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Redis serves only the rate limiter, which must not wait for it: no offline queue, short timeouts. */
async function connectRedis(config: GatewayConfig, logger: Logger): Promise<Redis> {
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: 250,
    connectTimeout: 2000,
    // ioredis arms this timer on disconnect() even when the socket already failed; kept short so stop() does not linger.
    disconnectTimeout: 200,
  });
  // Connection errors repeat while Redis is down; the limiter logs the outage once.
  redis.on("error", (error) => logger.debug({ err: error }, "redis connection error"));
  await redis.connect().catch((error: unknown) => logger.warn({ err: error }, "Redis not reachable at start; writes are not rate limited until it is"));
  return redis;
}

/** Owns the port, the upstream pools and Redis; `stop()` closes the port first, then the rest. */
export async function start(config: GatewayConfig = loadGatewayConfig(), logger: Logger = createLogger("gateway", config.LOG_LEVEL)): Promise<RunningGateway> {
  const upstreams = new Map<UpstreamName, UpstreamProxy>();
  for (const name of config.UPSTREAMS) {
    const proxy = new UpstreamProxy(
      {
        name,
        baseUrl: upstreamUrl(config, name),
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        breaker: { volumeThreshold: config.BREAKER_VOLUME_THRESHOLD, errorThresholdPercentage: config.BREAKER_ERROR_PERCENTAGE, resetTimeoutMs: config.BREAKER_RESET_MS },
      },
      logger,
    );
    upstreams.set(name, proxy);
  }
  const redis = config.RATE_LIMIT_ENABLED ? await connectRedis(config, logger) : undefined;
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
    readiness: redis ? { redis: () => redis.ping() } : {},
    clientRateLimiter: config.RATE_LIMIT_ENABLED
      ? createClientRateLimiter({ requestsPerSecond: config.ANON_RATE_LIMIT_PER_SECOND, burst: config.ANON_RATE_LIMIT_BURST, maxClients: config.ANON_RATE_LIMIT_CLIENTS })
      : undefined,
    cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS, maxAgeSeconds: config.CORS_MAX_AGE_SECONDS },
    requestBodyLimitBytes: config.REQUEST_BODY_LIMIT_BYTES,
  });
  const server = await listen(app, config.PORT, config.HOST);
  logger.info({ url: server.url, upstreams: [...upstreams.keys()] }, "gateway listening");
  return {
    url: server.url,
    port: server.port,
    stop: async () => {
      await server.close();
      for (const upstream of upstreams.values()) upstream.close();
      redis?.disconnect();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
}
