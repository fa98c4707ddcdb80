import { createHash } from "node:crypto";
import pg from "pg";
import type { DatabaseLocation } from "@shop/config";
import type { Logger } from "@shop/logging";
import type { SqlExecutor } from "./sql.ts";

/**
 * Plain `pg` for the hot paths. Measured here (bench/query-cost.ts): Prisma's model API costs
 * about 0.6 ms of CPU per query and its interactive transactions several round trips more; plain
 * pg about 0.1 ms. Prisma keeps the schemas, the migrations and the cold paths.
 */
const statementNames = new Map<string, string>();

/** A stable name per statement text (the texts are constants of the code, so the map stays small). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `shop_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A connection that prepares every parameterised statement once and then only binds and runs it:
 * PostgreSQL stops parsing and planning the same statement text on every call (the saga's batch
 * statements and the placement are large CTEs, run thousands of times a minute). Statements
 * without parameters (BEGIN, COMMIT, LISTEN) go as they are.
 */
class PreparingClientImpl extends pg.Client {
  // pg's overloads do not survive a subclass; the arguments are passed on as they came.
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === "string" && Array.isArray(values) && values.length > 0) {
      return (super.query as (...args: unknown[]) => never)({ name: statementName(config), text: config, values }, callback);
    }
    return (super.query as (...args: unknown[]) => never)(config, values, callback);
  }
}

/** pg's Client, typed as such, with the behaviour above. */
export const PreparingClient = PreparingClientImpl as unknown as typeof pg.Client;

export function createSqlPool(
  db: DatabaseLocation,
  options: { size: number; name: string; logger: Logger; connectionTimeoutMs?: number; idleInTransactionTimeoutMs?: number; preparedStatements?: boolean },
): pg.Pool {
  const pool = new pg.Pool({
    // Behind a transaction-mode PgBouncer older than 1.21, named statements do not survive: pass false.
    Client: options.preparedStatements === false ? pg.Client : PreparingClient,
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    ssl: db.ssl,
    max: options.size,
    // A request waiting longer than this for a connection fails (503) instead of queueing forever.
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    // A transaction left open (a stuck handler, a lost client) is ended by the server instead of holding its locks.
    options: `-c search_path="${db.schema}" -c idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs ?? 15_000}`,
    application_name: options.name,
  });
  // An idle connection the server ends (a restart, a failover) is dropped by the pool and replaced on
  // the next query; without a listener, node would turn the pool's 'error' event into a crash.
  pool.on("error", (error) => options.logger.warn({ err: error, pool: options.name }, "idle database connection lost; the pool replaces it"));
  return pool;
}

/** One transaction on one connection; also an SqlExecutor, so the outbox and inbox helpers run in it. */
export class SqlTransaction implements SqlExecutor {
  constructor(readonly client: pg.PoolClient) {}

  async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.client.query(text, values)).rows as T[];
  }

  /** Rows affected. */
  async execute(text: string, values: unknown[] = []): Promise<number> {
    return (await this.client.query(text, values)).rowCount ?? 0;
  }

  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return this.execute(query, values);
  }

  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return this.query(query, values) as Promise<T>;
  }
}

/** Runs `work` in a transaction: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out connection has no error listener of the pool's: a server that goes away (restart,
  // failover) while this transaction waits between statements would otherwise crash the process.
  // The connection is then broken, the next statement fails, and the client is not given back.
  const onConnectionLost = (error: Error) => {
    broken = error;
  };
  client.on("error", onConnectionLost);
  try {
    await client.query("BEGIN");
    const result = await work(new SqlTransaction(client));
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      // A connection that cannot even roll back is not given back to the pool.
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.off("error", onConnectionLost);
    client.release(broken);
  }
}

/**
 * Serialises a service's work on one order within its transaction. The key is namespaced by the
 * service: services sharing a database never wait on each other's order locks.
 */
export async function lockOrder(tx: SqlTransaction, service: string, orderId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [orderLockKey(service, orderId)]);
}

/** The key of a service's lock on one order (hashed by hashtextextended(key, 0) into an advisory lock). */
export const orderLockKey = (service: string, orderId: string) => `${service}:order:${orderId}`;
