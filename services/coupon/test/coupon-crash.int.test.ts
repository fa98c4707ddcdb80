// A 201 is durable: the service is killed with SIGKILL in the middle of a rush, and every 201 it
// managed to send still names a committed row. Then a fresh instance settles what the dead one
// had admitted but never committed, and the campaign still ends with exactly its quantity.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createTestSchema, eventually, silentLogger, type TestSchema } from "@shop/testing";
import { loadCouponConfig } from "../src/config.ts";
import { start, type RunningCoupon } from "../src/main.ts";
import { HttpClient, createCampaign, inPool, issue, migrationsDir, redisUrlFor, serviceDir, tally, uniqueKeyPrefix, type HttpAnswer } from "./support.ts";

const REDIS_DB = 8;

let db: TestSchema;
let redis: Redis;
let child: ChildProcess | undefined;
const redisUrl = redisUrlFor(REDIS_DB);
const keyPrefix = uniqueKeyPrefix("crash");

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "coupon-crash" });
  redis = new Redis(redisUrl);
  await redis.flushdb();
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await redis?.flushdb();
  redis?.disconnect();
  await db?.drop();
});

/** The real entry point in its own process, exactly as `npm start` runs it; resolves with its URL. */
function spawnService(): Promise<{ process: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serviceDir,
    env: {
      ...process.env,
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      LOG_LEVEL: "info",
      NODE_OPTIONS: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 30_000);
    proc.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ process: proc, url: match[1]! });
      }
    });
    proc.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    proc.once("exit", (code) => reject(new Error(`service exited with ${code}:\n${output}`)));
  });
}

test("every 201 sent before a kill -9 names a committed row; a new instance then issues exactly the rest", async () => {
  const spawned = await spawnService();
  child = spawned.process;
  const client = new HttpClient(spawned.url);
  const campaign = await createCampaign(client, { totalQuantity: 2000 });
  const run = randomBytes(3).toString("hex");

  let created = 0;
  const answers: HttpAnswer[] = [];
  const exited = new Promise((resolve) => child!.once("exit", resolve));
  await inPool(6000, 100, async (i) => {
    try {
      const answer = await issue(client, `crash-${run}-${i}`, campaign.id);
      answers.push(answer);
      if (answer.status === 201 && ++created === 500) child!.kill("SIGKILL"); // mid-stream, batches in flight
    } catch {
      // The connection died with the process: the request has no answer, and promises nothing.
    }
  });
  client.close();
  await exited;

  const issued = answers.filter((a) => a.status === 201);
  expect(issued.length).toBeGreaterThanOrEqual(500);
  expect(issued.length).toBeLessThan(2000);
  const rows = await db.query<{ id: string; user_id: string }>("SELECT id::text, user_id FROM user_coupons WHERE coupon_id = $1", [campaign.id]);
  const committed = new Map(rows.map((r) => [r.id, r.user_id]));
  for (const a of issued) expect(committed.get(a.body.userCouponId)).toBe(a.body.userId);
  expect(rows.length).toBeLessThanOrEqual(2000);
  expect(new Set(rows.map((r) => r.user_id)).size).toBe(rows.length);

  // The dead process left admissions in Redis that were never committed (its batches in flight).
  // A new instance settles them from PostgreSQL after ADMISSION_STALE_MS, freeing their places.
  const revived: RunningCoupon = await start(
    loadCouponConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      ADMISSION_STALE_MS: "300",
      ADMISSION_SWEEP_INTERVAL_MS: "100",
      LOG_LEVEL: "error",
    }),
    silentLogger,
  );
  const again = new HttpClient(revived.url);
  try {
    await eventually(async () => expect(await redis.zcard(`${keyPrefix}{${campaign.id}}:pending`)).toBe(0), 10_000);
    expect(await redis.scard(`${keyPrefix}{${campaign.id}}:users`)).toBe(rows.length);
    const rest = await inPool(3000, 100, (i) => issue(again, `after-${run}-${i}`, campaign.id));
    expect(tally(rest)).toEqual({ "201": 2000 - rows.length, "409 COUPON_SOLD_OUT": 1000 + rows.length });
    const counted = await db.query<{ count: string }>("SELECT count(*)::text AS count FROM user_coupons WHERE coupon_id = $1", [campaign.id]);
    expect(counted).toEqual([{ count: "2000" }]);
    expect((await again.get(`/api/v1/coupons/${campaign.id}`)).body).toMatchObject({ issuedQuantity: 2000, remainingQuantity: 0 });
  } finally {
    again.close();
    await revived.stop();
  }
});
