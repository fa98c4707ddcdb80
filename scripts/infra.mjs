// Local infrastructure without Docker: reuses PostgreSQL and Redis, runs Kafka (KRaft) and
// Apicurio Registry from Maven Central artifacts cached in .infra/. Idempotent: `up` twice is a no-op.
// Zipkin, the trace viewer, comes from Maven Central the same way, on request (`upZipkin`).
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { homedir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = path.join(root, ".infra");
const env = process.env;

export const settings = {
  postgres: { host: env.PGHOST ?? "127.0.0.1", port: Number(env.PGPORT ?? 5432), user: env.PGUSER ?? "postgres", password: env.PGPASSWORD ?? "" },
  redis: { host: "127.0.0.1", port: Number(env.REDIS_PORT ?? 6379) },
  kafka: { version: "4.2.1", host: "127.0.0.1", port: Number(env.KAFKA_PORT ?? 9092), controllerPort: Number(env.KAFKA_CONTROLLER_PORT ?? 9093) },
  registry: {
    version: env.APICURIO_VERSION ?? "3.3.3",
    host: "127.0.0.1",
    port: Number(env.REGISTRY_PORT ?? 8081),
    managementPort: Number(env.REGISTRY_MANAGEMENT_PORT ?? 9008),
    database: env.REGISTRY_DATABASE ?? "schema_registry",
  },
  zipkin: { version: env.ZIPKIN_VERSION ?? "3.6.1", host: "127.0.0.1", port: Number(env.ZIPKIN_PORT ?? 9411) },
  mavenRepo: env.MAVEN_REPO_URL ?? "https://repo1.maven.org/maven2",
};

const log = (msg) => process.stdout.write(`[infra] ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`[infra] ${msg}\n`);
  process.exit(1);
};

function portOpen(port, host = "127.0.0.1", timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function redisPing({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
  });
}

async function postgresQuery(sql, database = "postgres") {
  const client = new pg.Client({ ...settings.postgres, database, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(name) {
  const { rowCount } = await postgresQuery(`SELECT 1 FROM pg_database WHERE datname = '${name}'`);
  if (rowCount === 0) {
    try {
      await postgresQuery(`CREATE DATABASE "${name}"`);
    } catch (error) {
      if (error.code !== "42P04") throw error; // created concurrently
    }
  }
}

function javaMajor(javaBin) {
  const result = spawnSync(javaBin, ["-version"], { encoding: "utf8" });
  const match = /version "(\d+)/.exec(result.stderr ?? "");
  return result.status === 0 && match ? Number(match[1]) : 0;
}

// Apicurio 3.3 needs Java 21+, Kafka runs on 17+: pick the newest JDK on the machine.
function newestJava() {
  const candidates = ["java", env.JAVA_HOME && path.join(env.JAVA_HOME, "bin/java")];
  if (existsSync("/usr/lib/jvm")) for (const d of readdirSync("/usr/lib/jvm")) candidates.push(path.join("/usr/lib/jvm", d, "bin/java"));
  let best = { bin: "java", major: 0 };
  for (const bin of candidates.filter(Boolean)) {
    if (bin !== "java" && !existsSync(bin)) continue;
    const major = javaMajor(bin);
    if (major > best.major) best = { bin, major };
  }
  return best;
}

function commandExists(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

async function waitFor(what, check, { timeoutMs = 120_000, logFile, pid } = {}) {
  const started = Date.now();
  let dots = 0;
  while (Date.now() - started < timeoutMs) {
    if (await check()) {
      if (dots) process.stdout.write("\n");
      return;
    }
    if (pid && !isAlive(pid)) break;
    if (++dots % 5 === 0) process.stdout.write(`[infra] waiting for ${what} (${Math.round((Date.now() - started) / 1000)}s)\r`);
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stdout.write("\n");
  const tail = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n") : "";
  fail(`${what} did not become ready${pid && !isAlive(pid) ? " (process exited)" : ""}. Last log lines:\n${tail}`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file) {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

function startDetached(name, command, args, { cwd, extraEnv = {} } = {}) {
  const dir = path.join(cacheDir, name);
  const logFile = path.join(dir, `${name}.log`);
  const out = openSync(logFile, "a");
  const child = spawn(command, args, { cwd: cwd ?? dir, detached: true, stdio: ["ignore", out, out], env: { ...env, ...extraEnv } });
  child.unref();
  writeFileSync(path.join(dir, `${name}.pid`), String(child.pid));
  return { pid: child.pid, logFile };
}

// --- downloads -------------------------------------------------------------------------------

async function download(url, target) {
  const response = await fetch(url);
  if (!response.ok || !response.body) fail(`download failed (${response.status}): ${url}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.part`;
  const file = createWriteStream(partial);
  let received = 0;
  let lastShown = 0;
  for await (const chunk of response.body) {
    received += chunk.length;
    if (!file.write(chunk)) await new Promise((r) => file.once("drain", r));
    if (Date.now() - lastShown > 500 || received === total) {
      lastShown = Date.now();
      const mb = (n) => (n / 1048576).toFixed(1);
      const pct = total ? ` ${Math.floor((received / total) * 100)}%` : "";
      process.stdout.write(`[infra] downloading ${path.basename(target)}: ${mb(received)}/${total ? mb(total) : "?"} MB${pct}\r`);
    }
  }
  await new Promise((resolve, reject) => file.end((err) => (err ? reject(err) : resolve())));
  process.stdout.write("\n");
  renameSync(partial, target);
}

/** The Kafka classpath from Maven Central, fetched once into .infra/kafka/libs (also used by tests that run a broker of their own). */
export function ensureKafkaClasspath() {
  const libs = path.join(cacheDir, "kafka", "libs");
  const marker = path.join(libs, `.complete-${settings.kafka.version}`);
  if (existsSync(marker)) return libs;
  if (!commandExists("mvn")) fail("Maven (mvn) is needed once to fetch Kafka from Maven Central: apt-get install maven");
  log(`fetching Kafka ${settings.kafka.version} and its classpath from Maven Central (about 45 MB, once)`);
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  const result = spawnSync(
    "mvn",
    [
      "-B",
      "-f",
      path.join(root, "infra/local/kafka-pom.xml"),
      `-Dkafka.version=${settings.kafka.version}`,
      "dependency:copy-dependencies",
      "-DincludeScope=runtime",
      `-DoutputDirectory=${libs}`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
  );
  for (const line of (result.stdout ?? "").split("\n")) if (/Downloaded from|ERROR|BUILD/.test(line)) log(line.replace(/^\[INFO\] /, ""));
  if (result.status !== 0) fail("mvn could not fetch Kafka; see the output above");
  writeFileSync(marker, new Date().toISOString());
  return libs;
}

async function ensureRegistryDistribution() {
  const { version } = settings.registry;
  const home = path.join(cacheDir, "apicurio", `apicurio-registry-${version}`);
  if (existsSync(path.join(home, "quarkus-run.jar"))) return home;
  const relative = `io/apicurio/apicurio-registry-app/${version}/apicurio-registry-app-${version}-all.tar.gz`;
  const m2 = path.join(homedir(), ".m2/repository", relative);
  const archive = path.join(cacheDir, "downloads", path.basename(relative));
  if (!existsSync(archive)) {
    if (existsSync(m2)) copyFileSync(m2, archive);
    else {
      log(`fetching Apicurio Registry ${version} from Maven Central (about 160 MB, once)`);
      await download(`${settings.mavenRepo}/${relative}`, archive);
    }
  }
  const staging = `${home}.unpacking`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const untar = spawnSync("tar", ["xzf", archive, "-C", staging], { stdio: "inherit" });
  if (untar.status !== 0) {
    rmSync(archive, { force: true });
    fail("could not unpack the registry archive (removed it; run again to download it anew)");
  }
  renameSync(staging, home);
  return home;
}

// --- components ------------------------------------------------------------------------------

async function kafkaReady() {
  if (!(await portOpen(settings.kafka.port))) return false;
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({ brokers: [`${settings.kafka.host}:${settings.kafka.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function kafkaProperties(dataDir) {
  const { host, port, controllerPort } = settings.kafka;
  return `process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${host}:${controllerPort}
listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}
advertised.listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=67108864
`;
}

const log4jProperties = `status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
`;

async function upKafka() {
  const dir = path.join(cacheDir, "kafka");
  const pidFile = path.join(dir, "kafka.pid");
  if (await kafkaReady()) return log(`Kafka is up on ${settings.kafka.host}:${settings.kafka.port}${readPid(pidFile) ? "" : " (started elsewhere, reused)"}`);
  if (await portOpen(settings.kafka.port)) fail(`port ${settings.kafka.port} is taken by something that is not a Kafka broker`);
  const libs = ensureKafkaClasspath();
  const dataDir = path.join(dir, "data");
  writeFileSync(path.join(dir, "server.properties"), kafkaProperties(dataDir));
  writeFileSync(path.join(dir, "log4j2.properties"), log4jProperties);
  const classpath = `${libs}/*`;
  if (!existsSync(path.join(dataDir, "meta.properties"))) {
    log("formatting Kafka storage (KRaft, single node)");
    const id = spawnSync("java", ["-cp", classpath, "kafka.tools.StorageTool", "random-uuid"], { encoding: "utf8" });
    if (id.status !== 0) fail(`StorageTool random-uuid failed: ${id.stderr}`);
    const format = spawnSync(
      "java",
      [
        "-cp",
        classpath,
        `-Dlog4j2.configurationFile=${path.join(dir, "log4j2.properties")}`,
        `-Dkafka.logs.dir=${dir}`,
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        id.stdout.trim(),
        "-c",
        path.join(dir, "server.properties"),
      ],
      { encoding: "utf8" },
    );
    if (format.status !== 0) fail(`StorageTool format failed: ${format.stderr || format.stdout}`);
  }
  log("starting Kafka");
  const { pid, logFile } = startDetached("kafka", "java", [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${path.join(dir, "log4j2.properties")}`,
    `-Dkafka.logs.dir=${dir}`,
    "-cp",
    classpath,
    "kafka.Kafka",
    path.join(dir, "server.properties"),
  ]);
  await waitFor("Kafka", kafkaReady, { logFile, pid, timeoutMs: 90_000 });
  log(`Kafka is up on ${settings.kafka.host}:${settings.kafka.port} (pid ${pid})`);
}

const registryUrl = () => `http://${settings.registry.host}:${settings.registry.port}/apis/ccompat/v7`;

async function registryReady() {
  try {
    const response = await fetch(`${registryUrl()}/subjects`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function upRegistry() {
  const dir = path.join(cacheDir, "apicurio");
  const pidFile = path.join(dir, "apicurio.pid");
  if (await registryReady()) return log(`schema registry is up at ${registryUrl()}${readPid(pidFile) ? "" : " (started elsewhere, reused)"}`);
  if (await portOpen(settings.registry.port)) fail(`port ${settings.registry.port} is taken by something that is not the schema registry`);
  mkdirSync(path.join(cacheDir, "downloads"), { recursive: true });
  const home = await ensureRegistryDistribution();
  await ensureDatabase(settings.registry.database);
  const { host, port, user, password } = settings.postgres;
  const java = newestJava();
  if (java.major < 21)
    fail(
      `the schema registry (Apicurio ${settings.registry.version}) needs Java 21 or newer; found ${java.major || "none"}: apt-get install openjdk-21-jre-headless, or set JAVA_HOME`,
    );
  log(`starting the schema registry (Apicurio on Java ${java.major}, schemas stored in PostgreSQL)`);
  const { pid, logFile } = startDetached(
    "apicurio",
    java.bin,
    [
      "-Xms128m",
      "-Xmx512m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Dquarkus.http.host=${settings.registry.host}`,
      `-Dquarkus.http.port=${settings.registry.port}`,
      "-Dquarkus.management.host=127.0.0.1",
      `-Dquarkus.management.port=${settings.registry.managementPort}`,
      "-Dapicurio.storage.kind=sql",
      "-Dapicurio.storage.sql.kind=postgresql",
      `-Dapicurio.datasource.url=jdbc:postgresql://${host}:${port}/${settings.registry.database}`,
      `-Dapicurio.datasource.username=${user}`,
      `-Dapicurio.datasource.password=${password || "postgres"}`,
      "-Dapicurio.ccompat.legacy-id-mode.enabled=false",
      "-Dquarkus.log.level=WARN",
      '-Dquarkus.log.category."io.apicurio".level=INFO',
      "-jar",
      path.join(home, "quarkus-run.jar"),
    ],
    { cwd: dir },
  );
  await waitFor("schema registry", registryReady, { logFile, pid, timeoutMs: 120_000 });
  log(`schema registry is up at ${registryUrl()} (pid ${pid})`);
}

export const zipkinUrl = () => `http://${settings.zipkin.host}:${settings.zipkin.port}`;

async function zipkinReady() {
  try {
    return (await fetch(`${zipkinUrl()}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Zipkin's server, one executable jar from Maven Central, fetched once into .infra/downloads. */
async function ensureZipkinJar() {
  const { version } = settings.zipkin;
  const relative = `io/zipkin/zipkin-server/${version}/zipkin-server-${version}-exec.jar`;
  const m2 = path.join(homedir(), ".m2/repository", relative);
  if (existsSync(m2)) return m2;
  const jar = path.join(cacheDir, "downloads", path.basename(relative));
  if (!existsSync(jar)) {
    log(`fetching Zipkin ${version} from Maven Central (about 130 MB, once)`);
    await download(`${settings.mavenRepo}/${relative}`, jar);
  }
  return jar;
}

/**
 * Zipkin on 127.0.0.1:9411, spans kept in memory (they are gone when it stops). Returns true when
 * this call started it, false when it was running already.
 */
export async function upZipkin() {
  if (await zipkinReady()) {
    log(`Zipkin is up at ${zipkinUrl()} (reused)`);
    return false;
  }
  if (await portOpen(settings.zipkin.port)) fail(`port ${settings.zipkin.port} is taken by something that is not Zipkin`);
  mkdirSync(path.join(cacheDir, "zipkin"), { recursive: true });
  const jar = await ensureZipkinJar();
  const java = newestJava();
  if (java.major < 17) fail(`Zipkin ${settings.zipkin.version} needs Java 17 or newer; found ${java.major || "none"}`);
  log("starting Zipkin");
  const { pid, logFile } = startDetached("zipkin", java.bin, [
    "-Xms64m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-jar",
    jar,
    `--server.address=${settings.zipkin.host}`,
    `--server.port=${settings.zipkin.port}`,
    "--logging.level.root=WARN",
  ]);
  await waitFor("Zipkin", zipkinReady, { logFile, pid, timeoutMs: 90_000 });
  log(`Zipkin is up at ${zipkinUrl()}/zipkin/ (pid ${pid})`);
  return true;
}

export const downZipkin = () => stop("zipkin");

async function checkPrerequisites() {
  const missing = [];
  if (!commandExists("java")) missing.push("Java 17+ (Kafka and the registry run on it): apt-get install openjdk-17-jre-headless");
  if (!(await portOpen(settings.postgres.port, settings.postgres.host))) {
    missing.push(`PostgreSQL on ${settings.postgres.host}:${settings.postgres.port}: apt-get install postgresql, then start it (pg_ctlcluster 15 main start)`);
  } else {
    try {
      await postgresQuery("SELECT 1");
    } catch (error) {
      missing.push(`PostgreSQL answers but refuses user "${settings.postgres.user}" (${error.message}); set PGUSER/PGPASSWORD`);
    }
  }
  if (!(await redisPing(settings.redis))) missing.push(`Redis on 127.0.0.1:${settings.redis.port}: apt-get install redis-server, then start it`);
  if (missing.length) fail(`missing prerequisites:\n  - ${missing.join("\n  - ")}`);
  log(`PostgreSQL ${settings.postgres.host}:${settings.postgres.port} and Redis 127.0.0.1:${settings.redis.port} answer (reused)`);
}

export async function up() {
  mkdirSync(path.join(cacheDir, "kafka"), { recursive: true });
  mkdirSync(path.join(cacheDir, "apicurio"), { recursive: true });
  await checkPrerequisites();
  // Both JVMs start in parallel: together they need most of a minute on two cores.
  await Promise.all([upKafka(), upRegistry()]);
}

async function stop(name) {
  const pidFile = path.join(cacheDir, name, `${name}.pid`);
  const pid = readPid(pidFile);
  if (!pid) return log(`${name}: not started by this project`);
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 60 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 500));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(pidFile, { force: true });
  log(`${name}: stopped (pid ${pid})`);
}

export async function down() {
  await Promise.all([stop("kafka"), stop("apicurio")]);
}

export async function status() {
  const rows = [
    ["PostgreSQL", `${settings.postgres.host}:${settings.postgres.port}`, await portOpen(settings.postgres.port)],
    ["Redis", `127.0.0.1:${settings.redis.port}`, await redisPing(settings.redis)],
    ["Kafka", `${settings.kafka.host}:${settings.kafka.port}`, await kafkaReady(), readPid(path.join(cacheDir, "kafka", "kafka.pid"))],
    ["Schema registry", registryUrl(), await registryReady(), readPid(path.join(cacheDir, "apicurio", "apicurio.pid"))],
  ];
  for (const [name, where, ok, pid] of rows) log(`${name.padEnd(16)} ${(ok ? "up" : "DOWN").padEnd(5)} ${where}${pid ? ` (pid ${pid})` : ""}`);
  return rows.every(([, , ok]) => ok);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? "status";
  if (command === "up") await up();
  else if (command === "down") await down();
  else if (command === "status") process.exitCode = (await status()) ? 0 : 1;
  else fail(`unknown command ${command} (up | down | status)`);
}
