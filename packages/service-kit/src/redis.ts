import { Redis } from "ioredis";
import type { Logger } from "@shop/logging";

export { Redis };

export interface RedisOptions {
  logger: Logger;
  /** What the service does without Redis, logged once per outage (e.g. "serving from PostgreSQL"). */
  whileDown: string;
  /**
   * Queue commands while disconnected instead of failing them at once. Only for callers without a
   * fallback (they wait for Redis); a cache or a limiter fails fast and does without.
   */
  offlineQueue?: boolean;
  /** A command still unanswered after this long fails (default: none). */
  commandTimeoutMs?: number;
  maxRetriesPerRequest?: number;
  /** Send the commands of concurrent callers in one socket write. */
  autoPipelining?: boolean;
}

/** The one way a process gets a Redis client: connects at once and logs an outage once, not once per reconnect attempt. */
export function createRedis(url: string, options: RedisOptions): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: options.offlineQueue ?? false,
    enableAutoPipelining: options.autoPipelining ?? true,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    connectTimeout: 2_000,
    // ioredis arms this timer on disconnect() even when the socket already failed; short so a stop does not linger.
    disconnectTimeout: 200,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  });
  let down = false;
  redis.on("error", (error: Error) => {
    if (!down) options.logger.warn({ err: error }, `redis unavailable; ${options.whileDown}`);
    down = true;
  });
  redis.on("ready", () => {
    if (down) options.logger.info("redis reachable again");
    down = false;
  });
  return redis;
}

/** Releases a client: QUIT lets the commands already sent finish; a client that is not connected is dropped. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== "ready") return redis.disconnect();
  await redis.quit().catch(() => redis.disconnect());
}

/** Resolves when the client is connected, or after `timeoutMs` (false) so a start never hangs on Redis. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once("ready", onReady);
  });
}
