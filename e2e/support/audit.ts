import pg from "pg";
import { audit, formatReport, type AuditReport } from "@shop/audit";
import type { TestSchema } from "@shop/testing";

type SystemSchemas = Record<"wallet" | "catalog" | "coupon" | "payment" | "order", TestSchema>;

/** `npm run audit`'s checks over a test system's schemas, in one read-only snapshot, judging every order (no grace). */
export async function auditSchemas(schemas: SystemSchemas): Promise<AuditReport> {
  const client = new pg.Client(schemas.wallet.connection);
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const report = await audit(
      client,
      {
        wallet: schemas.wallet.schema,
        catalog: schemas.catalog.schema,
        coupon: schemas.coupon.schema,
        payment: schemas.payment.schema,
        orders: schemas.order.schema,
      },
      0,
    );
    await client.query("COMMIT");
    return report;
  } finally {
    await client.end();
  }
}

/**
 * Waits until the audit finds nothing (compensations may still be in flight when a test ends) and
 * throws the report if it still finds something after `timeoutMs`.
 */
export async function expectConsistent(schemas: SystemSchemas, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await auditSchemas(schemas);
    if (report.violations === 0) return;
    if (Date.now() > deadline) throw new Error(`the invariant audit still fails after ${timeoutMs / 1000} s:\n${formatReport(report)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
