// Shared by the coupon integration tests: a real service on a fresh schema, its own Redis DB and
// key prefix, and an HTTP client that can keep a few hundred requests in flight.
import http from "node:http";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { authHeadersFor, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { loadCouponConfig } from "../src/config.ts";
import { start, type RunningCoupon } from "../src/main.ts";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
export const serviceDir = fileURLToPath(new URL("..", import.meta.url));

/** Each test file uses its own Redis DB index and FLUSHDB only that one, never FLUSHALL. */
export function redisUrlFor(dbIndex: number): string {
  const base = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  base.pathname = `/${dbIndex}`;
  return base.toString();
}

export const uniqueKeyPrefix = (label: string) => `t-${label}-${randomBytes(3).toString("hex")}:`;

export interface CouponFixture {
  db: TestSchema;
  service: RunningCoupon;
  redis: Redis;
  redisUrl: string;
  keyPrefix: string;
  client: HttpClient;
  stop(): Promise<void>;
}

export async function startCouponFixture(label: string, redisDb: number, env: Record<string, string> = {}): Promise<CouponFixture> {
  const db = await createTestSchema({ migrationsDir, label });
  const redisUrl = redisUrlFor(redisDb);
  const keyPrefix = uniqueKeyPrefix(label);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const service = await start(
    loadCouponConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      DB_POOL_SIZE: "10",
      LOG_LEVEL: "error",
      ...env,
    }),
    silentLogger,
  );
  const client = new HttpClient(service.url);
  return {
    db,
    service,
    redis,
    redisUrl,
    keyPrefix,
    client,
    stop: async () => {
      client.close();
      await service.stop();
      await redis.flushdb();
      redis.disconnect();
      await db.drop();
    },
  };
}

export interface HttpAnswer {
  status: number;
  contentType: string;

  body: any;
}

/**
 * Keep-alive HTTP client with a bounded number of sockets, so that a race of thousands of
 * requests measures the service, not connection setup. Speaks to a base URL: the service now,
 * the gateway later (pass extra headers, e.g. a bearer token).
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    readonly baseUrl: string,
    maxSockets = 200,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Without an explicit `authorization`, each call carries the credential its path needs (see authHeadersFor). */
  async request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const credentials = this.headers.authorization ? {} : await authHeadersFor(path);
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${path}`,
        {
          method,
          agent: this.agent,
          headers: {
            ...credentials,
            ...this.headers,
            ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body?: unknown) => this.request("POST", path, body);

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `tasks` with at most `concurrency` in flight; results in task order. */
export async function inPool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export const campaignBody = (overrides: Record<string, unknown> = {}) => ({
  name: "Black Friday 10%",
  discountType: "PERCENT",
  discountValue: 10,
  maxDiscountAmount: 5000,
  totalQuantity: 1000,
  validForDays: 7,
  ...overrides,
});

export async function createCampaign(client: HttpClient, overrides: Record<string, unknown> = {}): Promise<{ id: string } & Record<string, unknown>> {
  const response = await client.post("/api/v1/admin/coupons", campaignBody(overrides));
  if (response.status !== 201) throw new Error(`campaign not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export const issue = (client: HttpClient, userId: string, couponId: string) => client.post(`/api/v1/users/${userId}/coupons`, { couponId });

export function tally(answers: HttpAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status === 201 ? "201" : `${a.status} ${a.body?.code ?? "?"}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { silentLogger };
