// What `npm start` and `npm test` both need before any service runs: generated Prisma clients,
// the local infrastructure, the service databases migrated, the registry's default compatibility.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { ensureDatabase, settings, up } from "./infra.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Services in start order; each owns one PostgreSQL schema of the `ecommerce` database. */
export const services = [
  { name: "wallet", port: 3001, schema: "wallet" },
  { name: "catalog", port: 3002, schema: "catalog" },
  { name: "coupon", port: 3003, schema: "coupon" },
  { name: "order", port: 3004, schema: "orders" },
  { name: "payment", port: 3005, schema: "payment" },
].map((s) => ({ ...s, dir: path.join(root, "services", s.name) }));

/** Services that exist; `SERVICES=wallet,catalog npm start` runs a subset. */
export const runnableServices = () =>
  services.filter((s) => existsSync(path.join(s.dir, "src", "main.ts")) && (!process.env.SERVICES || process.env.SERVICES.split(",").includes(s.name)));
export const DATABASE = process.env.APP_DATABASE ?? "ecommerce";

export function databaseUrl(schema) {
  const { host, port, user, password } = settings.postgres;
  const auth = encodeURIComponent(user) + (password ? `:${encodeURIComponent(password)}` : "");
  return `postgresql://${auth}@${host}:${port}/${DATABASE}?schema=${schema}`;
}

// Prisma runs on its WebAssembly engines here: pointing the native ones at a dummy file stops downloads.
// Each service migrates its own schema (own _prisma_migrations), so Migrate's database-wide lock
// would only serialize unrelated services.
const prismaEnv = {
  PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
  PRISMA_QUERY_ENGINE_LIBRARY: "/bin/false",
  PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK: "1",
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
};

function run(label, command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...prismaEnv, ...options.env } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`${label} failed:\n${output}`))));
  });
}

const prismaCli = path.join(root, "node_modules", "prisma", "build", "index.js");

/** `prisma generate` for every service whose schema changed since the last generate. */
export async function generateClients() {
  await Promise.all(
    services
      .filter((s) => existsSync(path.join(s.dir, "prisma", "schema.prisma")))
      .map(async (s) => {
        const schemaFile = path.join(s.dir, "prisma", "schema.prisma");
        const hash = createHash("sha256").update(readFileSync(schemaFile)).digest("hex");
        const stamp = path.join(s.dir, "src", "data", "generated", ".schema-hash");
        if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
        await run(`prisma generate (${s.name})`, process.execPath, [prismaCli, "generate"], { cwd: s.dir });
        writeFileSync(stamp, hash);
        console.log(`[setup] generated the Prisma client of ${s.name}`);
      }),
  );
}

export async function migrate() {
  await ensureDatabase(DATABASE);
  const client = new pg.Client({ ...settings.postgres, database: DATABASE });
  await client.connect();
  try {
    for (const s of services) await client.query(`CREATE SCHEMA IF NOT EXISTS "${s.schema}"`);
  } finally {
    await client.end();
  }
  await Promise.all(
    runnableServices()
      .filter((s) => existsSync(path.join(s.dir, "prisma", "migrations")) && readdirSync(path.join(s.dir, "prisma", "migrations")).length)
      .map(async (s) => {
        await run(`migrate ${s.name}`, process.execPath, [prismaCli, "migrate", "deploy"], { cwd: s.dir, env: { DATABASE_URL: databaseUrl(s.schema) } });
        console.log(`[setup] ${s.name}: migrations applied (schema ${s.schema})`);
      }),
  );
}

/** New subjects default to BACKWARD, the contract's rule, even when created outside our clients. */
async function configureRegistry() {
  const url = `http://${settings.registry.host}:${settings.registry.port}/apis/ccompat/v7/config`;
  const response = await fetch(url, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ compatibility: "BACKWARD" }) });
  if (!response.ok) throw new Error(`registry refused the default compatibility: ${response.status} ${await response.text()}`);
}

export async function prepare({ migrations = true } = {}) {
  const started = Date.now();
  await generateClients();
  await up();
  await configureRegistry();
  if (migrations) await migrate();
  console.log(`[setup] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
