// The image runs `node dist/main.js` (scripts/build.mjs): the bundle must load without tsx, with the
// @shop packages inlined and npm packages (Prisma's runtime included) resolved from node_modules.
// In production the development secrets are refused at start, after every module has loaded.
// With tracing on, the bundle's pg, express and http (imported before any of its code runs) are
// instrumented all the same.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SPAN_KIND, createTestSchema, eventually, signToken, startOtlpReceiver } from "@shop/testing";

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

test("dist/main.js with an OTLP endpoint exports the spans of a request, its database queries among them", async () => {
  expect(existsSync(path.join(unitDir, "dist", "main.js"))).toBe(true);
  const receiver = await startOtlpReceiver();
  const schema = await createTestSchema({ migrationsDir: path.join(unitDir, "prisma", "migrations"), label: "built-wallet" });
  const env = {
    PATH: process.env.PATH,
    PORT: "0",
    DATABASE_URL: schema.databaseUrl,
    // HTTP only: this test is about the instrumentation of the bundle, not about Kafka.
    EVENTS_ENABLED: "false",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "100",
  };
  const child = spawn(process.execPath, ["dist/main.js"], { cwd: unitDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  try {
    const url = await eventually(() => {
      const listening = /"url":"(http:[^"]+)"[^\n]*"msg":"wallet listening"/.exec(output);
      if (!listening) throw new Error(`not listening yet:\n${output}`);
      return listening[1]!;
    }, 20_000);
    expect(output).toContain('"msg":"tracing on"');

    const answer = await fetch(`${url}/api/v1/users/traced-user/balance`, { headers: { authorization: `Bearer ${await signToken({ sub: "traced-user" })}` } });
    expect(answer.status).toBe(200);
    const traceId = /^00-([0-9a-f]{32})-/.exec(answer.headers.get("traceparent") ?? "")?.[1];

    await eventually(() => {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      expect(spans.every((span) => span.service === "wallet")).toBe(true);
      expect(spans.some((span) => span.kind === SPAN_KIND.SERVER && span.attributes["http.route"] === "/api/v1/users/:userId/balance")).toBe(true);
      expect(spans.some((span) => span.attributes["express.type"] === "request_handler")).toBe(true);
      expect(spans.some((span) => span.attributes["db.system.name"] === "postgresql")).toBe(true);
    }, 10_000);
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
    await receiver.close();
    await schema.drop();
  }
});
