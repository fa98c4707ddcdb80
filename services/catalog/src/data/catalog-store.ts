import { batchedLookup } from "@shop/batching";
import { createSqlPool, inTransaction, type SqlTransaction } from "@shop/outbox";
import type { OrderLine, Page, Product, ProductSales } from "../domain/model.ts";
import type { CatalogStore, CatalogTransaction } from "../domain/ports.ts";
import { addDailySales } from "./daily-sales.ts";

/** The service's plain `pg` pool (see `createSqlPool` of @shop/outbox). */
export type SqlPool = ReturnType<typeof createSqlPool>;

/** A products row as pg returns it: BIGINT comes back as a string. */
export interface ProductRow {
  id: string;
  name: string;
  price: string;
  stock: number;
  version: number;
}

const PRODUCT_COLUMNS = "id, name, price, stock, version";

export const toProduct = (row: ProductRow): Product => ({ id: row.id, name: row.name, price: Number(row.price), stock: row.stock, version: row.version });

/** What a rebuild of one day's ranking reads: the sales and the snapshot they were read in. */
export interface DaySalesSnapshot {
  /** `pg_current_snapshot()` of the read, `xmin:xmax:xip,...`. */
  snapshot: string;
  sales: ProductSales[];
}

class PgCatalogTransaction implements CatalogTransaction {
  /** pg_current_xact_id() of this transaction, once a statement has read it. */
  private xid: string | undefined;

  constructor(private readonly tx: SqlTransaction) {}

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

  async addDailySales(day: string, lines: OrderLine[]): Promise<void> {
    this.xid = await addDailySales(
      this.tx,
      lines.map((line) => ({ day, ...line })),
    );
  }

  async commitMarker(): Promise<string> {
    if (this.xid === undefined) {
      const [row] = await this.tx.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
      this.xid = row!.xid;
    }
    return this.xid;
  }
}

export class PgCatalogStore implements CatalogStore {
  /**
   * Product rows by id: reads that arrive together (the quotes of concurrent placements, cache
   * misses) are one query. Each is answered by a query that started after it was asked, so a quote
   * stays authoritative.
   */
  private readonly products;

  constructor(private readonly pool: SqlPool) {
    this.products = batchedLookup(
      async (productIds: string[]) =>
        new Map(
          (await this.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ANY($1::text[])`, [productIds])).map((row) => [
            row.id,
            toProduct(row),
          ]),
        ),
      { maxBatchSize: 500, maxInFlight: Math.max(1, Math.floor(pool.options.max / 2)) },
    );
  }

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
    return (await this.products(productId)) ?? null;
  }

  async findProducts(productIds: string[]): Promise<Product[]> {
    const found = await Promise.all([...new Set(productIds)].map((id) => this.products(id)));
    return found.filter((product) => product !== undefined);
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
    return inTransaction(this.pool, (tx) => work(new PgCatalogTransaction(tx)));
  }
}
