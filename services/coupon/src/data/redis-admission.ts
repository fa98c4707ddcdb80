import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { AdmissionTerms } from "../domain/model.ts";
import type { AdmissionGate, AdmissionVerdict, StaleAdmissions } from "../domain/ports.ts";

/*
 * Admission state of one campaign, all keys with the campaign id as hash tag (one cluster slot):
 *   <prefix>{<id>}:meta     hash {total, startsAt, endsAt} (ms; endsAt 0 = open-ended). The
 *                           MARKER: when it is missing the state is unknown and must be rebuilt
 *                           from PostgreSQL before anyone is admitted.
 *   <prefix>{<id>}:users    set of users admitted or holding a coupon; its size is the count.
 *   <prefix>{<id>}:pending  zset user -> admission time (ms): admitted, not yet committed.
 *   <prefix>{<id>}:lock     rebuild lock (SET NX PX with a token).
 *   <prefix>{<id>}:unknown  a rebuild found no such campaign (short-lived).
 *   <prefix>{<id>}:staging:<token>  issued users being loaded by a rebuild.
 *   <prefix>campaigns       set of campaign ids with state, for the stale-admission sweeper.
 * Every decision is one Lua script (atomic in Redis), the clock is Redis's own (TIME), so the
 * order of admission is the order in which Redis ran the scripts.
 */

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: meta, users, pending, unknown. ARGV: userId. */
const ADMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[4]) == 1 then return 'UNKNOWN_COUPON' end
  return 'STATE_MISSING'
