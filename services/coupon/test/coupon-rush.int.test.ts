// First come, first served under load: exact limit, one per user, also when Redis forgets.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { eventually, silentLogger } from "@shop/testing";
import { loadCouponConfig } from "../src/config.ts";
import { start, type RunningCoupon } from "../src/main.ts";
import { HttpClient, createCampaign, inPool, issue, startCouponFixture, tally, uniqueKeyPrefix, type CouponFixture, type HttpAnswer } from "./support.ts";

const REDIS_DB = 7;
const IN_FLIGHT = 200;

let f: CouponFixture;

beforeAll(async () => {
  f = await startCouponFixture("coupon-rush", REDIS_DB, { DB_POOL_SIZE: "20" });
});
afterAll(async () => {
  await f?.stop();
});

const runId = () => randomBytes(3).toString("hex");

async function rowsOf(couponId: string) {
  return f.db.query<{ id: string; user_id: string }>("SELECT id::text, user_id FROM user_coupons WHERE coupon_id = $1", [couponId]);
}

async function expectExactlyIssued(couponId: string, total: number, answers: HttpAnswer[]) {
  const created = answers.filter((a) => a.status === 201);
  expect(created).toHaveLength(total);
  expect(new Set(created.map((a) => a.body.userId)).size).toBe(total);
  const rows = await rowsOf(couponId);
  expect(rows).toHaveLength(total);
  expect(new Set(rows.map((r) => r.user_id)).size).toBe(total);
  // Every 201 names a committed row of its user.
  const byId = new Map(rows.map((r) => [r.id, r.user_id]));
  for (const a of created) expect(byId.get(a.body.userCouponId)).toBe(a.body.userId);
  const campaign = await f.client.get(`/api/v1/coupons/${couponId}`);
  expect(campaign.body).toMatchObject({ totalQuantity: total, issuedQuantity: total, remainingQuantity: 0 });
}

test("10,000 users race for 1,000 coupons: exactly 1,000 are issued, 9,000 are told it is sold out", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 1000 });
  const run = runId();
  const answers = await inPool(10_000, IN_FLIGHT, (i) => issue(f.client, `rush-${run}-${i}`, campaign.id));
  expect(tally(answers)).toEqual({ "201": 1000, "409 COUPON_SOLD_OUT": 9000 });
  await expectExactlyIssued(campaign.id, 1000, answers);
  for (const a of answers.filter((x) => x.status === 409)) expect(a.contentType).toContain("application/problem+json");
});

test("each user sending 3 requests at once still gets at most one coupon", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 1000 });
  const run = runId();
  // Request i belongs to user floor(i / 3): the three of a user are sent back to back.
  const answers = await inPool(30_000, IN_FLIGHT, (i) => issue(f.client, `triple-${run}-${Math.floor(i / 3)}`, campaign.id));
  const counts = tally(answers);
  expect(counts["201"]).toBe(1000);
  expect(Object.keys(counts).sort()).toEqual(["201", "409 COUPON_ALREADY_ISSUED", "409 COUPON_SOLD_OUT"].filter((k) => counts[k] !== undefined).sort());
  await expectExactlyIssued(campaign.id, 1000, answers);
});

test("FLUSHDB in the middle of the race: the state is rebuilt from PostgreSQL, still exactly 1,000, no duplicates", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 1000 });
  const run = runId();
  let created = 0;
  let flushed = false;
  // Users 0..1999 also ask twice, before and after the flush, to catch a second coupon per user.
  const answers = await inPool(12_000, IN_FLIGHT, async (i) => {
    const user = i < 10_000 ? `flush-${run}-${i}` : `flush-${run}-${i - 10_000}`;
    const answer = await issue(f.client, user, campaign.id);
    if (answer.status === 201 && ++created === 400 && !flushed) {
      flushed = true;
      await f.redis.flushdb();
    }
    return answer;
  });
  expect(flushed).toBe(true);
  const counts = tally(answers);
  expect(counts["201"]).toBe(1000);
  expect((counts["409 COUPON_SOLD_OUT"] ?? 0) + (counts["409 COUPON_ALREADY_ISSUED"] ?? 0)).toBe(11_000);
  await expectExactlyIssued(campaign.id, 1000, answers);
  // The rebuilt Redis state agrees with PostgreSQL (the post-commit bookkeeping is asynchronous).
  await eventually(async () => expect(await f.redis.scard(`${f.keyPrefix}{${campaign.id}}:users`)).toBe(1000));
  await eventually(async () => expect(await f.redis.zcard(`${f.keyPrefix}{${campaign.id}}:pending`)).toBe(0));
});

test("two replicas whose Redis states disagree completely: PostgreSQL alone keeps the limit and one per user", async () => {
  // A second replica on the same database but with its own (empty) admission state: the worst
  // case of lost admissions, where Redis says yes to far more than the limit.
  const other: RunningCoupon = await start(
    loadCouponConfig({
      DATABASE_URL: f.db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      REDIS_URL: f.redisUrl,
      REDIS_KEY_PREFIX: uniqueKeyPrefix("replica"),
      LOG_LEVEL: "error",
    }),
    silentLogger,
  );
  const otherClient = new HttpClient(other.url);
  try {
    const campaign = await createCampaign(f.client, { totalQuantity: 300 });
    const run = runId();
    // 1,000 users, each asking both replicas at once.
    const answers = await inPool(2_000, IN_FLIGHT, (i) => issue(i % 2 === 0 ? f.client : otherClient, `split-${run}-${Math.floor(i / 2)}`, campaign.id));
    const counts = tally(answers);
    expect(counts["201"]).toBe(300);
    expect(answers.every((a) => a.status === 201 || (a.status === 409 && ["COUPON_SOLD_OUT", "COUPON_ALREADY_ISSUED"].includes(a.body.code)))).toBe(true);
    await expectExactlyIssued(campaign.id, 300, answers);
  } finally {
    otherClient.close();
    await other.stop();
  }
});

test("refusals come from Redis alone: they are answered while PostgreSQL's coupon tables are locked", async () => {
  const campaign = await createCampaign(f.client, { totalQuantity: 5 });
  const run = runId();
  await inPool(5, 5, (i) => issue(f.client, `few-${run}-${i}`, campaign.id));
  const locker = new pg.Client({ ...f.db.connection, options: `-c search_path="${f.db.schema}"` });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE coupons, user_coupons IN ACCESS EXCLUSIVE MODE");
    const started = Date.now();
    const refused = await inPool(500, 100, (i) => issue(f.client, i % 5 === 0 ? `few-${run}-${i % 5}` : `late-${run}-${i}`, campaign.id));
    expect(tally(refused)).toEqual({ "409 COUPON_SOLD_OUT": 400, "409 COUPON_ALREADY_ISSUED": 100 });
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    await locker.query("ROLLBACK");
    await locker.end();
  }
  expect(await rowsOf(campaign.id)).toHaveLength(5);
});
