// `npm run bench`: starts the whole system with logs in .infra/bench-logs, runs bench/main.ts
// through the gateway, prints req/s and latency as ratios to a bare Node server, stops the system.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { prepare, root } from "./setup.mjs";
import { startSystem } from "./system.mjs";

await prepare();
const system = startSystem({ logDir: path.join(root, ".infra", "bench-logs"), env: { LOG_LEVEL: "warn", RATE_LIMIT_ENABLED: "false", GATEWAY_PORT: process.env.GATEWAY_PORT ?? "8080" }, perService: { catalog: { SEED_DEMO_DATA: "true" } } });
let status;
try {
  await system.waitReady();
  const result = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", ...process.argv.slice(2)], { cwd: root, stdio: "inherit", env: { ...process.env, GATEWAY_URL: system.gatewayUrl } });
  status = result.status ?? 1;
} finally {
  await system.stop();
}
process.exit(status);
