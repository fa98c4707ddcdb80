// Chaos trials: orders flow through the gateway while one fault is injected into the system's own
// infrastructure (never the machine's shared servers), then every order must end and the audit
// must find no violated invariant.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AuditReport } from "@shop/audit";
import {
  startCuttableLink,
  startThrowawayKafka,
  startThrowawayPostgres,
  startThrowawayRedis,
  type CuttableLink,
  type ThrowawayKafka,
  type ThrowawayPostgres,
  type ThrowawayRedis,
} from "@shop/testing";
import { ApiClient } from "../support/api.ts";
import { auditSchemas } from "../support/audit.ts";
import { Shop, placeWithRetries } from "../support/fixtures.ts";
import { serviceNames, startTestSystem, type ServiceName, type TestSystem } from "../support/system.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const FAULT_KINDS = ["broker-kill", "postgres-kill", "registry-outage", "redis-wipe", ...serviceNames.map((s) => `kill-${s}` as const)] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A system on infrastructure of its own: PostgreSQL, Kafka and Redis that may be killed, and a cuttable link to the registry. */
export interface ChaosEnvironment {
  system: TestSystem;
  postgres: ThrowawayPostgres;
  kafka: ThrowawayKafka;
  redis: ThrowawayRedis;
  registry: CuttableLink;
  sagaTimeoutMs: number;
  stop(): Promise<void>;
}

