import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { costCells, startCostMeter, type CostsPerOperation } from "./cpu-usage.ts";

export interface LoadResult extends CostsPerOperation {
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

export interface LoadOptions {
  scenario: string;
  url: string;
  connections?: number;
  durationSeconds?: number;
  /** Stop after this many requests instead of a duration. */
  amount?: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Varies each request (path, body, headers), e.g. a different user per request. */
  setupRequest?: (request: { path: string; method?: string; headers?: Record<string, string>; body?: string }) => {
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
  };
  /** Status codes that count as success besides 2xx (e.g. 409 sold out in a coupon rush). */
  expectedStatuses?: number[];
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const statuses: Record<number, number> = {};
  const costs = startCostMeter();
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections ?? 50,
        pipelining: 1,
        ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds ?? 10 }),
        method: options.method ?? "GET",
        headers: options.headers,
        body: options.body,
        requests: options.setupRequest ? [{ setupRequest: options.setupRequest as never }] : undefined,
      },
      (error, result) => (error ? reject(error as Error) : resolve(result)),
    );
  });
  instance.on("response", (_client: unknown, statusCode: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await finished;
  const expected = new Set(options.expectedStatuses ?? []);
  const unexpected = Object.entries(statuses)
    .filter(([s]) => !(Number(s) >= 200 && Number(s) < 300) && !expected.has(Number(s)))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    scenario: options.scenario,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: unexpected,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
    ...costs.per(result.requests.total),
  };
}

/** A bare node:http server in its own process answering a small JSON: the yardstick for every ratio. */
export async function startBaseline(): Promise<{ url: string; stop(): void }> {
  const child = fork(fileURLToPath(new URL("./baseline-server.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve) => child.once("message", (m) => resolve((m as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
}

export function report(baseline: LoadResult, results: LoadResult[]): string {
  const rows = [baseline, ...results].map((r) => ({
    scenario: r.scenario,
    "req/s": r.requestsPerSecond,
    "× bare node": (r.requestsPerSecond / baseline.requestsPerSecond).toFixed(3),
    "p50 ms": r.p50Ms,
    "p99 ms": r.p99Ms,
    unexpected: r.non2xx + r.errors,
    requests: r.total,
    ...costCells(r),
  }));
  const headers = Object.keys(rows[0]!);
  const width = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h as keyof typeof r]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join("  ");
  return [line(headers), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(headers.map((h) => String(r[h as keyof typeof r]))))].join("\n");
}
