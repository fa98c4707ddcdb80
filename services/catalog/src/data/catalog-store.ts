import { appendEvents, claimInboxEvent, createSqlPool, inTransaction, lockOrder as lockOrderIn, type SqlTransaction } from "@shop/outbox";
import type { OrderLine, Page, Product, ProductSales, ReservationStatus, StockReservation, TakeStockOutcome } from "../domain/model.ts";
import type { CatalogStore, CatalogTransaction, DomainEvent } from "../domain/ports.ts";

/** The service's plain `pg` pool (see `createSqlPool` of @shop/outbox). */
export type SqlPool = ReturnType<typeof createSqlPool>;

/** A products row as pg returns it: BIGINT comes back as a string. */
interface ProductRow {
  id: string;
  name: string;
  price: string;
  stock: number;
  version: number;
}

const PRODUCT_COLUMNS = "id, name, price, stock, version";

const toProduct = (row: ProductRow): Product => ({ id: row.id, name: row.name, price: Number(row.price), stock: row.stock, version: row.version });

interface ReservationRow {
  order_id: string;
  user_id: string;
  status: ReservationStatus;
  /** json_agg of the items, already in product-id order. */
  items: OrderLine[];
}

const toReservation = (row: ReservationRow): StockReservation => ({ orderId: row.order_id, userId: row.user_id, status: row.status, items: row.items });

/** The row of takeStock's statement: present only when some line could not be taken. */
interface ShortLineRow {
  product_id: string;
  unknown: boolean;
}

/** What a rebuild of one day's ranking reads: the sales and the snapshot they were read in. */
export interface DaySalesSnapshot {
  /** `pg_current_snapshot()` of the read, `xmin:xmax:xip,...`. */
  snapshot: string;
  sales: ProductSales[];
}

/**
 * Product rows are locked in this order by every statement that locks several of them (take and
 * return), so two orders sharing products can never deadlock. Byte order, like linesByProduct.
 */
const LOCK_ORDER = `ORDER BY p.id COLLATE "C"`;

/**
 * All or nothing in one statement: the order's products are locked (in LOCK_ORDER, for no key
 * update: what an UPDATE takes, so foreign-key checks of other orders do not wait), every line is
 * checked against the locked (latest) stock, and only if none is short or unknown are all lines
 * decremented. Returns the first line (in the order given) that could not be taken, or no row.
 * A row locked after waiting is read in its newest committed version (READ COMMITTED), and the
 * UPDATE re-reads it the same way, so a concurrent change is never lost; the CHECK stock >= 0
 * stays the last guard.
 */
const TAKE_STOCK = `
WITH wanted AS (
  SELECT w.product_id, sum(w.quantity)::int AS quantity, min(w.ord) AS ord
  FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS w(product_id, quantity, ord)
  GROUP BY w.product_id
),
locked AS MATERIALIZED (
  SELECT p.id, p.stock FROM products p WHERE p.id = ANY($1::text[]) ${LOCK_ORDER} FOR NO KEY UPDATE
),
short AS MATERIALIZED (
  SELECT w.product_id, l.id IS NULL AS unknown
  FROM wanted w LEFT JOIN locked l ON l.id = w.product_id
  WHERE l.id IS NULL OR l.stock < w.quantity
  ORDER BY w.ord
  LIMIT 1
),
taken AS (
  UPDATE products p SET stock = p.stock - w.quantity, version = p.version + 1, updated_at = now()
  FROM wanted w
  WHERE p.id = w.product_id AND NOT EXISTS (SELECT 1 FROM short)
  RETURNING p.id
)
SELECT product_id, unknown FROM short`;

/** Gives quantities back in one statement, the rows locked in LOCK_ORDER first. */
const RETURN_STOCK = `
WITH back AS (
  SELECT b.product_id, sum(b.quantity)::int AS quantity
  FROM unnest($1::text[], $2::int[]) AS b(product_id, quantity)
  GROUP BY b.product_id
),
locked AS MATERIALIZED (
  SELECT p.id FROM products p WHERE p.id = ANY($1::text[]) ${LOCK_ORDER} FOR NO KEY UPDATE
)
UPDATE products p SET stock = p.stock + b.quantity, version = p.version + 1, updated_at = now()
FROM back b JOIN locked l ON l.id = b.product_id
WHERE p.id = l.id`;

/** The reservation and its items (product-id order), in one statement. */
const FIND_RESERVATION = `
SELECT r.order_id, r.user_id, r.status::text AS status,
       COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity) ORDER BY i.product_id COLLATE "C")
                 FROM stock_reservation_items i WHERE i.order_id = r.order_id), '[]'::json) AS items
FROM stock_reservations r
WHERE r.order_id = $1`;

/**
 * Creates the reservation with its items, or updates only its status: one statement. `xmax = 0`
 * holds for a row this statement inserted (not for one ON CONFLICT updated), so the items are
 * written only on creation.
 */
const SAVE_RESERVATION = `
WITH saved AS (
  INSERT INTO stock_reservations (order_id, user_id, status)
  VALUES ($1, $2, $3::stock_reservation_status)
  ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
  RETURNING order_id, (xmax = 0) AS created
)
INSERT INTO stock_reservation_items (order_id, product_id, quantity)
SELECT saved.order_id, item.product_id, item.quantity
FROM saved, unnest($4::text[], $5::int[]) AS item(product_id, quantity)
WHERE saved.created`;

/**
 * Adds units sold, joined with products: units of an id the catalog does not know are not ranked.
 * Also reads this transaction's id (the commit marker), saving commitMarker a round trip.
 */