end
local meta = redis.call('HMGET', KEYS[1], 'total', 'startsAt', 'endsAt')
${NOW_MS}
if now < tonumber(meta[2]) then return 'NOT_STARTED' end
local ends = tonumber(meta[3])
if ends > 0 and now >= ends then return 'ENDED' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'ALREADY_ISSUED' end
if redis.call('SCARD', KEYS[2]) >= tonumber(meta[1]) then return 'SOLD_OUT' end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
return 'ADMITTED'`;

/**
 * KEYS: users, pending. ARGV: userIds. Committed: counted for good. Also without the marker:
 * a rebuild in progress merges these into what it read from PostgreSQL.
 */
const CONFIRM = `
for i = 1, #ARGV do
  redis.call('SADD', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return #ARGV`;

/** KEYS: users, pending. ARGV: userIds. Admitted but not issued: their places are free again. */
const WITHDRAW = `
for i = 1, #ARGV do
  redis.call('SREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return #ARGV`;

/** KEYS: users, pending. ARGV: olderThanMs, userIds... Frees only admissions still pending and old. */
const DROP_STALE = `
${NOW_MS}
local cutoff = now - tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if score and tonumber(score) <= cutoff then
    redis.call('ZREM', KEYS[2], ARGV[i])
    redis.call('SREM', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n`;

/** KEYS: pending. ARGV: olderThanMs, limit. */
const STALE = `
${NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))`;

/**
 * KEYS: meta, users, staging, unknown. ARGV: total, startsAt, endsAt, expected staged count.
 * The marker is written last and in the same atomic step as the users: all or nothing.
 */
const RESTORE = `
if redis.call('SCARD', KEYS[3]) ~= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[3])
  return 0
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[3])
  redis.call('DEL', KEYS[3])
end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'startsAt', ARGV[2], 'endsAt', ARGV[3])
redis.call('DEL', KEYS[4])
return 1`;

/** KEYS: lock. ARGV: token. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const STAGING_CHUNK = 5_000;
const UNKNOWN_TTL_MS = 5_000;
const STALE_SCAN_LIMIT = 1_000;

type Scripted = Redis & {
  couponAdmit(meta: string, users: string, pending: string, unknown: string, userId: string): Promise<AdmissionVerdict>;
  couponConfirm(users: string, pending: string, ...userIds: string[]): Promise<number>;
  couponWithdraw(users: string, pending: string, ...userIds: string[]): Promise<number>;
  couponDropStale(users: string, pending: string, olderThanMs: number, ...userIds: string[]): Promise<number>;
  couponStale(pending: string, olderThanMs: number, limit: number): Promise<string[]>;
  couponRestore(
    meta: string,
    users: string,
    staging: string,
    unknown: string,
    total: number,
    startsAt: number,
    endsAt: number,
    expected: number,
  ): Promise<number>;
  couponUnlock(lock: string, token: string): Promise<number>;
};

export class RedisAdmissionGate implements AdmissionGate {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    /** Prefix of every key: isolates environments and tests sharing one Redis. */
    private readonly prefix: string,
  ) {
    redis.defineCommand("couponAdmit", { numberOfKeys: 4, lua: ADMIT });
    redis.defineCommand("couponConfirm", { numberOfKeys: 2, lua: CONFIRM });
    redis.defineCommand("couponWithdraw", { numberOfKeys: 2, lua: WITHDRAW });
    redis.defineCommand("couponDropStale", { numberOfKeys: 2, lua: DROP_STALE });
    redis.defineCommand("couponStale", { numberOfKeys: 1, lua: STALE });
    redis.defineCommand("couponRestore", { numberOfKeys: 4, lua: RESTORE });
    redis.defineCommand("couponUnlock", { numberOfKeys: 1, lua: UNLOCK });
    this.redis = redis as Scripted;
  }

  private key(couponId: string, part: string): string {
    return `${this.prefix}{${couponId}}:${part}`;
  }

  admit(couponId: string, userId: string): Promise<AdmissionVerdict> {
    return this.redis.couponAdmit(
      this.key(couponId, "meta"),
      this.key(couponId, "users"),
      this.key(couponId, "pending"),
      this.key(couponId, "unknown"),
      userId,
    );
  }

  async confirm(couponId: string, userIds: string[]): Promise<void> {
    if (userIds.length) await this.redis.couponConfirm(this.key(couponId, "users"), this.key(couponId, "pending"), ...userIds);
  }

  async withdraw(couponId: string, userIds: string[]): Promise<void> {
    if (userIds.length) await this.redis.couponWithdraw(this.key(couponId, "users"), this.key(couponId, "pending"), ...userIds);
  }

  async hasState(couponId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(couponId, "meta"))) === 1;
  }

  async tryLock(couponId: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key(couponId, "lock"), token, "PX", ttlMs, "NX");
    return ok === "OK" ? token : null;
  }

  async unlock(couponId: string, token: string): Promise<void> {
    await this.redis.couponUnlock(this.key(couponId, "lock"), token);
  }

  async restore(terms: AdmissionTerms, issuedUserIds: string[], token: string): Promise<boolean> {
    const staging = this.key(terms.couponId, `staging:${token}`);
    const unique = [...new Set(issuedUserIds)];
    for (let i = 0; i < unique.length; i += STAGING_CHUNK) await this.redis.sadd(staging, ...unique.slice(i, i + STAGING_CHUNK));
    const done = await this.redis.couponRestore(
      this.key(terms.couponId, "meta"),
      this.key(terms.couponId, "users"),
      staging,
      this.key(terms.couponId, "unknown"),
      terms.totalQuantity,
      terms.issueStartsAt.getTime(),
      terms.issueEndsAt?.getTime() ?? 0,
      unique.length,
    );
    if (done === 1) await this.redis.sadd(`${this.prefix}campaigns`, terms.couponId);
    return done === 1;
  }

  async markUnknown(couponId: string): Promise<void> {
    await this.redis.set(this.key(couponId, "unknown"), "1", "PX", UNKNOWN_TTL_MS);
  }

  async stalePending(olderThanMs: number): Promise<StaleAdmissions[]> {
    const couponIds = await this.redis.smembers(`${this.prefix}campaigns`);
    const found: StaleAdmissions[] = [];
    for (const couponId of couponIds) {
      const userIds = await this.redis.couponStale(this.key(couponId, "pending"), olderThanMs, STALE_SCAN_LIMIT);
      if (userIds.length) found.push({ couponId, userIds });
    }
    return found;
  }

  async dropStale(couponId: string, userIds: string[], olderThanMs: number): Promise<void> {
    if (userIds.length) await this.redis.couponDropStale(this.key(couponId, "users"), this.key(couponId, "pending"), olderThanMs, ...userIds);
  }
}
