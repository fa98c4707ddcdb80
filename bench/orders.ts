// Order sagas through the gateway: each request places an order with `Prefer: wait=10`, so its
// latency is placement → COMPLETED (the answer comes when the saga has ended).
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { signToken } from "@shop/testing";
import type { LoadResult } from "./harness.ts";

interface Setup {
  productId: string;
  users: string[];
  admin: string;
}

async function setUp(gatewayUrl: string, userCount: number): Promise<Setup> {
  const admin = await signToken({ sub: "bench-admin", roles: ["admin"] });
  const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
  const product = (await (await fetch(`${gatewayUrl}/api/v1/admin/products`, { method: "POST", headers, body: JSON.stringify({ name: `bench ${randomUUID().slice(0, 6)}`, price: 1_000, stock: 1_000_000 }) })).json()) as { id: string };
  const users = Array.from({ length: userCount }, (_, i) => `bench-order-${randomUUID().slice(0, 6)}-${i}`);
  for (const userId of users) {
    const response = await fetch(`${gatewayUrl}/api/v1/users/${userId}/balance/charges`, { method: "POST", headers, body: JSON.stringify({ amount: 10_000_000 }) });
    if (response.status !== 201) throw new Error(`charge failed: ${response.status}`);
  }
  return { productId: product.id, users, admin };
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function placeOrder(gatewayUrl: string, setup: Setup, n: number): Promise<{ ms: number; completed: boolean }> {
  const userId = setup.users[n % setup.users.length]!;
  const body = JSON.stringify({ items: [{ productId: setup.productId, quantity: 1 }] });
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${gatewayUrl}/api/v1/users/${userId}/orders`, {
      method: "POST",
      agent,
      headers: { authorization: `Bearer ${setup.admin}`, "content-type": "application/json", "idempotency-key": randomUUID(), prefer: "wait=10", "content-length": Buffer.byteLength(body) },
    }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => {
        const completed = res.statusCode === 201 && (JSON.parse(text) as { status: string }).status === "COMPLETED";
        resolve({ ms: performance.now() - started, completed });
      });
    });
    req.on("error", () => resolve({ ms: performance.now() - started, completed: false }));
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function summarize(scenario: string, results: { ms: number; completed: boolean }[], seconds: number): LoadResult {
  const completed = results.filter((r) => r.completed).map((r) => r.ms).sort((a, b) => a - b);
  return {
    scenario,
    requestsPerSecond: Math.round(completed.length / seconds),
    p50Ms: Math.round(percentile(completed, 50)),
    p99Ms: Math.round(percentile(completed, 99)),
    non2xx: results.length - completed.length,
    errors: 0,
    total: results.length,
  };
}

/** Closed loop: `concurrency` clients place orders back to back; completed sagas per second. */
async function atMaximum(gatewayUrl: string, setup: Setup, seconds: number, concurrency: number): Promise<LoadResult> {
  const results: { ms: number; completed: boolean }[] = [];
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) results.push(await placeOrder(gatewayUrl, setup, n++));
    }),
  );
  return summarize(`orders at the maximum (${concurrency} clients): completed sagas/s`, results, (performance.now() - started) / 1000);
}

/** Open loop: one placement every 1/rate s whatever the answers; latency placement → COMPLETED. */
async function atRate(gatewayUrl: string, setup: Setup, seconds: number, rate: number): Promise<LoadResult> {
  const pending: Promise<{ ms: number; completed: boolean }>[] = [];
  const started = performance.now();
  for (let i = 0; i < seconds * rate; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(placeOrder(gatewayUrl, setup, i));
  }
  return summarize(`orders at a steady ${rate}/s: completed sagas/s`, await Promise.all(pending), seconds);
}

export async function run(gatewayUrl: string, options: { seconds: number; connections: number }): Promise<LoadResult[]> {
  const setup = await setUp(gatewayUrl, 200);
  const maximum = await atMaximum(gatewayUrl, setup, options.seconds, Math.max(options.connections, 100));
  const steadyRate = Math.max(10, Math.floor(maximum.requestsPerSecond / 2));
  const steady = await atRate(gatewayUrl, setup, options.seconds, steadyRate);
  return [maximum, steady];
}
