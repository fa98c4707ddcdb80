// `npm start`: the whole system on this machine. Logs are prefixed per service; Ctrl-C stops the
// services and the infrastructure this run started (infrastructure found running is left alone).
import { down, settings } from "./infra.mjs";
import { prepare } from "./setup.mjs";
import { startSystem } from "./system.mjs";

const registryWasRunning = await fetch(`http://127.0.0.1:${settings.registry.port}/apis/ccompat/v7/subjects`).then(
  () => true,
  () => false,
);
const kafkaWasRunning = await import("node:net").then(
  ({ connect }) =>
    new Promise((resolve) => {
      const s = connect(settings.kafka.port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    }),
);
await prepare();

let stopping = false;
const system = startSystem({ perService: { catalog: { SEED_DEMO_DATA: "true" } }, onExit: () => void shutdown(1) });

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping services…");
  await system.stop();
  if (!kafkaWasRunning || !registryWasRunning) await down();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  await system.waitReady();
  console.log(`[start] ready: ${system.gatewayUrl}/api/v1 (Swagger UI at ${system.gatewayUrl}/docs). Ctrl-C stops everything.`);
} catch (error) {
  console.error(`[start] ${error.message}`);
}
