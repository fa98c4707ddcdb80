// The fast subset of `npm run chaos`: a broker killed and restarted in the middle of 300 orders,
// PostgreSQL killed and restarted, Redis lost during a coupon rush. Each on infrastructure of this
// file's own (e2e/chaos/chaos.ts); afterwards every order has ended and the audit finds nothing.
import { formatTrials, runTrial, startChaosEnvironment, type ChaosEnvironment } from "./chaos/chaos.ts";

const TIMEOUT_MS = 300_000;
let env: ChaosEnvironment;

beforeAll(async () => {
  env = await startChaosEnvironment({ sagaTimeoutMs: 30_000 });
}, TIMEOUT_MS);
afterAll(async () => {
  await env?.stop();
}, TIMEOUT_MS);

test(
  "a 10 s broker outage in the middle of 300 orders: at least 95 % complete, all end, the saga resumes within 5 s of the broker's return",
  async () => {
    const result = await runTrial(env, "broker-kill", { orders: 300, rate: 30, faultAfterMs: 2_000, faultForMs: 10_000 });
    console.info(`[measure]\n${formatTrials([result])}`);
    expect(result.unfinished).toBe(0);
    expect(result.completed / result.orders).toBeGreaterThanOrEqual(0.95);
    expect(result.resumedAfterMs).toBeLessThanOrEqual(5_000);
    expect(result.audit.checks.filter((c) => c.violations > 0)).toEqual([]);
  },
  TIMEOUT_MS,
);

test(
  "PostgreSQL killed for 5 s while orders flow: every order ends and no invariant is violated",
  async () => {
    const result = await runTrial(env, "postgres-kill", { orders: 60, rate: 20, faultAfterMs: 1_000, faultForMs: 5_000 });
    console.info(`[measure]\n${formatTrials([result])}`);
    expect(result.unfinished).toBe(0);
    expect(result.completed).toBeGreaterThan(0);
    expect(result.audit.checks.filter((c) => c.violations > 0)).toEqual([]);
  },
  TIMEOUT_MS,
);

test(
  "Redis lost in the middle of a coupon rush: the campaign sells out exactly (never over-issued, nothing lost) and every order ends",
  async () => {
    const result = await runTrial(env, "redis-wipe", { orders: 60, rate: 20, faultAfterMs: 0, faultForMs: 1_000 });
    console.info(`[measure]\n${formatTrials([result])}`);
    expect(result.couponsOverIssued).toBe(0);
    expect(result.couponsIssued).toBe(result.couponQuantity);
    expect(result.unfinished).toBe(0);
    expect(result.audit.checks.filter((c) => c.violations > 0)).toEqual([]);
  },
  TIMEOUT_MS,
);
