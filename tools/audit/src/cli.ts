// npm run audit: read-only; exits 1 when an invariant is violated (a reconciliation job can alert on it).
import pg from "pg";
import { z } from "zod";
import { loadConfig, parseDatabaseUrl } from "@shop/config";
import { audit, formatReport } from "./audit.ts";

const config = loadConfig(
  z.object({
    /** The shop's database; its `schema` parameter is ignored (each service's schema is named below). */
    DATABASE_URL: z.string().default("postgresql://postgres@127.0.0.1:5432/ecommerce?schema=public"),
    WALLET_SCHEMA: z.string().default("wallet"),
    CATALOG_SCHEMA: z.string().default("catalog"),
    COUPON_SCHEMA: z.string().default("coupon"),
    PAYMENT_SCHEMA: z.string().default("payment"),
    ORDER_SCHEMA: z.string().default("orders"),
    /** Orders changed more recently than this may still be settling; they are not judged yet. */
    AUDIT_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  }),
);
const { schema: _ignored, ...connection } = parseDatabaseUrl(config.DATABASE_URL);
const client = new pg.Client(connection);
await client.connect();
try {
  // Every check reads one consistent snapshot, and nothing can be written by mistake.
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const report = await audit(
    client,
    { wallet: config.WALLET_SCHEMA, catalog: config.CATALOG_SCHEMA, coupon: config.COUPON_SCHEMA, payment: config.PAYMENT_SCHEMA, orders: config.ORDER_SCHEMA },
    config.AUDIT_GRACE_SECONDS,
  );
  await client.query("COMMIT");
  console.log(formatReport(report));
  process.exitCode = report.violations === 0 ? 0 : 1;
} finally {
  await client.end();
}