const ADD_DAILY_SALES = `
WITH added AS (
  INSERT INTO daily_sales (day, product_id, quantity)
  SELECT $1::date, sold.product_id, sold.quantity
  FROM unnest($2::text[], $3::int[]) AS sold(product_id, quantity)
  JOIN products p ON p.id = sold.product_id
  ORDER BY sold.product_id
  ON CONFLICT (day, product_id) DO UPDATE SET quantity = daily_sales.quantity + EXCLUDED.quantity
  RETURNING product_id
)
SELECT pg_current_xact_id()::text AS xid, COALESCE((SELECT array_agg(product_id) FROM added), '{}') AS counted`;

class PgCatalogTransaction implements CatalogTransaction {
  /** pg_current_xact_id() of this transaction, once a statement has read it. */
  private xid: string | undefined;

  constructor(
    private readonly tx: SqlTransaction,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async lockProduct(productId: string): Promise<Product | null> {
    const [row] = await this.tx.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1 FOR UPDATE`, [productId]);
    return row ? toProduct(row) : null;
  }

  async saveProduct(product: Product): Promise<Product> {
    const [row] = await this.tx.query<ProductRow>(
      `UPDATE products SET name = $2, price = $3, stock = $4, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${PRODUCT_COLUMNS}`,
      [product.id, product.name, product.price, product.stock],
    );
    if (!row) throw new Error(`product ${product.id} vanished while locked`);
    return toProduct(row);
  }

  async takeStock(lines: OrderLine[]): Promise<TakeStockOutcome> {
    const [short] = await this.tx.query<ShortLineRow>(TAKE_STOCK, [lines.map((l) => l.productId), lines.map((l) => l.quantity)]);
    if (!short) return { taken: true };
    return { taken: false, productId: short.product_id, reason: short.unknown ? "UNKNOWN_PRODUCT" : "INSUFFICIENT_STOCK" };
  }

  async returnStock(lines: OrderLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.tx.execute(RETURN_STOCK, [lines.map((l) => l.productId), lines.map((l) => l.quantity)]);
  }

  lockOrder(orderId: string): Promise<void> {
    return lockOrderIn(this.tx, "catalog", orderId);
  }

  async findReservation(orderId: string): Promise<StockReservation | null> {
    const [row] = await this.tx.query<ReservationRow>(FIND_RESERVATION, [orderId]);
    return row ? toReservation(row) : null;
  }

  async saveReservation(reservation: StockReservation): Promise<void> {
    const { orderId, userId, status, items } = reservation;
    await this.tx.execute(SAVE_RESERVATION, [orderId, userId, status, items.map((i) => i.productId), items.map((i) => i.quantity)]);
  }

  async addDailySales(day: string, lines: OrderLine[]): Promise<OrderLine[]> {
    const [row] = await this.tx.query<{ xid: string; counted: string[] }>(ADD_DAILY_SALES, [day, lines.map((l) => l.productId), lines.map((l) => l.quantity)]);
    this.xid = row!.xid;
    const counted = new Set(row!.counted);
    return lines.filter((l) => counted.has(l.productId));
  }

  async commitMarker(): Promise<string> {
    if (this.xid === undefined) {
      const [row] = await this.tx.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
      this.xid = row!.xid;
    }
    return this.xid;
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

export class PgCatalogStore implements CatalogStore {
  constructor(
    private readonly pool: SqlPool,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  private async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }

  async listProducts(limit: number, cursor?: string): Promise<Page<Product>> {
    const rows = cursor
      ? await this.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id > $2 ORDER BY id LIMIT $1`, [limit + 1, cursor])
      : await this.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products ORDER BY id LIMIT $1`, [limit + 1]);
    const items = rows.slice(0, limit).map(toProduct);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async findProduct(productId: string): Promise<Product | null> {
    const [row] = await this.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1`, [productId]);
    return row ? toProduct(row) : null;
  }

  async findProducts(productIds: string[]): Promise<Product[]> {
    if (productIds.length === 0) return [];
    return (await this.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ANY($1::text[])`, [productIds])).map(toProduct);
  }

  async createProduct(product: Product): Promise<Product> {
    const [row] = await this.query<ProductRow>(`INSERT INTO products (id, name, price, stock) VALUES ($1, $2, $3, $4) RETURNING ${PRODUCT_COLUMNS}`, [
      product.id,
      product.name,
      product.price,
      product.stock,
    ]);
    return toProduct(row!);
  }

  insertIfCatalogEmpty(products: Product[]): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      // Two instances seeding at once: the second waits here, then finds the catalog not empty.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('catalog:seed'))");
      return tx.execute(
        `INSERT INTO products (id, name, price, stock)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])
         WHERE NOT EXISTS (SELECT 1 FROM products)`,
        [products.map((p) => p.id), products.map((p) => p.name), products.map((p) => p.price), products.map((p) => p.stock)],
      );
    });
  }

  /** One Seoul day's sales and the snapshot they were read in (one statement, one snapshot). */
  async daySalesSnapshot(day: string): Promise<DaySalesSnapshot> {
    const [row] = await this.query<{ snapshot: string; sales: [string, number][] }>(
      `SELECT pg_current_snapshot()::text AS snapshot,
              COALESCE((SELECT json_agg(json_build_array(product_id, quantity)) FROM daily_sales WHERE day = $1::date), '[]'::json) AS sales`,
      [day],
    );
    return { snapshot: row!.snapshot, sales: row!.sales.map(([productId, quantity]) => ({ productId, quantity })) };
  }

  transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (tx) => work(new PgCatalogTransaction(tx, this.schema, this.topicPrefix)));
  }
}
