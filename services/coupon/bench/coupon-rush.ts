// Coupon rush benchmark: issue requests/s and latency of the coupon service (or of any URL in
// front of it, e.g. the gateway), next to a bare node:http server on the same machine in the same
// run, so the numbers can be read relative to what this machine can do at all.
//
//   npx tsx services/coupon/bench/coupon-rush.ts                    # spawns its own coupon service
//   npx tsx services/coupon/bench/coupon-rush.ts --url http://127.0.0.1:8080 --header "authorization: Bearer <admin token>"
//   options: --duration 10 --connections 50 --warmup 3 --no-bare
// The root bench (bench/main.ts) can load it with BENCH_EXTRA=<this file>: see `run` below.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { startCostMeter, type CostsPerOperation } from "../../../bench/cpu-usage.ts";

const serviceDir = fileURLToPath(new URL("..", import.meta.url));

export interface CouponRushOptions {
  /** A running coupon service or gateway. Without it, a coupon service is started for the run. */
  baseUrl?: string;
  /** Sent with every request, e.g. an admin bearer token when going through the gateway. */
  headers?: Record<string, string>;
  durationSeconds?: number;
  warmupSeconds?: number;
  connections?: number;
  /** Also measure a bare node:http server answering a tiny JSON (default true). */
  compareWithBare?: boolean;
  log?: (line: string) => void;
}

export interface LoadResult extends CostsPerOperation {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  total: number;
  statuses: Record<string, number>;
  errors: number;
}

export interface CouponRushReport {
  /** Every request a new user of a large campaign: admission + group commit + PostgreSQL, all 201. */
  issue: LoadResult;
  /** A 1,000-coupon campaign rushed by fresh users: 1,000 201s, the rest 409 SOLD_OUT from Redis. */
  rush: LoadResult;
  /** GET /healthz of the same service: the cost of the shared HTTP stack without any I/O. */
  stack: LoadResult;
  bare?: LoadResult;
  /** issue requests/s divided by bare requests/s. */
  issueToBareRatio?: number;
  /** From the service's /metrics when reachable: group-commit sizes and durations, admission time. */
  breakdown?: Record<string, number>;
  /** CPU seconds the spawned service used per 1,000 issue requests (only when the bench started it). */
  serviceCpuMsPerIssue?: number;
  serviceCpuMsPerRushRequest?: number;
}

interface Spawned {
  process: ChildProcess;
  url: string;
}

/** Starts a script and resolves with the first URL it prints (pino's "url" field or a bare line). */
function spawnAndWaitForUrl(args: string[], env: Record<string, string | undefined>, cwd: string): Promise<Spawned> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, url: match[1]! });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
}

const BARE_SERVER = `
import http from "node:http";
const body = JSON.stringify({ ok: true });
const server = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume();
  req.on("end", () => { res.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }); res.end(body); });
});
server.listen(0, "127.0.0.1", () => console.log("http://127.0.0.1:" + server.address().port));`;

/** Runs a throwaway coupon service on a fresh schema, its own Redis DB and key prefix. */
async function startBenchService(log: (line: string) => void): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const { createTestSchema } = await import("@shop/testing");
  const { Redis } = await import("ioredis");
  const db = await createTestSchema({ migrationsDir: `${serviceDir}/prisma/migrations`, label: "bench" });
  const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/14";
  const keyPrefix = `bench-${randomBytes(3).toString("hex")}:`;
  const spawned = await spawnAndWaitForUrl(
    ["--import", "tsx", "src/main.ts"],
    // Service settings can be varied per run through the environment (e.g. REDIS_AUTO_PIPELINING=false).
    { DATABASE_URL: db.databaseUrl, PORT: "0", EVENTS_ENABLED: "false", REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix, LOG_LEVEL: "info", NODE_OPTIONS: "" },
    serviceDir,
  );
  log(`coupon service started at ${spawned.url} (pid ${spawned.process.pid}, schema ${db.schema})`);
  return {
    url: spawned.url,
    pid: spawned.process.pid!,
    stop: async () => {
      const exited = new Promise((resolve) => spawned.process.once("exit", resolve));
      spawned.process.kill("SIGTERM");
      await exited;
      const redis = new Redis(redisUrl);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
      await db.drop();
    },
  };
}