export async function startChaosEnvironment(options: { sagaTimeoutMs?: number; registryUrl?: string } = {}): Promise<ChaosEnvironment> {
  const sagaTimeoutMs = options.sagaTimeoutMs ?? 30_000;
  const registryUrl = new URL(options.registryUrl ?? process.env.SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081/apis/ccompat/v7");
  const [postgres, kafka, redis, registry] = await Promise.all([
    startThrowawayPostgres(),
    startThrowawayKafka({ libsDir: process.env.KAFKA_LIBS ?? path.join(root, ".infra", "kafka", "libs") }),
    startThrowawayRedis(),
    startCuttableLink({ host: registryUrl.hostname, port: Number(registryUrl.port || 80) }),
  ]);
  const linkedRegistry = new URL(registryUrl);
  linkedRegistry.host = `127.0.0.1:${registry.port}`;
  const system = await startTestSystem({
    postgres: { host: postgres.host, port: postgres.port, user: postgres.user, password: "" },
    env: { KAFKA_BROKERS: kafka.brokers.join(","), REDIS_URL: redis.url, SCHEMA_REGISTRY_URL: linkedRegistry.toString(), RATE_LIMIT_ENABLED: "false" },
    perService: { order: { SAGA_TIMEOUT_MS: String(sagaTimeoutMs) } },
  });
  return {
    system,
    postgres,
    kafka,
    redis,
    registry,
    sagaTimeoutMs,
    stop: async () => {
      // Each trial audited its own orders already.
      await system.stop({ audit: false }).catch(() => undefined);
      await Promise.all([kafka.stop(), redis.stop(), registry.close()]);
      await postgres.stop();
    },
  };
}

export interface TrialOptions {
  orders: number;
  /** Orders placed per second. */
  rate: number;
  /** When the fault strikes, after the first placement. */
  faultAfterMs: number;
  /** How long the fault lasts (a killed server is restarted after it). */
  faultForMs: number;
}

export interface TrialResult {
  fault: FaultKind;
  orders: number;
  completed: number;
  failedByCode: Record<string, number>;
  /** Orders not final when the trial gave up on them (must be 0). */
  unfinished: number;
  /** Placement → final state. */
  p50Ms: number;
  p99Ms: number;
  /** From the fault's end (the server answering again) to the next completion; undefined when none completed after it. */
  resumedAfterMs?: number;
  /** How long the fault lasted, restart included. */
  faultMs: number;
  couponsOverIssued: number;
  /** Coupons of the trial's campaign issued, and how many it held (everyone asks, so all should go). */
  couponsIssued: number;
  couponQuantity: number;
  audit: AuditReport;
  seconds: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);

async function inject(env: ChaosEnvironment, fault: FaultKind, durationMs: number, during: () => Promise<void>): Promise<number> {
  const { system, postgres, kafka, redis, registry } = env;
  const downFor = async (kill: () => Promise<void>, restart: () => Promise<void>) => {
    await kill();
    await sleep(durationMs);
    await restart();
  };
  const work = during();
  const faulting = (async () => {
    // Let the work under test get going, so the fault lands in the middle of it.
    await sleep(50);
    switch (fault) {
      case "broker-kill":
        return downFor(
          () => kafka.kill(),
          () => kafka.restart(),
        );
      case "postgres-kill":
        return downFor(
          () => postgres.kill(),
          () => postgres.restart(),
        );
      case "registry-outage":
        return downFor(
          async () => registry.cut(),
          async () => registry.heal(),
        );
      case "redis-wipe":
        // The cache and the coupon stock counters vanish at once, as after an eviction or a failover.
        return downFor(
          () => redis.kill(),
          () => redis.restart(),
        );
      default:
        return downFor(
          () => system.kill(fault.slice("kill-".length) as ServiceName),
          () => system.restart(fault.slice("kill-".length) as ServiceName),
        );
    }
  })();
  await faulting;
  const ended = Date.now();
  await work;
  return ended;
}

/**
 * One trial: a product, a coupon campaign and users with money; `orders` placements at `rate`
 * per second (a third of them with a coupon), the fault injected meanwhile; then every order must
 * reach COMPLETED or FAILED, and the audit runs over the system's data.
 */
export async function runTrial(env: ChaosEnvironment, fault: FaultKind, options: TrialOptions): Promise<TrialResult> {
  const started = Date.now();
  const { system } = env;
  const shop = await Shop.at(system.gatewayUrl);
  const product = await shop.product({ price: 1_000, stock: options.orders * 2 });
  const userCount = Math.max(1, Math.ceil(options.orders / 5));
  const users = await Promise.all(Array.from({ length: userCount }, () => ApiClient.as(system.gatewayUrl)));
  await Promise.all(
    users.map(async (u) => {
      const charged = await u.charge(1_000_000);
      if (charged.status !== 201) throw new Error(`charge failed: ${charged.status}`);
    }),
  );
  // The campaign holds fewer coupons than users: the rush must sell out exactly, even when Redis is wiped.
  const couponQuantity = Math.max(1, Math.floor(userCount / 2));
  const couponId = await shop.percentCoupon(10, couponQuantity);
  // Every user asks until answered for good (201, or a 4xx such as sold out): requests refused
  // while a dependency is away (503) are asked again, as a client would. During a Redis fault the
  // requests are spread over the outage, so some are admitted before it and some after.
  const couponRush = async (spreadMs: number) => {
    const askUntilAnswered = async (u: ApiClient, index: number) => {
      await sleep(index * spreadMs);
      const giveUpAt = Date.now() + 30_000;
      for (;;) {
        const response = await u.post(`/users/${u.userId}/coupons`, { couponId }).catch(() => undefined);
        if (response?.status === 201) return u;
        if ((response && response.status >= 400 && response.status < 500) || Date.now() > giveUpAt) return undefined;
        await sleep(100);
      }
    };
    const issued = await Promise.all(users.map(askUntilAnswered));
    return new Set(issued.filter(Boolean).map((u) => u!.userId));
  };
  const couponsOf = async (u: ApiClient) =>
    ((await u.get<{ items: { userCouponId: string; couponId: string; status: string }[] }>(`/users/${u.userId}/coupons`)).body?.items ?? []).filter(
      (c) => c.couponId === couponId,
    );

  type Placed = { user: ApiClient; orderId: string; placedAt: number };
  const placed: Placed[] = [];
  const giveUpAt = started + 120_000;
  let rushHolders = new Set<string>();
  const placing = async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < options.orders; i++) {
      const user = users[i % users.length]!;
      const withCoupon = i % 3 === 0 && rushHolders.has(user.userId);
      pending.push(
        (async () => {
          const coupon = withCoupon ? (await couponsOf(user)).find((c) => c.status === "AVAILABLE")?.userCouponId : undefined;
          const placedAt = Date.now();
          const response = await placeWithRetries(user, product.id, { userCouponId: coupon, giveUpAfterMs: giveUpAt - Date.now(), pauseMs: 300 }).catch(
            () => undefined,
          );
          if (response) placed.push({ user, orderId: (response.body as { orderId: string }).orderId, placedAt });
        })(),
      );
      await sleep(1_000 / options.rate);
    }
    await Promise.all(pending);
  };

  let faultStartedAt = 0;
  let faultEndedAt = 0;
  const faultTimer = (async () => {
    await sleep(options.faultAfterMs);
    faultStartedAt = Date.now();
    faultEndedAt = await inject(env, fault, options.faultForMs, async () => {
      if (fault === "redis-wipe") rushHolders = await couponRush(40);
    });
  })();
  if (fault !== "redis-wipe") rushHolders = await couponRush(0);
  await Promise.all([placing(), faultTimer]);

  // Every order must end: the deadline (plus the sweeper's slack) is the longest any may take.
  const finals = new Map<string, { status: string; failureCode?: string; at: number }>();
  const endBy = Date.now() + env.sagaTimeoutMs + 30_000;
  while (finals.size < placed.length && Date.now() < endBy) {
    await Promise.all(
      placed
        .filter((p) => !finals.has(p.orderId))
        .map(async (p) => {
          const response = await p.user
            .get<{ status: string; failureCode?: string; updatedAt: string }>(`/users/${p.user.userId}/orders/${p.orderId}`)
            .catch(() => undefined);
          // updatedAt of a final order is when it became final (the services share this machine's clock).
          if (response?.status === 200 && response.body.status !== "PENDING")
            finals.set(p.orderId, { ...response.body, at: Date.parse(response.body.updatedAt) });
        }),
    );
    await sleep(250);
  }

  const failedByCode: Record<string, number> = {};
  let completed = 0;
  let firstCompletionAfterFault: number | undefined;
  const latencies: number[] = [];
  for (const p of placed) {
    const final = finals.get(p.orderId);
    if (!final) continue;
    latencies.push(final.at - p.placedAt);
    if (final.status === "COMPLETED") {
      completed++;
      if (final.at >= faultEndedAt) firstCompletionAfterFault = Math.min(firstCompletionAfterFault ?? Infinity, final.at);
    } else failedByCode[final.failureCode ?? final.status] = (failedByCode[final.failureCode ?? final.status] ?? 0) + 1;
  }
  latencies.sort((a, b) => a - b);
  const issued = (await Promise.all(users.map(couponsOf))).flat().length;
  return {
    fault,
    orders: placed.length,
    completed,
    failedByCode,
    unfinished: placed.length - finals.size,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    resumedAfterMs: firstCompletionAfterFault === undefined ? undefined : Math.max(0, firstCompletionAfterFault - faultEndedAt),
    faultMs: faultEndedAt - faultStartedAt,
    couponsOverIssued: Math.max(0, issued - couponQuantity),
    couponsIssued: issued,
    couponQuantity,
    audit: await auditSchemas(env.system.schemas),
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

export function formatTrials(results: TrialResult[]): string {
  const header =
    "| trial | fault | fault lasted s | orders | completed | failed by code | unfinished | p50 / p99 placement → final ms | first completion after the fault ms | coupons over-issued | invariant violations | trial s |";
  const rows = results.map((r, i) => {
    const failed =
      Object.entries(r.failedByCode)
        .map(([code, n]) => `${code} ${n}`)
        .join(", ") || "—";
    return `| ${i + 1} | ${r.fault} | ${(r.faultMs / 1000).toFixed(1)} | ${r.orders} | ${r.completed} | ${failed} | ${r.unfinished} | ${r.p50Ms} / ${r.p99Ms} | ${r.resumedAfterMs ?? "—"} | ${r.couponsOverIssued} | ${r.audit.violations} | ${r.seconds} |`;
  });
  const total = results.reduce(
    (t, r) => ({
      orders: t.orders + r.orders,
      completed: t.completed + r.completed,
      violations: t.violations + r.audit.violations + r.unfinished + r.couponsOverIssued,
    }),
    { orders: 0, completed: 0, violations: 0 },
  );
  return [
    header,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    `\n${results.length} trials, ${total.orders} orders, ${total.completed} completed, ${total.violations} invariant violations (audit + unfinished orders + over-issued coupons)`,
  ].join("\n");
}
