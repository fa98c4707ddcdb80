import type { SqlTransaction } from "@shop/outbox";
import type { OrderLine } from "../domain/model.ts";

/** Units of one product sold on one Seoul day (`YYYY-MM-DD`). */
export interface DaySale extends OrderLine {
  day: string;
}

/**
 * Adds units sold in one statement. The rows are upserted in one fixed order (day, then product
 * id in byte order), so two transactions counting the same products wait for each other instead
 * of deadlocking; the caller sums repeated (day, product) pairs first, since one upsert may not
 * touch a row twice. Also reads this transaction's id, the commit marker of the sales ranking
 * (see sales-ranking.ts), saving a round trip.
 */
const ADD_DAILY_SALES = `
WITH added AS (
  INSERT INTO daily_sales (day, product_id, quantity)
  SELECT sold.day, sold.product_id, sold.quantity
  FROM unnest($1::date[], $2::text[], $3::int[]) AS sold(day, product_id, quantity)
  ORDER BY sold.day, sold.product_id COLLATE "C"
  ON CONFLICT (day, product_id) DO UPDATE SET quantity = daily_sales.quantity + EXCLUDED.quantity
)
SELECT pg_current_xact_id()::text AS xid`;

/** Counts `sales` (each (day, product) at most once) and returns the transaction's commit marker. */
export async function addDailySales(tx: SqlTransaction, sales: readonly DaySale[]): Promise<string> {
  const [row] = await tx.query<{ xid: string }>(ADD_DAILY_SALES, [sales.map((s) => s.day), sales.map((s) => s.productId), sales.map((s) => s.quantity)]);
  return row!.xid;
}
