// Inputs found by fuzzing that used to be 500s: a charge whose body cannot be decoded is a 4xx
// problem+json, and the wallet is untouched.
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { authHeadersFor, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../src/config.ts";
import { start, type RunningWallet } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

let db: TestSchema;
let wallet: RunningWallet;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "wallet-hostile" });
  wallet = await start(loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", EVENTS_ENABLED: "false", DB_POOL_SIZE: "5" }), silentLogger);
});
afterAll(async () => {
  await wallet?.stop();
  await db?.drop();
});

const userId = "hostile-user";
const chargesPath = `/api/v1/users/${userId}/balance/charges`;

async function charge(body: Buffer | string, headers: Record<string, string>) {
  const response = await fetch(`${wallet.url}${chargesPath}`, { method: "POST", headers: { ...(await authHeadersFor(chargesPath)), ...headers }, body });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : undefined };
}

const walletRows = async () => ({
  wallets: await db.query("SELECT user_id, balance::text FROM wallets ORDER BY user_id"),
  ledger: await db.query("SELECT id::text, user_id, amount::text FROM ledger_entries ORDER BY id"),
});

function expectProblem(answer: { status: number; contentType: string; body: any }, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toContain("application/problem+json");
  expect(answer.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    traceId: expect.any(String),
  });
}

test("a charge whose body is not the gzip it claims is a 400, and nothing is charged", async () => {
  const before = await walletRows();
  expectProblem(await charge("definitely not gzip", { "content-type": "application/json", "content-encoding": "gzip" }), 400, "MALFORMED_REQUEST");
  expectProblem(
    await charge(gzipSync('{"amount":1000}').subarray(0, 15), { "content-type": "application/json", "content-encoding": "gzip" }),
    400,
    "MALFORMED_REQUEST",
  );
  expectProblem(await charge('{"amount":1000}', { "content-type": "application/json", "content-encoding": "compress" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  expectProblem(await charge('{"amount":1000}', { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  expect(await walletRows()).toEqual(before);
});

test("a charge whose body is real gzip is charged", async () => {
  const answer = await charge(gzipSync('{"amount":1000}'), { "content-type": "application/json", "content-encoding": "gzip" });
  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ userId, amount: 1000 });
});

test("an Idempotency-Key with control characters is a 400 naming the header, and nothing is charged", async () => {
  const before = await walletRows();
  const answer = await charge('{"amount":1000}', { "content-type": "application/json", "idempotency-key": "key\u0085" });
  expectProblem(answer, 400, "VALIDATION_FAILED");
  expect(answer.body.errors).toEqual([expect.objectContaining({ field: "header.idempotency-key" })]);
  expect(await walletRows()).toEqual(before);
});
