// Orders measured from outside, as a client and a data team see them: orders are placed through
// the gateway (202, no waiting), and completion is watched on `order.completed.v1` (its key is the
// order id). Reported: placement/s, completed orders/s, placement → COMPLETED latency, and how
// orders that did not complete ended (refused with 503, FAILED by code, still pending).
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { Kafka, logLevel } from "kafkajs";
import { topicOf } from "@shop/events";
import { signToken } from "@shop/testing";
import { startCostMeter, type CostsPerOperation } from "./cpu-usage.ts";

interface Setup {
  productId: string;
  users: string[];
  /** One token per user: a distinct user per client, as in a sale. */
  tokens: Map<string, string>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

function call(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method, agent, headers: { ...headers, ...(body ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(body);
  });
}

async function setUp(gatewayUrl: string, userCount: number): Promise<Setup> {
  const admin = `Bearer ${await signToken({ sub: "bench-admin", roles: ["admin"] })}`;
  const created = await call(
    `${gatewayUrl}/api/v1/admin/products`,
    "POST",
    { authorization: admin },
    JSON.stringify({ name: `bench ${randomUUID().slice(0, 6)}`, price: 1_000, stock: 1_000_000 }),
  );
  const productId = (JSON.parse(created.text) as { id: string }).id;
  const users = Array.from({ length: userCount }, (_, i) => `bench-order-${randomUUID().slice(0, 6)}-${i}`);
  const tokens = new Map<string, string>();
  for (let i = 0; i < users.length; i += 50) {
    await Promise.all(
      users.slice(i, i + 50).map(async (userId) => {
        tokens.set(userId, `Bearer ${await signToken({ sub: userId, expiresIn: "1h" })}`);
        const charged = await call(
          `${gatewayUrl}/api/v1/users/${userId}/balance/charges`,
          "POST",
          { authorization: admin },
          JSON.stringify({ amount: 10_000_000 }),
        );
        if (charged.status !== 201) throw new Error(`charge failed: ${charged.status} ${charged.text}`);
      }),
    );
  }
  return { productId, users, tokens };
}

/** Arrival time of each order's first record on `order.completed.v1`. */
async function watchCompletions(brokers: string[], topicPrefix: string): Promise<{ completedAt: Map<string, number>; stop(): Promise<void> }> {
  const kafka = new Kafka({ clientId: "bench-orders", brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-orders-${randomUUID()}`, maxWaitTimeInMs: 50 });
  const completedAt = new Map<string, number>();
  await consumer.connect();
  await consumer.subscribe({ topic: topicOf("OrderCompleted", topicPrefix), fromBeginning: false });
  const assigned = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    // A group of its own for this run: nothing to resume from, so no offsets to commit (each commit loads the broker).
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const orderId = message.key?.toString();
      if (orderId && !completedAt.has(orderId)) completedAt.set(orderId, performance.now());
    },
  });
  await assigned;
  return { completedAt, stop: () => consumer.disconnect() };
}

interface Placement {
  /** Which placement of the run it was: order n is placed for user n % users. */
  index: number;
  orderId?: string;
  status: number;
  placedAt: number;
  answeredAt: number;
}

function place(gatewayUrl: string, setup: Setup, index: number): Promise<Placement> {
  const userId = setup.users[index % setup.users.length]!;
  const placedAt = performance.now();
  return call(
    `${gatewayUrl}/api/v1/users/${userId}/orders`,
    "POST",
    { authorization: setup.tokens.get(userId)!, "idempotency-key": randomUUID() },
    JSON.stringify({ items: [{ productId: setup.productId, quantity: 1 }] }),
  ).then(({ status, text }) => ({
    index,
    status,
    placedAt,
    answeredAt: performance.now(),
    orderId: status === 202 ? (JSON.parse(text) as { orderId: string }).orderId : undefined,
  }));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OrderRunResult {
  scenario: string;
  placed: number;
  refused: number;
  placementPerSecond: number;
  completed: number;
  completedPerSecond: number;
  /** Request → answer of POST /orders (202 or a refusal). */
  placementP50Ms: number;
  placementP99Ms: number;
  completionP50Ms: number;
  completionP99Ms: number;
  /** Orders that did not complete, by how they ended (FAILED:<code>, PENDING, or the placement's HTTP status). */
  notCompleted: Record<string, number>;
  /** CPU and write calls per completed order, by process group, from the first placement until the saga settled. */
  costsPerCompletedOrder: CostsPerOperation;
}

/** After the load: waits for the saga to settle (at most the saga deadline plus a margin), then counts. */
async function settle(
  gatewayUrl: string,
  setup: Setup,
  scenario: string,
  placements: Placement[],
  completedAt: Map<string, number>,
  loadSeconds: number,
  costs: ReturnType<typeof startCostMeter>,
): Promise<OrderRunResult> {
  const accepted = placements.filter((p) => p.orderId);
  const deadline = performance.now() + 40_000;
  while (performance.now() < deadline && accepted.some((p) => !completedAt.has(p.orderId!))) await sleep(250);
  const answerTimes = placements.map((p) => p.answeredAt - p.placedAt).sort((a, b) => a - b);
  const latencies = accepted
    .filter((p) => completedAt.has(p.orderId!))
    .map((p) => completedAt.get(p.orderId!)! - p.placedAt)
    .sort((a, b) => a - b);
  const costsPerCompletedOrder = costs.per(latencies.length);
  const firstPlaced = Math.min(...placements.map((p) => p.placedAt));
  const lastCompleted = Math.max(...accepted.map((p) => completedAt.get(p.orderId!) ?? 0));
  const notCompleted: Record<string, number> = {};
  for (const p of placements) if (!p.orderId) notCompleted[`HTTP ${p.status}`] = (notCompleted[`HTTP ${p.status}`] ?? 0) + 1;
  for (const p of accepted.filter((a) => !completedAt.has(a.orderId!))) {
    const state = await stateOf(gatewayUrl, setup, p);
    notCompleted[state] = (notCompleted[state] ?? 0) + 1;
  }
  return {
    scenario,
    placed: accepted.length,
    refused: placements.length - accepted.length,
    placementPerSecond: Math.round(accepted.length / loadSeconds),
    completed: latencies.length,
    completedPerSecond: latencies.length ? Math.round((latencies.length / (lastCompleted - firstPlaced)) * 1000) : 0,
    placementP50Ms: Math.round(percentile(answerTimes, 50)),
    placementP99Ms: Math.round(percentile(answerTimes, 99)),
    completionP50Ms: Math.round(percentile(latencies, 50)),
    completionP99Ms: Math.round(percentile(latencies, 99)),
    notCompleted,
    costsPerCompletedOrder,
  };
}

/** How an order that did not complete ended, read through the API: FAILED:<code>, PENDING, or COMPLETED (seen late). */
async function stateOf(gatewayUrl: string, setup: Setup, placement: Placement): Promise<string> {
  const userId = setup.users[placement.index % setup.users.length]!;
  const { status, text } = await call(`${gatewayUrl}/api/v1/users/${userId}/orders/${placement.orderId}`, "GET", { authorization: setup.tokens.get(userId)! });
  if (status !== 200) return `unreadable (${status})`;
  const order = JSON.parse(text) as { status: string; failureCode: string | null };
  return order.status === "FAILED" ? `FAILED:${order.failureCode}` : order.status;
}

/** Closed loop: `concurrency` clients place orders back to back for `seconds`. */
async function atConcurrency(
  gatewayUrl: string,
  setup: Setup,
  seconds: number,
  concurrency: number,
  completedAt: Map<string, number>,
): Promise<OrderRunResult> {
  const placements: Placement[] = [];
  const costs = startCostMeter();
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        placements.push(await place(gatewayUrl, setup, n++));
      }
    }),
  );
  return settle(gatewayUrl, setup, `orders, ${concurrency} clients placing back to back`, placements, completedAt, seconds, costs);
}

/** Open loop: one placement every 1/rate s whatever the answers. */
async function atRate(gatewayUrl: string, setup: Setup, seconds: number, rate: number, completedAt: Map<string, number>): Promise<OrderRunResult> {
  const pending: Promise<Placement>[] = [];
  const costs = startCostMeter();
  const started = performance.now();
  for (let index = 0; index < seconds * rate; index++) {
    const wait = started + (index * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(place(gatewayUrl, setup, index));
  }
  return settle(gatewayUrl, setup, `orders at a steady ${rate}/s`, await Promise.all(pending), completedAt, seconds, costs);
}

export function formatOrderResults(results: OrderRunResult[]): string {
  const lines = results.map((r) =>
    [
      r.scenario.padEnd(44),
      String(r.placementPerSecond).padStart(11),
      `${r.placementP50Ms}/${r.placementP99Ms}`.padStart(12),
      String(r.completedPerSecond).padStart(11),
      String(r.completionP50Ms).padStart(6),
      String(r.completionP99Ms).padStart(6),
      `${r.placed}/${r.placed + r.refused}`.padStart(12),
      JSON.stringify(r.notCompleted),
    ].join("  "),
  );
  const cpu = results.map((r) => {
    const { cpuMicrosPerRequest: cpu, writesPerRequest: writes } = r.costsPerCompletedOrder;
    const totalMs = cpu.reduce((sum, row) => sum + row.micros, 0) / 1000;
    const totalWrites = writes.reduce((sum, row) => sum + row.writes, 0);
    return [
      `${r.scenario}: CPU per completed order ${totalMs.toFixed(1)} ms (${cpu.map((row) => `${row.group} ${(row.micros / 1000).toFixed(2)}`).join(", ")})`,
      `  write calls per completed order ${totalWrites.toFixed(0)} (${writes
        .filter((row) => row.writes >= 0.5)
        .map((row) => `${row.group} ${row.writes.toFixed(1)}`)
        .join(", ")})`,
    ].join("\n");
  });
  return [
    ["scenario".padEnd(44), "placement/s", "answer p50/p99", "completed/s", "p50 ms", "p99 ms", "accepted/all", "not completed"].join("  "),
    ...lines,
    "",
    ...cpu,
  ].join("\n");
}

export async function run(gatewayUrl: string, options: { seconds: number }): Promise<{ orders: OrderRunResult[] }> {
  const concurrency = Number(process.env.BENCH_ORDER_CLIENTS ?? 64);
  const rate = Number(process.env.BENCH_ORDER_RATE ?? 100);
  const setup = await setUp(gatewayUrl, concurrency * 4);
  const watcher = await watchCompletions((process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","), process.env.TOPIC_PREFIX ?? "");
  try {
    // Unmeasured: a freshly started system spends its first minutes compiling (the JIT of every
    // Node process, and of the broker's JVM, whose compiler alone took 14 s of CPU in a first run).
    const warmUpSeconds = Number(process.env.BENCH_ORDER_WARMUP_SECONDS ?? 5);
    if (warmUpSeconds > 0) await atConcurrency(gatewayUrl, setup, warmUpSeconds, concurrency, watcher.completedAt);
    const maximum = await atConcurrency(gatewayUrl, setup, options.seconds, concurrency, watcher.completedAt);
    const steady = await atRate(gatewayUrl, setup, options.seconds, rate, watcher.completedAt);
    return { orders: [maximum, steady] };
  } finally {
    await watcher.stop();
  }
}
