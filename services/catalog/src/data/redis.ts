import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "@shop/logging";

export type { Redis };

/**
 * A Redis client for caches: while Redis is away commands fail at once instead of queueing (and
 * give up after 500 ms on a slow Redis), because every caller falls back to PostgreSQL.
 */
export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { commandTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false, enableAutoPipelining: true });
  let warned = false;
  redis.on("error", (error: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (!warned) logger.warn({ err: error }, "redis unavailable; serving from PostgreSQL");
    warned = true;
  });
  redis.on("ready", () => {
    warned = false;
  });
  return redis;
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

/** A Lua script run by its SHA, loaded on first use (and again after a SCRIPT FLUSH or restart). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
