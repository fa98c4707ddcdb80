// `npm test`: sets up what the tests talk to (real PostgreSQL, Redis, Kafka, registry), checks
// types, lint and event-schema compatibility, then runs every jest project once.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ensureKafkaClasspath } from "./infra.mjs";
import { prepare, root } from "./setup.mjs";

const bin = (name) => path.join(root, "node_modules", ".bin", name);
function step(label, command, args, env = {}) {
  const started = Date.now();
  console.log(`\n[test] ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  console.log(`[test] ${label}: ${result.status === 0 ? "ok" : "FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * Every test file works on its own topics (`<label><8 hex>.…`); removing those of earlier runs
 * keeps a long-lived local broker from collecting thousands of partitions.
 */
async function removeStaleTestTopics() {
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({ brokers: [process.env.KAFKA_BROKERS ?? "127.0.0.1:9092"], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const stale = (await admin.listTopics()).filter((t) => /^[a-z0-9]*[0-9a-f]{8}\./.test(t));
    for (let i = 0; i < stale.length; i += 100) await admin.deleteTopics({ topics: stale.slice(i, i + 100), timeout: 60_000 });
    if (stale.length) console.log(`[test] removed ${stale.length} topics of earlier test runs`);
  } finally {
    await admin.disconnect();
  }
}

await prepare();
// The chaos tests run a broker of their own from the cached Kafka classpath.
process.env.KAFKA_LIBS ??= ensureKafkaClasspath();
const jestArgs = process.argv.slice(2);
// Only a whole run clears old topics: a partial run (`npm test -- <path>`) may share the broker with another.
if (jestArgs.length === 0) await removeStaleTestTopics();
if (jestArgs.length === 0) {
  step("typecheck", bin("tsc"), ["-p", "tsconfig.json"]);
  step("lint", bin("eslint"), ["--max-warnings=0", "."]);
  step("formatting (Prettier; npm run format fixes it)", bin("prettier"), ["--check", "--log-level=warn", "."]);
  step("event schemas are compatible with the registry", process.execPath, ["--import", "tsx", "packages/events/src/cli/check-compatibility.ts"]);
  step("API document lint (docs/openapi.json, redocly.yaml)", bin("redocly"), ["lint", "--format=codeframe", "docs/openapi.json"], {
    REDOCLY_TELEMETRY: "off",
    REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
  });
  step("deployment files (Kubernetes, Compose, Dockerfile)", process.execPath, ["--import", "tsx", "tools/infra-check/src/cli.ts"]);
}
const jest = (label, args) =>
  step(
    label,
    process.execPath,
    ["--experimental-vm-modules", "--disable-warning=ExperimentalWarning", "--disable-warning=TimeoutNegativeWarning", bin("jest"), ...args],
    { LOG_LEVEL: "error" },
  );

if (jestArgs.length) {
  jest("jest", ["--maxWorkers=3", ...jestArgs]);
} else {
  // Unit and integration tests in parallel; then the end-to-end files one at a time, each with
  // the whole system as processes, so that their timing is not at the mercy of the other tests.
  jest("jest: services, gateway and kit", ["--maxWorkers=3", "--ignoreProjects", "e2e"]);
  jest("jest: end to end through the gateway", ["--runInBand", "--selectProjects", "e2e"]);
}
