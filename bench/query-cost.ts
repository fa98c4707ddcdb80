// CPU per query on the client side: Prisma's model API, Prisma raw SQL and plain pg, the same
// primary-key read of the wallet 2,000 times each. `npx tsx bench/query-cost.ts` (the wallet
// schema must exist: `npm start` or `npm test` migrates it).
import pg from "pg";
import { parseDatabaseUrl } from "@shop/config";
import { createPrismaClient } from "../services/wallet/src/data/prisma.ts";

const db = parseDatabaseUrl("postgresql://postgres@127.0.0.1:5432/ecommerce?schema=wallet");
const prisma = createPrismaClient(db, 4);
const pool = new pg.Pool({ host: db.host, port: db.port, user: db.user, database: db.database, max: 4, options: `-c search_path="${db.schema}"` });
const runs = 2_000;

async function measure(label: string, query: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) await query();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await query();
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / runs;
  console.log(`${label.padEnd(34)} ${cpuMs.toFixed(3)} ms CPU/query   ${((performance.now() - started) / runs).toFixed(3)} ms wall/query`);
}

await measure("Prisma wallet.findUnique", () => prisma.wallet.findUnique({ where: { userId: "bench-0" } }));
await measure("Prisma $queryRaw", () => prisma.$queryRaw`SELECT balance FROM wallets WHERE user_id = ${"bench-0"}`);
await measure("plain pg", () => pool.query("SELECT balance FROM wallets WHERE user_id = $1", ["bench-0"]));
await prisma.$disconnect();
await pool.end();