/** utime + stime of a process in milliseconds (Linux). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function toResult(label: string, { result: r, costs }: Fired): LoadResult {
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = Number((stat as { count: number | string }).count);
  return {
    label,
    requestsPerSecond: Math.round(r.requests.total / (r.duration || 1)),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    total: r.requests.total,
    statuses,
    errors: r.errors + r.timeouts,
    ...costs,
  };
}

interface Fired {
  result: autocannon.Result;
  costs: CostsPerOperation;
}

async function fire(options: autocannon.Options): Promise<Fired> {
  const meter = startCostMeter();
  const result = await autocannon(options);
  return { result, costs: meter.per(result.requests.total) };
}

/** Unique user per request: `bench-<run>-<n>`, across all connections. */
function issueRequests(couponId: string, run: string): autocannon.Request[] {
  let n = 0;
  const body = JSON.stringify({ couponId });
  return [
    {
      method: "POST",
      path: "/",
      body,
      setupRequest: (request: autocannon.Request) => ({ ...request, path: `/api/v1/users/bench-${run}-${n++}/coupons` }),
    },
  ];
}

async function createCampaign(baseUrl: string, headers: Record<string, string>, totalQuantity: number): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/admin/coupons`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ name: `bench ${totalQuantity}`, discountType: "PERCENT", discountValue: 10, totalQuantity, validForDays: 1 }),
  });
  if (response.status !== 201) throw new Error(`campaign not created: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** Reads histogram sums and counts of the coupon metrics from /metrics. */
