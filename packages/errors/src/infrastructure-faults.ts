/**
 * Which unexpected errors are a dependency being away (PostgreSQL, Redis) rather than a bug.
 * Those answer 503 with Retry-After and are logged as warnings; everything else stays a 500.
 * Drivers wrap each other (pg → Prisma's driver adapter → Prisma, net → AggregateError), so the
 * cause chain is searched, not just the error itself.
 */

/** Seconds a client should wait before retrying after an infrastructure fault. */
export const INFRASTRUCTURE_RETRY_AFTER_SECONDS = 2;

/** Socket failures of any client (pg, ioredis, net). */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * PostgreSQL SQLSTATEs of an unavailable server: 57P01 admin shutdown, 57P02 crash shutdown,
 * 57P03 cannot connect now (starting up, recovery), 53300 too many connections, 57014 statement
 * timeout or cancel (an overloaded server). Class 08 (connection exceptions) is matched as a class.
 */
const POSTGRES_CODES = new Set(["57P01", "57P02", "57P03", "53300", "57014"]);

/** Prisma: P1001 unreachable, P1002 timed out, P1008 operation timed out, P1017 connection closed, P2024 pool timeout, P2037 too many connections. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);

/** Prisma driver-adapter error kinds (`DriverAdapterError.cause.kind`) that mean the same. */
const DRIVER_ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

/** Errors without a code: pg / pg-pool and ioredis say it only in the message. */
const MESSAGE_PATTERNS: RegExp[] = [
  /timeout exceeded when trying to connect/i, // pg-pool: connectionTimeoutMillis
  /^Connection terminated/i, // pg: "… unexpectedly", "… due to connection timeout"
  /connection error and is not queryable/i, // pg client after a socket error
  /Cannot use a pool after calling end/i, // pg-pool during shutdown
  /Unable to start a transaction in the given time/i, // Prisma P2028: no pooled connection within maxWait
  /^Connection is closed\.?$/i, // ioredis
  /^Command timed out$/i, // ioredis commandTimeout
  /enableOfflineQueue options is false/i, // ioredis with no connection and no offline queue
  /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|OOM) /, // Redis replies of a server not able to serve now
];

/** ioredis gives up on a command after its retries: the error's name says so. */
const ERROR_NAMES = new Set(["MaxRetriesPerRequestError"]);

const MAX_CAUSES = 8;

/**
 * The reason (for the log) when `error` is an infrastructure fault, or null when it is anything
 * else (which the caller treats as a bug).
 */
export function infrastructureFault(error: unknown): string | null {
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length && seen.size < MAX_CAUSES) {
    const current = pending.shift();
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const fields = current as Record<string, unknown>;
    for (const key of ["code", "errorCode", "originalCode"] as const) {
      const code = fields[key];
      if (typeof code !== "string") continue;
      if (SOCKET_CODES.has(code)) return `socket ${code}`;
      if (POSTGRES_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return `postgres ${code}`;
      if (PRISMA_CODES.has(code)) return `prisma ${code}`;
    }
    if (typeof fields.kind === "string" && DRIVER_ADAPTER_KINDS.has(fields.kind)) return `prisma adapter ${fields.kind}`;
    if (typeof fields.name === "string" && ERROR_NAMES.has(fields.name)) return fields.name;
    if (typeof fields.message === "string") {
      const message = fields.message;
      if (MESSAGE_PATTERNS.some((pattern) => pattern.test(message))) return message.slice(0, 120);
    }
    pending.push(fields.cause, (fields.meta as Record<string, unknown> | undefined)?.driverAdapterError);
    if (Array.isArray(fields.errors)) pending.push(...(fields.errors as unknown[]).slice(0, MAX_CAUSES));
  }
  return null;
}

/**
 * PostgreSQL SQLSTATEs that a retry of the same work can clear: 40001 serialization failure,
 * 40P01 deadlock (one side is rolled back), 55P03 lock not available, 25P03 idle-in-transaction
 * timeout (the server ended a stuck transaction).
 */
const RETRIABLE_POSTGRES_CODES = new Set(["40001", "40P01", "55P03", "25P03"]);

/** kafkajs marks errors a reconnect or a later attempt can clear (a broker away, a leader moving). */
const isRetriableKafkaError = (fields: Record<string, unknown>) =>
  typeof fields.name === "string" && fields.name.startsWith("KafkaJS") && fields.retriable === true;

/**
 * The reason when `error` is transient: the same work will succeed once a dependency is back or a
 * conflict has passed (an infrastructure fault, a deadlock, a retriable broker error); null when it
 * is permanent (a bug, an invalid record). A saga consumer retries transient failures without limit
 * and dead-letters only permanent ones.
 */
export function transientFault(error: unknown): string | null {
  const infrastructure = infrastructureFault(error);
  if (infrastructure) return infrastructure;
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current !== null && typeof current === "object"; depth++) {
    const fields = current as Record<string, unknown>;
    if (typeof fields.code === "string" && RETRIABLE_POSTGRES_CODES.has(fields.code)) return `postgres ${fields.code}`;
    if (isRetriableKafkaError(fields)) return `${String(fields.name)}: ${String(fields.message).slice(0, 120)}`;
    current = fields.cause;
  }
  return null;
}
