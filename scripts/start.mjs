// `npm start`: the whole system on this machine. Logs are prefixed per service; Ctrl-C stops the
// services and the infrastructure this run started (infrastructure found running is left alone).
// `TRACING=zipkin npm start` also runs Zipkin and has every unit send it its spans.
import { down, downZipkin, settings, upZipkin, zipkinUrl } from "./infra.mjs";
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
const tracing = process.env.TRACING ?? "";
if (!["", "zipkin"].includes(tracing)) {
  console.error(`[start] TRACING=${tracing}: only zipkin is known (or OTEL_EXPORTER_OTLP_ENDPOINT for a collector of your own)`);
  process.exit(2);
}
await prepare();
const zipkinStarted = tracing === "zipkin" && (await upZipkin());
const tracingEnv =
  tracing === "zipkin" ? { OTEL_TRACES_EXPORTER: "zipkin", OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkinUrl()}/api/v2/spans`, OTEL_BSP_SCHEDULE_DELAY: "1000" } : {};

let stopping = false;
const system = startSystem({ env: tracingEnv, perService: { catalog: { SEED_DEMO_DATA: "true" } }, onExit: () => void shutdown(1) });

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping services…");
  await system.stop();
  if (!kafkaWasRunning || !registryWasRunning) await down();
  if (zipkinStarted) await downZipkin();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  await system.waitReady();
  console.log(`[start] ready: ${system.gatewayUrl}/api/v1 (Swagger UI at ${system.gatewayUrl}/docs). Ctrl-C stops everything.`);
  if (tracing === "zipkin") console.log(`[start] traces: ${zipkinUrl()}/zipkin/ (an answer's traceparent header names its trace: 00-<trace id>-…)`);
} catch (error) {
  console.error(`[start] ${error.message}`);
}
