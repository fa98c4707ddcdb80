import { batchedLookup } from "@shop/batching";
import type { Logger } from "@shop/logging";
import type { Product } from "../domain/model.ts";
import type { ProductCache } from "../domain/ports.ts";
import { LuaScript, type Redis } from "./lua-script.ts";

/**
 * Stores a product unless the cached copy has a newer version. A reader that loaded the row just
 * before an admin change cannot overwrite the written-through new price with the old one.
 */
const offerIfNotOlder = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current then
  local ok, cached = pcall(cjson.decode, current)
  if ok and type(cached) == 'table' and tonumber(cached.version) and tonumber(cached.version) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);

/**
 * Products in Redis for `ttlMs` (≤ 1 s). Admin changes are written through after their commit;
 * reservations are not, so a cached stock is at most `ttlMs` older than the database.
 */
export class RedisProductCache implements ProductCache {
  /** Reads that arrive together are one MGET. */
  private readonly lookup = batchedLookup((productIds: string[]) => this.getMany(productIds), { maxBatchSize: 100, maxInFlight: 4 });

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  private key(productId: string): string {
    return `${this.keyPrefix}product:${productId}`;
  }

  async get(productId: string): Promise<Product | null> {
    // getMany treats a failed read as a miss.
    return (await this.lookup(productId)) ?? null;
  }

  async getMany(productIds: string[]): Promise<Map<string, Product>> {
    const found = new Map<string, Product>();
    if (productIds.length === 0) return found;
    try {
      const values = await this.redis.mget(...productIds.map((id) => this.key(id)));
      for (const value of values) {
        if (!value) continue;
        const product = JSON.parse(value) as Product;
        found.set(product.id, product);
      }
    } catch (error) {
      this.logger.debug({ err: error }, "product cache read failed");
    }
    return found;
  }

  async offer(product: Product): Promise<void> {
    const value: Product = { id: product.id, name: product.name, price: product.price, stock: product.stock, version: product.version };
    try {
      await offerIfNotOlder.run(this.redis, [this.key(product.id)], [product.version, JSON.stringify(value), this.ttlMs]);
    } catch (error) {
      this.logger.debug({ err: error }, "product cache write failed");
    }
  }
}
