import type { Logger } from "@shop/logging";
import type { OrderLine, ProductSales } from "../domain/model.ts";
import type { SalesRanking } from "../domain/ports.ts";
import { bySalesRank } from "../domain/rules.ts";
import type { DaySalesSnapshot } from "./catalog-store.ts";
import { LuaScript, type Redis } from "./lua-script.ts";

/**
 * Per Seoul day, Redis holds a sorted set (product id → units) built from PostgreSQL, together
 * with the PostgreSQL snapshot the build read (`xmin:xmax:xip,...`). Each OrderCompleted
 * transaction reports its transaction id after commit; the snapshot says whether the build already
 * counted it, so an increment is applied exactly once whatever the interleaving:
 *  - day built, transaction visible in its snapshot: already counted, skip;
 *  - day built, not visible: ZINCRBY;
 *  - day not built (new day, expired, FLUSHALL): park the increment in a pending list; the next
 *    build applies the parked ones its snapshot does not contain.
 * A process that dies between commit and report loses only the Redis increment: the day's set
 * expires after TOP_SELLERS_DAY_TTL_MS (and a start forgets the window), and the rebuild from
 * PostgreSQL has it.
 */
const visibleInSnapshot = `
local function visible(xid, snapshot)
  local xmin, xmax, xip = string.match(snapshot, '^(%d+):(%d+):(.*)$')
  xid = tonumber(xid)
  if xid < tonumber(xmin) then return true end
  if xid >= tonumber(xmax) then return false end
  for running in string.gmatch(xip, '%d+') do
    if tonumber(running) == xid then return false end
  end
  return true
end
`;

/** KEYS: set, snapshot, pending. ARGV: xid, pending ttl, then product id / units pairs. */
const recordSales = new LuaScript(`${visibleInSnapshot}
local snapshot = redis.call('GET', KEYS[2])
if not snapshot then
  for i = 3, #ARGV, 2 do redis.call('RPUSH', KEYS[3], ARGV[1] .. ' ' .. ARGV[i + 1] .. ' ' .. ARGV[i]) end
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
  return 0
end
if visible(ARGV[1], snapshot) then return 0 end
for i = 3, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

/** KEYS: set, snapshot, pending. ARGV: snapshot, ttl, then product id / units pairs. First build wins. */
const buildDay = new LuaScript(`${visibleInSnapshot}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
for _, entry in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local xid, units, product = string.match(entry, '^(%d+) (%d+) (.+)$')
  if xid and not visible(xid, ARGV[1]) then redis.call('ZINCRBY', KEYS[1], units, product) end
end
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`);

/**
 * KEYS: scratch, then the day sets. ARGV: limit. Returns every product whose units reach the
 * limit-th best, so ties at the cut can be broken by product id (Redis would break them by
 * reverse member order).
 */
const topCandidates = new LuaScript(`
redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 1, unpack(KEYS, 2))
local best = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local result = {}
if #best > 0 then result = redis.call('ZRANGEBYSCORE', KEYS[1], best[#best], '+inf', 'WITHSCORES') end
redis.call('DEL', KEYS[1])
return result
`);

export interface SalesRankingOptions {
  keyPrefix: string;
  /** Lifetime of a built day: bounds how long a lost increment (a crash after commit) stays lost. */
  dayTtlMs: number;
  /** Lifetime of a merged ranking; 0 merges on every read. */
  rankingTtlMs: number;
  logger: Logger;
}

export class RedisSalesRanking implements SalesRanking {
  constructor(
    private readonly redis: Redis,
    private readonly loadDay: (day: string) => Promise<DaySalesSnapshot>,
    private readonly options: SalesRankingOptions,
  ) {}

  private dayKeys(day: string): [set: string, snapshot: string, pending: string] {
    const base = `${this.options.keyPrefix}sales:${day}`;
    return [base, `${base}:snapshot`, `${base}:pending`];
  }

  async top(days: string[], limit: number): Promise<ProductSales[]> {
    const rankingKey = `${this.options.keyPrefix}top:${days.join(",")}:${limit}`;
    try {
      const cached = this.options.rankingTtlMs > 0 ? await this.redis.get(rankingKey) : null;
      if (cached) return JSON.parse(cached) as ProductSales[];
      await Promise.all(days.map((day) => this.ensureBuilt(day)));
      const flat = (await topCandidates.run(this.redis, [`${this.options.keyPrefix}top:scratch`, ...days.map((d) => this.dayKeys(d)[0])], [limit])) as string[];
      const candidates: ProductSales[] = [];
      for (let i = 0; i < flat.length; i += 2) candidates.push({ productId: flat[i]!, quantity: Number(flat[i + 1]) });
      const ranking = candidates
        .filter((c) => c.quantity > 0)
        .sort(bySalesRank)
        .slice(0, limit);
      if (this.options.rankingTtlMs > 0) await this.redis.set(rankingKey, JSON.stringify(ranking), "PX", this.options.rankingTtlMs);
      return ranking;
    } catch (error) {
      this.options.logger.warn({ err: error }, "top sellers from redis failed; reading PostgreSQL");
      return this.fromDatabase(days, limit);
    }
  }

  async record(day: string, sales: OrderLine[], commitMarker: string): Promise<void> {
    if (sales.length === 0) return;
    try {
      await recordSales.run(this.redis, this.dayKeys(day), [commitMarker, this.options.dayTtlMs, ...sales.flatMap((s) => [s.productId, s.quantity])]);
    } catch (error) {
      // The sale is committed in PostgreSQL; the day's next rebuild counts it.
      this.options.logger.warn({ err: error, day }, "could not add a sale to the redis ranking");
    }
  }

  async forget(days: string[]): Promise<void> {
    try {
      await this.redis.del(...days.flatMap((d) => this.dayKeys(d).slice(0, 2)));
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not drop cached sales days");
    }
  }

  private async ensureBuilt(day: string): Promise<void> {
    const keys = this.dayKeys(day);
    if ((await this.redis.exists(keys[1])) === 1) return;
    const { snapshot, sales } = await this.loadDay(day);
    await buildDay.run(this.redis, keys, [snapshot, this.options.dayTtlMs, ...sales.flatMap((s) => [s.productId, s.quantity])]);
  }

  private async fromDatabase(days: string[], limit: number): Promise<ProductSales[]> {
    const totals = new Map<string, number>();
    for (const day of days)
      for (const { productId, quantity } of (await this.loadDay(day)).sales) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
    return [...totals]
      .map(([productId, quantity]) => ({ productId, quantity }))
      .sort(bySalesRank)
      .slice(0, limit);
  }
}