async function scrapeBreakdown(baseUrl: string): Promise<Record<string, number> | undefined> {
  try {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const value = (pattern: RegExp) =>
      text
        .split("\n")
        .filter((l) => pattern.test(l))
        .reduce((s, l) => s + Number(l.split(" ").pop()), 0);
    const batches = value(/^coupon_issue_batch_size_count /);
    const issued = value(/^coupon_issue_batch_size_sum /);
    const batchSeconds = value(/^coupon_issue_batch_seconds_sum\{/);
    const admissions = value(/^coupon_admission_seconds_count\{/);
    const admissionSeconds = value(/^coupon_admission_seconds_sum\{/);
    const httpCount = value(/^http_request_duration_seconds_count\{.*route="\/api\/v1\/users\/:userId\/coupons"/);
    const httpSeconds = value(/^http_request_duration_seconds_sum\{.*route="\/api\/v1\/users\/:userId\/coupons"/);
    if (!batches) return undefined;
    const gauge = (name: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${name} `))
          ?.split(" ")
          .pop() ?? Number.NaN,
      );
    return {
      // Event-loop delay since the previous scrape (prom-client resets it on every collection). Its
      // monitor samples with a 10 ms timer, and an idle loop reads 10 ms: that is subtracted.
      eventLoopLagMeanMs: Math.max(0, Math.round((gauge("nodejs_eventloop_lag_mean_seconds") * 1000 - 10) * 100) / 100),
      eventLoopLagP99Ms: Math.max(0, Math.round((gauge("nodejs_eventloop_lag_p99_seconds") * 1000 - 10) * 100) / 100),
      groupCommits: batches,
      meanBatchSize: Math.round((issued / batches) * 10) / 10,
      meanBatchMs: Math.round((batchSeconds / batches) * 1000 * 100) / 100,
      meanAdmissionMs: Math.round((admissionSeconds / admissions) * 1000 * 1000) / 1000,
      meanServerSideIssueMs: httpCount ? Math.round((httpSeconds / httpCount) * 1000 * 100) / 100 : 0,
    };
  } catch {
    return undefined;
  }
}

export async function runCouponRush(options: CouponRushOptions = {}): Promise<CouponRushReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const duration = options.durationSeconds ?? 10;
  const warmup = options.warmupSeconds ?? 3;
  const connections = options.connections ?? 50;
  const headers = { "content-type": "application/json", ...(options.headers ?? {}) };
  const service = options.baseUrl ? undefined : await startBenchService(log);
  const baseUrl = (options.baseUrl ?? service!.url).replace(/\/$/, "");
  let bareServer: Spawned | undefined;
  try {
    const run = randomBytes(3).toString("hex");
    // 1. Sustained issuing: a campaign that cannot sell out, so every request is a real issue.
    const bigCampaign = await createCampaign(baseUrl, headers, 1_000_000);
    log(`warming up for ${warmup} s…`);
    await fire({ url: baseUrl, connections, duration: warmup, headers, requests: issueRequests(bigCampaign, `${run}w`) });
    const before = await scrapeBreakdown(baseUrl);
    const cpuBefore = service ? cpuMsOf(service.pid) : undefined;
    log(`issue: ${connections} connections for ${duration} s…`);
    const issue = toResult(
      "issue (every request a new coupon)",
      await fire({ url: baseUrl, connections, duration, headers, requests: issueRequests(bigCampaign, run) }),
    );
    const cpuAfter = service ? cpuMsOf(service.pid) : undefined;
    const after = await scrapeBreakdown(baseUrl);

    // 2. The rush: 1,000 coupons, far more users; after the first 1,000 every answer is SOLD_OUT.
    const rushCampaign = await createCampaign(baseUrl, headers, 1_000);
    log(`rush: 1,000 coupons, ${connections} connections for ${duration} s…`);
    const rushCpuBefore = service ? cpuMsOf(service.pid) : undefined;
    const rush = toResult(
      "rush (1,000 coupons, then SOLD_OUT)",
      await fire({ url: baseUrl, connections, duration, headers, requests: issueRequests(rushCampaign, `${run}r`) }),
    );
    const rushCpuAfter = service ? cpuMsOf(service.pid) : undefined;

    // 3. The shared http-kit stack alone (express, tracing, metrics) on the same service: no I/O.
    log(`service GET /healthz: ${connections} connections for ${duration} s…`);
    const stack = toResult("service GET /healthz (http-kit, no I/O)", await fire({ url: `${baseUrl}/healthz`, connections, duration, headers }));

    // 4. The machine's ceiling for HTTP in Node on the same cores, same client, same run.
    let bare: LoadResult | undefined;
    if (options.compareWithBare ?? true) {
      bareServer = await spawnAndWaitForUrl(["--input-type=module", "-e", BARE_SERVER], {}, serviceDir);
      await fire({ url: bareServer.url, connections, duration: warmup, method: "POST", headers, body: "{}" });
      log(`bare node:http: ${connections} connections for ${duration} s…`);
      bare = toResult("bare node:http tiny JSON", await fire({ url: bareServer.url, connections, duration, method: "POST", headers, body: "{}" }));
    }

    const breakdown =
      before && after
        ? {
            groupCommits: after.groupCommits! - before.groupCommits!,
            meanBatchSize:
              Math.round(
                ((after.meanBatchSize! * after.groupCommits! - before.meanBatchSize! * before.groupCommits!) / (after.groupCommits! - before.groupCommits!)) *
                  10,
              ) / 10,
            meanBatchMs: after.meanBatchMs!,
            meanAdmissionMs: after.meanAdmissionMs!,
            meanServerSideIssueMs: after.meanServerSideIssueMs!,
            eventLoopLagMeanMs: after.eventLoopLagMeanMs!,
            eventLoopLagP99Ms: after.eventLoopLagP99Ms!,
          }
        : after;
    const report: CouponRushReport = {
      issue,
      rush,
      stack,
      bare,
      issueToBareRatio: bare ? Math.round((issue.requestsPerSecond / bare.requestsPerSecond) * 1000) / 1000 : undefined,
      breakdown,
      serviceCpuMsPerIssue:
        cpuBefore !== undefined && cpuAfter !== undefined && issue.total ? Math.round(((cpuAfter - cpuBefore) / issue.total) * 1000) / 1000 : undefined,
      serviceCpuMsPerRushRequest:
        rushCpuBefore !== undefined && rushCpuAfter !== undefined && rush.total
          ? Math.round(((rushCpuAfter - rushCpuBefore) / rush.total) * 1000) / 1000
          : undefined,
    };
    printReport(report, log);
    return report;
  } finally {
    bareServer?.process.kill("SIGTERM");
    await service?.stop();
  }
}

function printReport(report: CouponRushReport, log: (line: string) => void): void {
  const row = (r: LoadResult) =>
    `${r.label.padEnd(38)} ${String(r.requestsPerSecond).padStart(7)} req/s   p50 ${String(r.p50Ms).padStart(4)} ms   p99 ${String(r.p99Ms).padStart(4)} ms   max ${String(r.maxMs).padStart(5)} ms   ${JSON.stringify(r.statuses)}${r.errors ? `  errors ${r.errors}` : ""}`;
  log("");
  log(row(report.issue));
  log(row(report.rush));
  log(row(report.stack));
  if (report.bare) log(row(report.bare));
  if (report.issueToBareRatio !== undefined) log(`issue / bare = ${report.issueToBareRatio}`);
  if (report.breakdown) log(`where the time goes (service metrics): ${JSON.stringify(report.breakdown)}`);
  if (report.serviceCpuMsPerIssue !== undefined)
    log(`service CPU per request: issue ${report.serviceCpuMsPerIssue} ms, rush ${report.serviceCpuMsPerRushRequest} ms`);
}

/**
 * Entry point for the root benchmark (bench/main.ts, `BENCH_EXTRA=services/coupon/bench/coupon-rush.ts`):
 * issues through the gateway with an admin token (admins may act on any user, so every request
 * can be a new user without one token each), and reports in the root harness's shape.
 */
export async function run(gatewayUrl: string, options: { seconds: number; connections: number }) {
  const { signToken } = await import("@shop/testing");
  const admin = await signToken({ sub: "bench-admin", roles: ["admin"] });
  const report = await runCouponRush({
    baseUrl: gatewayUrl,
    headers: { authorization: `Bearer ${admin}` },
    durationSeconds: options.seconds,
    connections: options.connections,
    compareWithBare: false,
  });
  const shaped = (scenario: string, r: LoadResult, expected: string[]) => ({
    scenario,
    requestsPerSecond: r.requestsPerSecond,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    non2xx: Object.entries(r.statuses)
      .filter(([code]) => !code.startsWith("2") && !expected.includes(code))
      .reduce((sum, [, n]) => sum + n, 0),
    errors: r.errors,
    total: r.total,
    cpuMicrosPerRequest: r.cpuMicrosPerRequest,
    writesPerRequest: r.writesPerRequest,
  });
  return [
    shaped("POST issue coupon (gateway → coupon, new user each)", report.issue, []),
    shaped("coupon rush 1,000 (gateway → coupon, then 409)", report.rush, ["409"]),
  ];
}

function parseArgs(argv: string[]): CouponRushOptions {
  const options: CouponRushOptions = { headers: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (arg === "--url") options.baseUrl = next();
    else if (arg === "--duration") options.durationSeconds = Number(next());
    else if (arg === "--warmup") options.warmupSeconds = Number(next());
    else if (arg === "--connections") options.connections = Number(next());
    else if (arg === "--no-bare") options.compareWithBare = false;
    else if (arg === "--header") {
      const [name, ...value] = next().split(":");
      options.headers![name!.trim().toLowerCase()] = value.join(":").trim();
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runCouponRush(parseArgs(process.argv.slice(2)));
}
