// `npm start`: the whole system on this machine. Logs are prefixed per service; Ctrl-C stops the
// services and the infrastructure this run started (infrastructure found running is left alone).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { down } from "./infra.mjs";
import { databaseUrl, prepare, root, runnableServices } from "./setup.mjs";
import { settings } from "./infra.mjs";

const kafkaWasRunning = await fetch(`http://127.0.0.1:${settings.registry.port}/apis/ccompat/v7/subjects`).then(() => true, () => false);
await prepare();

const colors = [36, 33, 35, 32, 34, 31];
const children = [];

function launch(name, cwd, env, color) {
  const child = spawn(process.execPath, ["--disable-warning=TimeoutNegativeWarning", "--import", "tsx", "src/main.ts"], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = `\x1b[${color}m[${name.padEnd(7)}]\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream.on("data", (chunk) => {
      const lines = (buffered + chunk).split("\n");
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(prefix + line + "\n");
    });
  }
  child.on("exit", (code, signal) => {
    process.stdout.write(`${prefix}exited (${signal ?? code})\n`);
    if (!stopping) void shutdown(1);
  });
  children.push(child);
}

const services = runnableServices();
services.forEach((s, i) =>
  launch(s.name, s.dir, { PORT: String(s.port), DATABASE_URL: databaseUrl(s.schema), ...(s.name === "catalog" ? { SEED_DEMO_DATA: "true" } : {}) }, colors[i % colors.length]),
);
const gatewayDir = path.join(root, "gateway");
if (existsSync(path.join(gatewayDir, "src", "main.ts"))) {
  launch("gateway", gatewayDir, { PORT: process.env.GATEWAY_PORT ?? "8080", UPSTREAMS: services.map((s) => s.name).join(",") }, 37);
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping services…");
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : (c.once("exit", resolve), c.kill("SIGTERM"))))));
  if (!kafkaWasRunning) await down();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const gatewayUrl = `http://127.0.0.1:${process.env.GATEWAY_PORT ?? "8080"}`;
for (let i = 0; i < 120; i++) {
  const ok = await fetch(`${gatewayUrl}/readyz`).then((r) => r.ok, () => false);
  if (ok) {
    console.log(`[start] ready: ${gatewayUrl} (API under /api/v1, docs at ${gatewayUrl}/docs). Ctrl-C stops everything.`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
