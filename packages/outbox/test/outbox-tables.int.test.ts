import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestSchema, describeTables, diffTableShapes, type TableShape, type TestSchema } from "@shop/testing";
import { outboxTableNames, outboxTablesDdl } from "../src/index.ts";

/**
 * Every service declares the outbox and inbox tables itself (Prisma model and migration); this
 * checks that each declaration produces exactly `outboxTablesDdl`, the one the relay and the
 * inbox are written against. Services are found on disk, so a new one is checked without a change here.
 */
const root = fileURLToPath(new URL("../../..", import.meta.url));
const services = readdirSync(path.join(root, "services"))
  .filter((name) => existsSync(path.join(root, "services", name, "prisma", "migrations")))
  .sort();
const prismaCli = path.join(root, "node_modules", "prisma", "build", "index.js");
const run = promisify(execFile);

let canonical: Record<string, TableShape | null>;
const schemas: TestSchema[] = [];
const schemaFor = async (options: Parameters<typeof createTestSchema>[0]) => {
  const db = await createTestSchema(options);
  schemas.push(db);
  return db;
};

beforeAll(async () => {
  canonical = await describeTables(await schemaFor({ label: "outbox-canonical", sql: outboxTablesDdl }), outboxTableNames);
});
afterAll(async () => {
  await Promise.all(schemas.map((db) => db.drop()));
});

test("the services that keep an outbox are all found", () => {
  expect(services).toEqual(expect.arrayContaining(["catalog", "coupon", "order", "payment", "wallet"]));
});

test("the canonical tables are what the relay and the inbox rely on", () => {
  expect(canonical.outbox_events?.columns.map((c) => c.name)).toEqual(["id", "event_id", "topic", "key", "payload", "headers", "created_at"]);
  expect(canonical.outbox_events?.indexes.map((i) => i.definition)).toContain(
    "CREATE UNIQUE INDEX outbox_events_event_id_key ON outbox_events USING btree (event_id)",
  );
  expect(canonical.inbox_events?.constraints).toEqual([{ name: "inbox_events_pkey", kind: "p", definition: "PRIMARY KEY (event_id, consumer)" }]);
});

test.each(services)("%s: its migrations create exactly the canonical outbox and inbox tables", async (service) => {
  const db = await schemaFor({ label: `outbox-${service}`, migrationsDir: path.join(root, "services", service, "prisma", "migrations") });
  expect(diffTableShapes(canonical, await describeTables(db, outboxTableNames))).toEqual([]);
});

test.each(services)("%s: its Prisma schema generates exactly the canonical outbox and inbox tables", async (service) => {
  // What Prisma would write for the schema as it stands, so a model edited without a migration is caught too.
  const db = await schemaFor({ label: `outbox-prisma-${service}` });
  const env = {
    ...process.env,
    DATABASE_URL: db.databaseUrl,
    PRISMA_SCHEMA_ENGINE_BINARY: "/bin/false",
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  };
  const { stdout } = await run(process.execPath, [prismaCli, "migrate", "diff", "--from-empty", "--to-schema-datamodel", "prisma/schema.prisma", "--script"], {
    cwd: path.join(root, "services", service),
    env,
  });
  await db.query(stdout);
  expect(diffTableShapes(canonical, await describeTables(db, outboxTableNames))).toEqual([]);
});

test("a service whose migration declares the outbox differently fails the comparison", async () => {
  // The wallet's migrations with one planted difference: the outbox headers lose their default.
  const planted = mkdtempSync(path.join(tmpdir(), "outbox-planted-"));
  try {
    cpSync(path.join(root, "services", "wallet", "prisma", "migrations"), planted, { recursive: true });
    const init = path.join(planted, "20261123000000_init", "migration.sql");
    const original = readFileSync(init, "utf8");
    const altered = original.replace(`"headers" JSONB NOT NULL DEFAULT '{}'`, `"headers" JSONB NOT NULL`);
    expect(altered).not.toBe(original);
    writeFileSync(init, altered);
    const db = await schemaFor({ label: "outbox-planted", migrationsDir: planted });
    expect(diffTableShapes(canonical, await describeTables(db, outboxTableNames))).toEqual([expect.stringMatching(/^outbox_events: column headers differs/)]);
  } finally {
    rmSync(planted, { recursive: true, force: true });
  }
});
