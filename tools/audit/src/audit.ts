import type pg from "pg";

/** Where each service keeps its data (PostgreSQL schemas of one database). */
export interface AuditSchemas {
  wallet: string;
  catalog: string;
  coupon: string;
  payment: string;
  orders: string;
}

export interface InvariantCheck {
  name: string;
  /** What must hold. */
  rule: string;
  violations: number;
  /** A few offending keys, to start looking. */
  examples: string[];
}

export interface AuditReport {
  checks: InvariantCheck[];
  /** Work in flight, reported but not a violation: outbox rows waiting per service, and the oldest one's age. */
  backlog: { service: string; outboxRows: number; oldestSeconds: number }[];
  violations: number;
}

const quoted = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Each check is one read-only query returning the keys that break its rule. Orders still settling
 * (changed within `graceSeconds`) are left out of the cross-service checks: their compensations
 * or completions may be in flight.
 */
function checksOf(s: Record<keyof AuditSchemas, string>): { name: string; rule: string; sql: string }[] {
  const settled = `o.updated_at < now() - make_interval(secs => $1)`;
  return [
    {
      name: "wallet balance = its ledger",
      rule: "every wallet's balance is the sum of its ledger entries",
      sql: `SELECT w.user_id AS key FROM ${s.wallet}.wallets w
            LEFT JOIN (SELECT user_id, sum(amount) AS total FROM ${s.wallet}.ledger_entries GROUP BY user_id) l USING (user_id)
            WHERE w.balance <> COALESCE(l.total, 0)`,
    },
    {
      name: "no negative balance",
      rule: "no wallet is below 0 KRW",
      sql: `SELECT user_id AS key FROM ${s.wallet}.wallets WHERE balance < 0`,
    },
    {
      name: "COMPLETED ⇒ debited once",
      rule: "a COMPLETED order's total is debited (and not refunded)",
      sql: `SELECT o.order_id AS key FROM ${s.orders}.orders o LEFT JOIN ${s.wallet}.order_debits d ON d.order_id = o.order_id
            WHERE o.status = 'COMPLETED' AND (d.order_id IS NULL OR d.status <> 'DEBITED' OR d.amount <> o.total_amount)`,
    },
    {
      name: "COMPLETED ⇒ paid once",
      rule: "a COMPLETED order has exactly one payment, COMPLETED, of its total",
      sql: `SELECT o.order_id AS key FROM ${s.orders}.orders o
            WHERE o.status = 'COMPLETED' AND (SELECT count(*) FROM ${s.payment}.payments p WHERE p.order_id = o.order_id AND p.status = 'COMPLETED' AND p.amount = o.total_amount) <> 1`,
    },
    {
      name: "COMPLETED ⇒ stock taken",
      rule: "a COMPLETED order's stock is reserved or committed",
      sql: `SELECT o.order_id AS key FROM ${s.orders}.orders o LEFT JOIN ${s.catalog}.stock_reservations r ON r.order_id = o.order_id
            WHERE o.status = 'COMPLETED' AND (r.order_id IS NULL OR r.status NOT IN ('RESERVED', 'COMMITTED'))`,
    },
    {
      name: "FAILED ⇒ nothing kept",
      rule: "a settled FAILED order keeps no money, no stock and no payment",
      sql: `SELECT o.order_id AS key FROM ${s.orders}.orders o
            WHERE o.status = 'FAILED' AND ${settled} AND (
              EXISTS (SELECT 1 FROM ${s.wallet}.order_debits d WHERE d.order_id = o.order_id AND d.status = 'DEBITED')
              OR EXISTS (SELECT 1 FROM ${s.catalog}.stock_reservations r WHERE r.order_id = o.order_id AND r.status IN ('RESERVED', 'COMMITTED'))
              OR EXISTS (SELECT 1 FROM ${s.payment}.payments p WHERE p.order_id = o.order_id AND p.status = 'COMPLETED'))`,
    },
    {
      name: "no PENDING order past its deadline",
      rule: "no order is still PENDING after its deadline plus the grace",
      sql: `SELECT o.order_id AS key FROM ${s.orders}.orders o WHERE o.status = 'PENDING' AND o.deadline_at < now() - make_interval(secs => $1)`,
    },
    {
      name: "campaigns never over-issued",
      rule: "a campaign issued at most its total quantity, and its counter matches its coupons",
      sql: `SELECT c.id::text AS key FROM ${s.coupon}.coupons c
            WHERE c.issued_quantity > c.total_quantity OR c.issued_quantity <> (SELECT count(*) FROM ${s.coupon}.user_coupons u WHERE u.coupon_id = c.id)`,
    },
    {
      name: "one coupon per user and campaign",
      rule: "no user holds two coupons of one campaign",
      sql: `SELECT coupon_id::text || '/' || user_id AS key FROM ${s.coupon}.user_coupons GROUP BY coupon_id, user_id HAVING count(*) > 1`,
    },
    {
      name: "a coupon in at most one COMPLETED order",
      rule: "no user coupon discounts two COMPLETED orders",
      sql: `SELECT o.user_coupon_id AS key FROM ${s.orders}.orders o WHERE o.status = 'COMPLETED' AND o.user_coupon_id IS NOT NULL
            GROUP BY o.user_coupon_id HAVING count(*) > 1`,
    },
  ];
}

/** Runs every check (read-only) and counts the outbox backlog. */
export async function audit(client: pg.ClientBase, schemas: AuditSchemas, graceSeconds: number): Promise<AuditReport> {
  const s = {
    wallet: quoted(schemas.wallet),
    catalog: quoted(schemas.catalog),
    coupon: quoted(schemas.coupon),
    payment: quoted(schemas.payment),
    orders: quoted(schemas.orders),
  };
  const checks: InvariantCheck[] = [];
  for (const check of checksOf(s)) {
    const usesGrace = check.sql.includes("$1");
    const { rows } = await client.query<{ key: string }>(check.sql, usesGrace ? [graceSeconds] : []);
    checks.push({ name: check.name, rule: check.rule, violations: rows.length, examples: rows.slice(0, 5).map((r) => String(r.key)) });
  }
  const backlog = [];
  for (const [service, schema] of Object.entries(s)) {
    const { rows } = await client.query<{ rows: number; oldest: number | null }>(
      `SELECT count(*)::int AS rows, EXTRACT(EPOCH FROM now() - min(created_at))::float AS oldest FROM ${schema}.outbox_events`,
    );
    backlog.push({ service, outboxRows: rows[0]!.rows, oldestSeconds: Math.round(rows[0]!.oldest ?? 0) });
  }
  return { checks, backlog, violations: checks.reduce((sum, c) => sum + c.violations, 0) };
}

/** The report as an operator reads it. */
export function formatReport(report: AuditReport): string {
  const lines = report.checks.map(
    (c) => `${c.violations === 0 ? "ok  " : "FAIL"}  ${c.name.padEnd(40)} ${String(c.violations).padStart(6)}  ${c.examples.join(", ")}`,
  );
  const backlog = report.backlog.map(
    (b) => `      outbox ${b.service.padEnd(8)} ${String(b.outboxRows).padStart(6)} rows waiting, oldest ${b.oldestSeconds} s`,
  );
  return [...lines, ...backlog, report.violations === 0 ? "no invariant violated" : `${report.violations} violation(s)`].join("\n");
}
