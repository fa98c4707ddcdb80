// Benchmarks through the gateway of a running system (scripts/bench.mjs starts it), each reported
// as a ratio to a bare Node HTTP server measured in the same run on the same machine.
import { randomUUID } from "node:crypto";
import { signToken } from "@shop/testing";
import { load, report, startBaseline, type LoadResult } from "./harness.ts";

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const only = process.env.BENCH_ONLY?.split(",");
const wanted = (name: string) => !only || only.some((o) => name.startsWith(o));

const baselineServer = await startBaseline();
const baseline = await load({ scenario: "bare node:http (baseline)", url: baselineServer.url, durationSeconds: seconds, connections });
baselineServer.stop();

const results: LoadResult[] = [];
const userId = `bench-${randomUUID().slice(0, 8)}`;
const userToken = await signToken({ sub: userId });
const auth = { authorization: `Bearer ${userToken}`, "content-type": "application/json" };

if (wanted("gateway")) {
  results.push(await load({ scenario: "gateway /healthz (no upstream)", url: `${gateway}/healthz`, durationSeconds: seconds, connections }));
}
if (wanted("wallet")) {
  results.push(
    await load({
      scenario: "GET balance (gateway → wallet)",
      url: `${gateway}/api/v1/users/${userId}/balance`,
      headers: auth,
      durationSeconds: seconds,
      connections,
    }),
  );
  // Spread over many users (as an admin may act on any) so that one user's write limit, row lock
  // or batch is not what is measured.
  const admin = await signToken({ sub: "bench-admin", roles: ["admin"] });
  const overUsers = (scenario: string, request: (user: string) => { path: string; method?: string; body?: string }) => {
    let n = 0;
    return load({
      scenario,
      url: gateway,
      durationSeconds: seconds,
      connections,
      setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, ...request(`bench-${n++ % 1000}`) }),
    });
  };
  results.push(await overUsers("GET balance (gateway → wallet, 1000 users)", (user) => ({ path: `/api/v1/users/${user}/balance` })));
  results.push(
    await overUsers("POST charge (gateway → wallet, 1000 users)", (user) => ({
      method: "POST",
      path: `/api/v1/users/${user}/balance/charges`,
      body: JSON.stringify({ amount: 1 }),
    })),
  );
}

if (wanted("catalog")) {
  const listing = (await (await fetch(`${gateway}/api/v1/products?limit=1`)).json()) as { items: { id: string }[] };
  const productId = listing.items[0]?.id;
  if (!productId) throw new Error("no product to read: the catalog has no data (start seeds a demo catalog)");
  // Anonymous, as most shoppers browse: answered from the gateway's response cache (RESPONSE_CACHE_TTL_MS).
  results.push(await load({ scenario: "GET product (gateway cache)", url: `${gateway}/api/v1/products/${productId}`, durationSeconds: seconds, connections }));
  // With a token the gateway never answers from its cache: the hop to the catalog (and its Redis cache).
  results.push(
    await load({
      scenario: "GET product, signed in (gateway → catalog)",
      url: `${gateway}/api/v1/products/${productId}`,
      headers: { authorization: auth.authorization },
      durationSeconds: seconds,
      connections,
    }),
  );
  results.push(await load({ scenario: "GET top sellers (gateway → catalog)", url: `${gateway}/api/v1/products/top`, durationSeconds: seconds, connections }));
}

if (wanted("coupon")) {
  const { run } = await import("../services/coupon/bench/coupon-rush.ts");
  results.push(...(await run(gateway, { seconds, connections })));
}
let orderReport = "";
if (wanted("orders")) {
  const { run, formatOrderResults } = await import("./orders.ts");
  orderReport = formatOrderResults((await run(gateway, { seconds })).orders);
}

console.log(`\n${report(baseline, results)}\n`);
if (orderReport)
  console.log(
    `${orderReport}\n(placement/s: accepted orders per second of load; answer p50/p99: POST /orders request → 202 (or refusal), ms; completed/s: completions on order.completed.v1 per second from the first placement to the last completion; p50/p99: placement → completion seen on the topic)\n`,
  );
console.log(`(${seconds} s per scenario, ${connections} connections, autocannon in the same process as the orchestrator; everything on this machine)`);
