// `npm test`: sets up what the tests talk to (real PostgreSQL, Redis, Kafka, registry), checks
// types, lint and event-schema compatibility, then runs every jest project once.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { prepare, root } from "./setup.mjs";

const bin = (name) => path.join(root, "node_modules", ".bin", name);
function step(label, command, args, env = {}) {
  const started = Date.now();
  console.log(`\n[test] ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  console.log(`[test] ${label}: ${result.status === 0 ? "ok" : "FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

await prepare();
const jestArgs = process.argv.slice(2);
if (jestArgs.length === 0) {
  step("typecheck", bin("tsc"), ["-p", "tsconfig.json"]);
  step("lint", bin("eslint"), ["--max-warnings=0", "."]);
  step("event schemas are compatible with the registry", process.execPath, ["--import", "tsx", "packages/events/src/cli/check-compatibility.ts"]);
}
step("jest", process.execPath, ["--experimental-vm-modules", "--disable-warning=ExperimentalWarning", "--disable-warning=TimeoutNegativeWarning", bin("jest"), "--maxWorkers=3", ...jestArgs], {
  LOG_LEVEL: "error",
});
