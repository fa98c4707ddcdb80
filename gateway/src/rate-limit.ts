import type { Redis } from "ioredis";
import type { Logger } from "@shop/logging";

/**
 * Token bucket per key, refilled continuously at `rate` tokens per second up to `burst`.
 * One script so that concurrent gateways never both spend the last token; Redis' own clock so
 * that gateway clock skew does not matter. Returns {allowed 0|1, milliseconds until a token}.
 */
const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local waitMs = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  waitMs = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, waitMs}
`;

type RedisWithTakeToken = Redis & { gatewayTakeToken(key: string, rate: number, burst: number): Promise<[number, number]> };

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds a refused client should wait (Retry-After). */
  retryAfterSeconds: number;
}

export type RateLimiter = (userId: string) => Promise<RateLimitDecision>;

const ALLOWED: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

export interface RateLimiterOptions {
  writesPerSecond: number;
  burst: number;
  keyPrefix?: string;
}

/**
 * Per-user write limiter. When Redis cannot answer, writes go through (fail open): the limiter
 * protects against abuse, and refusing every write during a Redis outage would be worse.
 * The redis client should have a short command timeout and no offline queue, so an outage
 * costs a request milliseconds, not seconds.
 */
export function createRateLimiter(redis: Redis, options: RateLimiterOptions, logger: Logger): RateLimiter {
  const client = redis as RedisWithTakeToken;
  if (typeof client.gatewayTakeToken !== "function") client.defineCommand("gatewayTakeToken", { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
  const keyPrefix = options.keyPrefix ?? "gateway:rate:";
  // One warning per outage, not one per request.
  let failingOpen = false;

  return async (userId) => {
    try {
      const [allowed, waitMs] = await client.gatewayTakeToken(keyPrefix + userId, options.writesPerSecond, options.burst);
      if (failingOpen) {
        failingOpen = false;
        logger.info("rate limiter reaches Redis again");
      }
      return allowed === 1 ? ALLOWED : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (error) {
      if (!failingOpen) {
        failingOpen = true;
        logger.warn({ err: error }, "rate limiter cannot reach Redis; letting writes through until it can");
      }
      return ALLOWED;
    }
  };
}
