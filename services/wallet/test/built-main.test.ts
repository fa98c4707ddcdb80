// The image runs `node dist/main.js` (scripts/build.mjs): the bundle must load without tsx, with the
// @shop packages inlined and npm packages (Prisma's runtime included) resolved from node_modules.
// In production the development secrets are refused at start, after every module has loaded.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const unitDir = path.join(repositoryRoot, "services", "wallet");

test("npm run build -- wallet writes dist/main.js, which starts as far as its configuration check", () => {
  const build = spawnSync(process.execPath, [path.join(repositoryRoot, "scripts", "build.mjs"), "wallet"], {
    cwd: repositoryRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(build.stderr).toBe("");
  expect(build.status).toBe(0);
  // What the image's migrate step loads instead of prisma.config.ts.
  expect(existsSync(path.join(unitDir, "dist", "prisma.config.js"))).toBe(true);

  const env = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    JWT_SECRET: "local-dev-secret-change-me",
    SERVICE_TOKEN_SECRET: "local-dev-service-secret-change-me",
  };
  const run = spawnSync(process.execPath, ["dist/main.js"], { cwd: unitDir, encoding: "utf8", timeout: 30_000, env });
  // stdout too: a logger may report the error as JSON there.
  const output = run.stdout + run.stderr;
  expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)|ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
  expect(output).toMatch(/invalid configuration:[\s\S]*JWT_SECRET: is the published development default/);
  expect(run.signal).toBeNull();
  expect(run.status).not.toBe(0);
});
