import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

const sharedServer: PostgresServer = {
  host: process.env.PGHOST ?? "127.0.0.1",
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? "postgres",
  password: process.env.PGPASSWORD ?? "",
};
export const TEST_DATABASE = process.env.TEST_DATABASE ?? "ecommerce_test";

async function ensureTestDatabase(admin: PostgresServer): Promise<void> {
  const client = new pg.Client({ ...admin, database: "postgres" });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [TEST_DATABASE]);
    if (!rowCount)
      await client.query(`CREATE DATABASE "${TEST_DATABASE}"`).catch((e: { code?: string }) => {
        // Created meanwhile by a concurrent caller: 42P04, or 23505 when both passed the check at once.
        if (e.code !== "42P04" && e.code !== "23505") throw e;
      });
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  schema: string;
  databaseUrl: string;
  connection: { host: string; port: number; user: string; password: string; database: string };
  /** Runs SQL in the schema (for assertions and fixtures). */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL schema with the service's migrations applied, one per test file, so test
 * files run in parallel without seeing each other's rows. `server` is the machine's shared
 * PostgreSQL unless a test brings its own (to break it, see throwaway.ts).
 */
export async function createTestSchema(options: { migrationsDir?: string; sql?: string; label?: string; server?: PostgresServer }): Promise<TestSchema> {
  const admin = options.server ?? sharedServer;
  await ensureTestDatabase(admin);
  const schema = `t_${(options.label ?? "test")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  const connection = { ...admin, database: TEST_DATABASE };
  const pool = new pg.Pool({ ...connection, max: 3, options: `-c search_path="${schema}"` });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  if (options.migrationsDir && existsSync(options.migrationsDir)) {
    const dirs = readdirSync(options.migrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const dir of dirs)
      await pool.query(readFileSync(path.join(options.migrationsDir, dir, "migration.sql"), "utf8").replace(/CREATE SCHEMA IF NOT EXISTS "public";/g, ""));
  }
  if (options.sql) await pool.query(options.sql);
  const user = encodeURIComponent(admin.user) + (admin.password ? `:${encodeURIComponent(admin.password)}` : "");
  return {
    schema,
    connection,
    databaseUrl: `postgresql://${user}@${admin.host}:${admin.port}/${TEST_DATABASE}?schema=${schema}`,
    query: async (sql, values) => (await pool.query(sql, values)).rows,
    drop: async () => {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}
