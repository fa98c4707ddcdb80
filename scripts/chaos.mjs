// `npm run chaos`: fault-injection trials (e2e/chaos) on infrastructure of their own: a PostgreSQL
// cluster, a Kafka broker and a Redis server started for the run and killed at will, and a link to
// the schema registry that is cut. The machine's shared servers are never stopped.
import { spawnSync } from "node:child_process";
import { ensureKafkaClasspath } from "./infra.mjs";
import { prepare, root } from "./setup.mjs";

await prepare();
const env = { ...process.env, KAFKA_LIBS: ensureKafkaClasspath(), LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" };
const result = spawnSync(process.execPath, ["--disable-warning=TimeoutNegativeWarning", "--import", "tsx", "e2e/chaos/main.ts", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
