// The audit CronJob runs `node dist/cli.js` (scripts/build.mjs): the bundle must load without tsx
// and without the @shop packages' TypeScript sources. A configuration error is the first thing the
// CLI reports, so reaching it proves every import resolved.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const unitDir = path.join(repositoryRoot, "tools", "audit");

test("npm run build -- audit writes dist/cli.js, which runs as far as its configuration check", () => {
  const build = spawnSync(process.execPath, [path.join(repositoryRoot, "scripts", "build.mjs"), "audit"], {
    cwd: repositoryRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(build.stderr).toBe("");
  expect(build.status).toBe(0);

  const run = spawnSync(process.execPath, ["dist/cli.js"], {
    cwd: unitDir,
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH, AUDIT_GRACE_SECONDS: "-1" },
  });
  expect(run.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)|ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
  expect(run.stderr).toMatch(/invalid configuration:\n\s+- AUDIT_GRACE_SECONDS:/);
  expect(run.status).toBe(1);
});
