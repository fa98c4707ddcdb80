// One jest run over every workspace: one summary; scripts/test.mjs sets the infrastructure up once.
import { existsSync, readdirSync } from "node:fs";
const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2023", parser: { syntax: "typescript" } }, module: { type: "es6" } }],
};
const project = (displayName, dir) => ({
  displayName,
  rootDir: `<rootDir>/${dir}`,
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform,
  testMatch: ["<rootDir>/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/generated/"],
});

export default {
  testTimeout: 60_000,
  projects: [
    // Every package with a test folder: a new package's tests cannot be left out by omission.
    ...readdirSync(new URL("packages", import.meta.url))
      .filter((p) => existsSync(new URL(`packages/${p}/test`, import.meta.url)))
      .map((p) => project(`kit/${p}`, `packages/${p}`)),
    ...["wallet", "catalog", "coupon", "order", "payment"].map((s) => project(s, `services/${s}`)),
    project("gateway", "gateway"),
    project("data-platform-sink", "tools/data-platform-sink"),
    project("dlq", "tools/dlq"),
    project("audit", "tools/audit"),
    project("infra-check", "tools/infra-check"),
    project("e2e", "e2e"),
  ],
};
