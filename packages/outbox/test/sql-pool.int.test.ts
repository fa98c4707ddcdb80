import { randomUUID } from "node:crypto";
import pg from "pg";
import { parseDatabaseUrl } from "@shop/config";
import { createTestSchema, eventually, silentLogger, type TestSchema } from "@shop/testing";
import { createSqlPool, inTransaction, lockOrder } from "../src/index.ts";

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema({ label: "sql-pool" });
});
afterAll(async () => {
  await db?.drop();
});

test("an idle connection killed by the server (a restart, a failover) is dropped from the pool, not the process", async () => {
  const name = `pool-${randomUUID().slice(0, 8)}`;
  const pool = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 2, name, logger: silentLogger });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    await pool.query("SELECT 1");
    expect(pool.idleCount).toBe(1);
    const admin = new pg.Client(parseDatabaseUrl(db.databaseUrl));
    await admin.connect();
    try {
      const { rows } = await admin.query<{ killed: boolean }>("SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1", [
        name,
      ]);
      expect(rows).toEqual([{ killed: true }]);
    } finally {
      await admin.end();
    }
    await eventually(async () => expect(pool.idleCount).toBe(0), 5_000, 50);
    expect(uncaught).toEqual([]);
    // The pool opens a fresh connection for the next query.
    expect((await pool.query<{ ok: number }>("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  } finally {
    process.off("uncaughtException", onUncaught);
    await pool.end();
  }
});

test("a connection killed by the server while its transaction waits between statements fails that transaction, not the process", async () => {
  const name = `pool-${randomUUID().slice(0, 8)}`;
  const pool = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 2, name, logger: silentLogger });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    const transaction = inTransaction(pool, async (tx) => {
      await tx.query("SELECT 1");
      // The server goes away while the transaction's connection is checked out but idle.
      const admin = new pg.Client(parseDatabaseUrl(db.databaseUrl));
      await admin.connect();
      try {
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [name]);
      } finally {
        await admin.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.query("SELECT 2");
    });
    await expect(transaction).rejects.toThrow();
    expect(uncaught).toEqual([]);
    // The broken connection was not handed back: the next transaction works.
    expect(await inTransaction(pool, async (tx) => (await tx.query<{ ok: number }>("SELECT 1 AS ok"))[0])).toEqual({ ok: 1 });
  } finally {
    process.off("uncaughtException", onUncaught);
    await pool.end();
  }
});

test("a parameterised statement is prepared once per connection and then only bound and run", async () => {
  const pool = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 1, name: "pool-prepared", logger: silentLogger });
  const unprepared = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 1, name: "pool-unprepared", logger: silentLogger, preparedStatements: false });
  try {
    const statement = "SELECT $1::int + 1 AS next";
    for (let i = 0; i < 3; i++) expect((await pool.query<{ next: number }>(statement, [i])).rows).toEqual([{ next: i + 1 }]);
    expect(await inTransaction(pool, async (tx) => tx.query<{ next: number }>(statement, [41]))).toEqual([{ next: 42 }]);
    const prepared = async (p: typeof pool) =>
      (await p.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements")).rows.map((r) => r.statement);
    expect(await prepared(pool)).toEqual([statement]);
    await unprepared.query(statement, [1]);
    expect(await prepared(unprepared)).toEqual([]);
  } finally {
    await pool.end();
    await unprepared.end();
  }
});

test("a transaction that throws is rolled back, and per-order locks of two services do not wait on each other", async () => {
  const pool = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 3, name: "pool-tx", logger: silentLogger });
  try {
    await pool.query("CREATE TABLE IF NOT EXISTS notes (text TEXT NOT NULL)");
    await expect(
      inTransaction(pool, async (tx) => {
        await tx.execute("INSERT INTO notes (text) VALUES ($1)", ["rolled back"]);
        throw new Error("a rule failed after the insert");
      }),
    ).rejects.toThrow("a rule failed");
    expect((await pool.query("SELECT text FROM notes")).rows).toEqual([]);

    const orderId = randomUUID();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const wallet = inTransaction(pool, async (tx) => {
      await lockOrder(tx, "wallet", orderId);
      await held;
    });
    // The catalog's lock on the same order is another key: it is granted while the wallet holds its own.
    await inTransaction(pool, (tx) => lockOrder(tx, "catalog", orderId));
    release();
    await wallet;
  } finally {
    await pool.end();
  }
});

test("sslmode in the URL reaches the connection: sslmode=require asks the server for TLS, sslmode=disable does not", async () => {
  const tls = createSqlPool(parseDatabaseUrl(`${db.databaseUrl}&sslmode=require`), {
    size: 1,
    name: "pool-tls",
    logger: silentLogger,
    connectionTimeoutMs: 2_000,
  });
  const plain = createSqlPool(parseDatabaseUrl(`${db.databaseUrl}&sslmode=disable`), { size: 1, name: "pool-plain", logger: silentLogger });
  try {
    const { rows } = await plain.query<{ ssl: boolean; server_ssl: string }>(
      "SELECT ssl, current_setting('ssl') AS server_ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    expect(rows[0]!.ssl).toBe(false);
    if (rows[0]!.server_ssl === "on") {
      expect((await tls.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows).toEqual([{ ssl: true }]);
    } else {
      // A server without TLS (as on this project's machines) turns the upgrade down: the request was made.
      await expect(tls.query("SELECT 1")).rejects.toThrow(/does not support SSL/);
    }
  } finally {
    await tls.end();
    await plain.end();
  }
});
