// `npm run bench`: starts the whole system with logs in .infra/bench-logs, runs bench/main.ts
// through the gateway, prints req/s and latency as ratios to a bare Node server, stops the system.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { prepare, root } from "./setup.mjs";
import { startSystem } from "./system.mjs";

await prepare();
// BENCH_CPU_PROFILE=order,catalog: those processes write a V8 CPU profile to .infra/profiles when they stop.
const profileDir = path.join(root, ".infra", "profiles");
const profiled = Object.fromEntries(
  (process.env.BENCH_CPU_PROFILE ?? "")
    .split(",")
    .filter(Boolean)
    .map((name) => [name, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` }]),
);
const perService = { ...profiled, catalog: { ...profiled.catalog, SEED_DEMO_DATA: "true" } };
const system = startSystem({
  logDir: path.join(root, ".infra", "bench-logs"),
  env: { LOG_LEVEL: "warn", RATE_LIMIT_ENABLED: "false", GATEWAY_PORT: process.env.GATEWAY_PORT ?? "8080" },
  perService,
});
let status;
try {
  await system.waitReady();
  const result = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", ...process.argv.slice(2)], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, GATEWAY_URL: system.gatewayUrl },
  });
  status = result.status ?? 1;
} finally {
  await system.stop();
}
process.exit(status);
