import type { SqlTransaction } from "@shop/outbox";
import type { AfterCommit, ParticipantRepository, SagaEvent } from "@shop/saga";
import type { OrderLine, ReservationStatus, StockReservation } from "../domain/model.ts";
import type { ProductCache, SalesRanking } from "../domain/ports.ts";
import { toProduct, type ProductRow } from "./catalog-store.ts";
import type { StockEffect, StockState } from "../domain/saga-participant.ts";
import { addDailySales, type DaySale } from "./daily-sales.ts";

interface ReservationRow {
  order_id: string;
  user_id: string;
  status: ReservationStatus;
  /** json_agg of the items, already in product-id order. */
  items: OrderLine[];
}

const toReservation = (row: ReservationRow): StockReservation => ({ orderId: row.order_id, userId: row.user_id, status: row.status, items: row.items });

interface StockRow {
  id: string;
  stock: number;
}

/**
 * The batch's reservations with their items, in one statement. Not locked: the runner holds the
 * orders' advisory locks, which every writer of a reservation takes first.
 */
const LOAD_RESERVATIONS = `
SELECT r.order_id, r.user_id, r.status::text AS status,
       COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity) ORDER BY i.product_id COLLATE "C")
                 FROM stock_reservation_items i WHERE i.order_id = r.order_id), '[]'::json) AS items
FROM stock_reservations r
WHERE r.order_id = ANY($1::text[])`;

/**
 * The stock of the named products, locked until the batch commits, so nothing changes it between
 * the decisions and the save. Rows are locked in the order the sort yields them: every statement
 * locking several products does so in byte order of the id, so two batches sharing products
 * wait for each other, never deadlock. FOR NO KEY UPDATE is what an UPDATE takes: the
 * foreign-key checks of other orders' items and sales do not wait for it. A row locked after
 * waiting is read in its newest committed version (READ COMMITTED).
 */
const LOCK_STOCK = `SELECT id, stock FROM products WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR NO KEY UPDATE`;

/** Writes the batch's final stock of the products it changed, each version bumped once; the rows are locked since load. */
const SAVE_STOCK = `
UPDATE products p SET stock = s.stock, version = p.version + 1, updated_at = now()
FROM unnest($1::text[], $2::int[]) AS s(id, stock)
WHERE p.id = s.id
RETURNING p.id, p.name, p.price, p.stock, p.version`;

/** Creates the batch's new reservations and moves the status of existing ones, each order once. */
const SAVE_RESERVATIONS = `
INSERT INTO stock_reservations (order_id, user_id, status)
SELECT * FROM unnest($1::text[], $2::text[], $3::stock_reservation_status[])
ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()`;

/** The lines of the batch's new reservations: written once, when the stock is taken. */
const SAVE_ITEMS = `
INSERT INTO stock_reservation_items (order_id, product_id, quantity)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[])`;

/** Every product an event of the batch names, as items (BalanceDebited, OrderCompleted). */
const productsNamedBy = (events: SagaEvent[]) => events.flatMap((e) => ("items" in e ? e.items.map((i) => i.productId) : []));

/** Where the catalog's saga state lives: plain `pg` in the runner's transaction, set-based writes. */
export class PgStockRepository implements ParticipantRepository<StockState, StockEffect> {
  constructor(
    private readonly ranking: SalesRanking,
    private readonly productCache: ProductCache,
  ) {}

  async load(tx: SqlTransaction, events: SagaEvent[]): Promise<StockState> {
    const reservations = (await tx.query<ReservationRow>(LOAD_RESERVATIONS, [[...new Set(events.map((e) => e.orderId))]])).map(toReservation);
    // What the decisions may check or move: the events' products, and what a RESERVED record may give back.
    const held = reservations.filter((r) => r.status === "RESERVED").flatMap((r) => r.items.map((i) => i.productId));
    const productIds = [...new Set([...productsNamedBy(events), ...held])];
    const stock = productIds.length ? await tx.query<StockRow>(LOCK_STOCK, [productIds]) : [];
    return {
      reservations: new Map(reservations.map((r) => [r.orderId, r])),
      stock: new Map(stock.map((s) => [s.id, s.stock])),
    };
  }

  async save(tx: SqlTransaction, effects: StockEffect[], state: StockState): Promise<AfterCommit | void> {
    const orders = new Set<string>();
    const movedProducts = new Set<string>();
    const newItems: { orderId: string; line: OrderLine }[] = [];
    const sales: DaySale[] = [];
    for (const effect of effects) {
      if (effect.kind === "sold") {
        sales.push(...effect.lines.map((line) => ({ day: effect.day, ...line })));
        continue;
      }
      orders.add(effect.reservation.orderId);
      if (effect.kind === "reserved" || effect.kind === "released") for (const line of effect.reservation.items) movedProducts.add(line.productId);
      if (effect.kind === "reserved") newItems.push(...effect.reservation.items.map((line) => ({ orderId: effect.reservation.orderId, line })));
    }

    // The final state already holds every effect of the batch: write each product and order once.
    const afterCommit: AfterCommit[] = [];
    if (movedProducts.size) {
      const ids = [...movedProducts];
      const saved = await tx.query<ProductRow>(SAVE_STOCK, [ids, ids.map((id) => state.stock.get(id)!)]);
      // Product reads see the new stock at once rather than after the cache entry expires (the
      // version guards against a reader that loaded the old row overwriting it).
      afterCommit.push(() => Promise.all(saved.map((row) => this.productCache.offer(toProduct(row)))).then(() => undefined));
    }
    if (orders.size) {
      const records = [...orders].map((id) => state.reservations.get(id)!);
      await tx.execute(SAVE_RESERVATIONS, [records.map((r) => r.orderId), records.map((r) => r.userId), records.map((r) => r.status)]);
    }
    if (newItems.length) {
      await tx.execute(SAVE_ITEMS, [newItems.map((i) => i.orderId), newItems.map((i) => i.line.productId), newItems.map((i) => i.line.quantity)]);
    }
    if (sales.length) afterCommit.push(await this.countSales(tx, sales));
    if (afterCommit.length) return async () => void (await Promise.all(afterCommit.map((run) => run())));
  }

  /** Adds the batch's sales (which may span several Seoul days) and tells the ranking cache once they are committed. */
  private async countSales(tx: SqlTransaction, sales: DaySale[]): Promise<AfterCommit> {
    const byDay = new Map<string, Map<string, number>>();
    for (const { day, productId, quantity } of sales) {
      const units = byDay.get(day) ?? new Map<string, number>();
      byDay.set(day, units.set(productId, (units.get(productId) ?? 0) + quantity));
    }
    const summed = [...byDay].map(([day, units]) => ({ day, lines: [...units].map(([productId, quantity]) => ({ productId, quantity })) }));
    const commitMarker = await addDailySales(
      tx,
      summed.flatMap(({ day, lines }) => lines.map((line) => ({ day, ...line }))),
    );
    return async () => {
      await Promise.all(summed.map(({ day, lines }) => this.ranking.record(day, lines, commitMarker)));
    };
  }
}
