import { PrismaClientInitializationError, PrismaClientKnownRequestError } from "@prisma/client/runtime/client";
import { Redis } from "ioredis";
import pg from "pg";
import { DomainError } from "@shop/errors";
import { infrastructureFault } from "@shop/errors";

/** A port nothing listens on: connecting is refused at once. */
const CLOSED_PORT = 1;

const withFields = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);
const prismaKnown = (code: string, meta?: Record<string, unknown>) => new PrismaClientKnownRequestError("failed", { code, clientVersion: "test", meta });
/** The shape Prisma's driver adapter wraps a PostgreSQL error in (`DriverAdapterError` with the mapped cause). */
const driverAdapterError = (cause: Record<string, unknown>) => withFields("driver adapter error", { name: "DriverAdapterError", cause });

describe("infrastructure faults (503) by what the drivers really throw", () => {
  test("pg cannot connect: ECONNREFUSED", async () => {
    const client = new pg.Client({ host: "127.0.0.1", port: CLOSED_PORT, connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(infrastructureFault(error)).toMatch(/ECONNREFUSED/);
  });

  test("ioredis without a connection: the command fails at once", async () => {
    const redis = new Redis({
      host: "127.0.0.1",
      port: CLOSED_PORT,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const error = await redis.get("key").then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(infrastructureFault(error)).not.toBeNull();
    } finally {
      redis.disconnect();
    }
  });

  test.each(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"])("Prisma %s", (code) => {
    expect(infrastructureFault(prismaKnown(code))).toBe(`prisma ${code}`);
  });

  test("Prisma: no pooled connection for a transaction within maxWait (P2028), unlike other transaction errors", () => {
    const poolExhausted = new PrismaClientKnownRequestError("Transaction API error: Unable to start a transaction in the given time.", {
      code: "P2028",
      clientVersion: "test",
    });
    expect(infrastructureFault(poolExhausted)).not.toBeNull();
    const misuse = new PrismaClientKnownRequestError(
      "Transaction API error: Transaction already closed: A commit cannot be executed on a transaction that was rolled back.",
      { code: "P2028", clientVersion: "test" },
    );
    expect(infrastructureFault(misuse)).toBeNull();
  });

  test("Prisma cannot start: PrismaClientInitializationError P1001", () => {
    expect(infrastructureFault(new PrismaClientInitializationError("Can't reach database server", "test", "P1001"))).toBe("prisma P1001");
  });
});

describe("infrastructure faults by shape", () => {
  test.each([
    ["pg: admin shutdown 57P01", withFields("terminating connection due to administrator command", { code: "57P01", severity: "FATAL" })],
    ["pg: starting up 57P03", withFields("the database system is starting up", { code: "57P03" })],
    ["pg: too many connections 53300", withFields("sorry, too many clients already", { code: "53300" })],
    ["pg: connection exception class 08", withFields("connection failure", { code: "08006" })],
    ["pg: statement timeout 57014", withFields("canceling statement due to statement timeout", { code: "57014" })],
    ["pg: connection reset", withFields("read ECONNRESET", { code: "ECONNRESET", errno: -104, syscall: "read" })],
    ["pg-pool: no connection in time", new Error("timeout exceeded when trying to connect")],
    ["pg: connection terminated", new Error("Connection terminated unexpectedly")],
    ["pg: connection timeout", new Error("Connection terminated due to connection timeout")],
    [
      "net: AggregateError of refused addresses",
      Object.assign(new AggregateError([withFields("connect ECONNREFUSED ::1:5432", { code: "ECONNREFUSED" })], "connect failed"), {}),
    ],
    [
      "Prisma adapter: postgres 57P01 inside a raw-query error",
      prismaKnown("P2010", { driverAdapterError: driverAdapterError({ kind: "postgres", code: "57P01", originalCode: "57P01" }) }),
    ],
    ["Prisma adapter: DatabaseNotReachable", driverAdapterError({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 })],
    ["Prisma adapter: TooManyConnections", driverAdapterError({ kind: "TooManyConnections", cause: "too many" })],
    ["wrapped in a cause", new Error("store failed", { cause: withFields("connect ECONNREFUSED", { code: "ECONNREFUSED" }) })],
    ["ioredis: connection closed", new Error("Connection is closed.")],
    ["ioredis: command timeout", new Error("Command timed out")],
    ["ioredis: retries exhausted", withFields("Reached the max retries per request limit (which is 2).", { name: "MaxRetriesPerRequestError" })],
    ["Redis: loading", withFields("LOADING Redis is loading the dataset in memory", { name: "ReplyError" })],
    ["Redis: replica after failover", withFields("READONLY You can't write against a read only replica.", { name: "ReplyError" })],
  ])("%s", (_label, error) => {
    expect(infrastructureFault(error)).not.toBeNull();
  });
});

describe("everything else is not an infrastructure fault (stays a 500)", () => {
  const cyclic = new Error("cyclic");
  (cyclic as { cause?: unknown }).cause = cyclic;
  test.each([
    ["a TypeError", new TypeError("Cannot read properties of undefined (reading 'id')")],
    ["pg: unique violation 23505", withFields("duplicate key value violates unique constraint", { code: "23505" })],
    ["pg: invalid byte sequence 22021", withFields('invalid byte sequence for encoding "UTF8": 0x00', { code: "22021" })],
    ["pg: serialization failure 40001 (a retry loop's job)", withFields("could not serialize access", { code: "40001" })],
    ["Prisma: unique constraint P2002", prismaKnown("P2002")],
    ["Prisma adapter: unique violation", driverAdapterError({ kind: "UniqueConstraintViolation", constraint: { fields: ["id"] } })],
    ["a domain error", new DomainError("CONFLICT", "conflict")],
    ["Redis: wrong type", withFields("WRONGTYPE Operation against a key holding the wrong kind of value", { name: "ReplyError" })],
    ["a cause cycle", cyclic],
    ["a string", "ECONNREFUSED"],
    ["null", null],
    ["undefined", undefined],
  ])("%s", (_label, error) => {
    expect(infrastructureFault(error)).toBeNull();
  });
});
