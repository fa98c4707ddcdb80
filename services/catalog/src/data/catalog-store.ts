import { Prisma } from "./generated/prisma/client.ts";
import { appendEvents, claimInboxEvent } from "@shop/outbox";
import type { OrderLine, Page, Product, ProductSales, StockReservation, TakeStockOutcome } from "../domain/model.ts";
import type { CatalogStore, CatalogTransaction, DomainEvent } from "../domain/ports.ts";
import type { PrismaClient } from "./prisma.ts";

type Tx = Prisma.TransactionClient;

interface ProductRow {
  id: string;
  name: string;
  price: bigint;
  stock: number;
  version: number;
}

const toProduct = (row: ProductRow): Product => ({ id: row.id, name: row.name, price: Number(row.price), stock: row.stock, version: row.version });

const productColumns = { id: true, name: true, price: true, stock: true, version: true } as const;

/** What a rebuild of one day's ranking reads: the sales and the snapshot they were read in. */
export interface DaySalesSnapshot {
  /** `pg_current_snapshot()` of the read, `xmin:xmax:xip,...`. */
  snapshot: string;
  sales: ProductSales[];
}

class PrismaCatalogTransaction implements CatalogTransaction {
  constructor(
    private readonly tx: Tx,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async lockProduct(productId: string): Promise<Product | null> {
    const [row] = await this.tx.$queryRaw<ProductRow[]>`SELECT id, name, price, stock, version FROM products WHERE id = ${productId} FOR UPDATE`;
    return row ? toProduct(row) : null;
  }

  async saveProduct(product: Product): Promise<Product> {
    const row = await this.tx.product.update({
      where: { id: product.id },
      data: { name: product.name, price: BigInt(product.price), stock: product.stock, version: { increment: 1 } },
      select: productColumns,
    });
    return toProduct(row);
  }

  async takeStock(lines: OrderLine[]): Promise<TakeStockOutcome> {
    // A savepoint undoes the lines already taken when a later one is short; one line needs none.
    const partialPossible = lines.length > 1;
    if (partialPossible) await this.tx.$executeRawUnsafe("SAVEPOINT take_stock");
    for (const { productId, quantity } of lines) {
      // Conditional decrement: waits only for this product's row lock, never for other products.
      const taken = await this.tx.$executeRaw`
        UPDATE products SET stock = stock - ${quantity}, version = version + 1, updated_at = now()
        WHERE id = ${productId} AND stock >= ${quantity}`;
      if (taken === 1) continue;
      if (partialPossible) await this.tx.$executeRawUnsafe("ROLLBACK TO SAVEPOINT take_stock");
      const exists = await this.tx.product.count({ where: { id: productId } });
      return { taken: false, productId, reason: exists ? "INSUFFICIENT_STOCK" : "UNKNOWN_PRODUCT" };
    }
    if (partialPossible) await this.tx.$executeRawUnsafe("RELEASE SAVEPOINT take_stock");
    return { taken: true };
  }

  async returnStock(lines: OrderLine[]): Promise<void> {
    for (const { productId, quantity } of lines) {
      await this.tx.$executeRaw`UPDATE products SET stock = stock + ${quantity}, version = version + 1, updated_at = now() WHERE id = ${productId}`;
    }
  }

  async lockOrder(orderId: string): Promise<void> {
    await this.tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`order:${orderId}`}))`;
  }

  async findReservation(orderId: string): Promise<StockReservation | null> {
    const row = await this.tx.stockReservation.findUnique({
      where: { orderId },
      include: { items: { select: { productId: true, quantity: true }, orderBy: { productId: "asc" } } },
    });
    return row && { orderId: row.orderId, userId: row.userId, status: row.status, items: row.items };
  }

  async saveReservation(reservation: StockReservation): Promise<void> {
    const { orderId, userId, status, items } = reservation;
    await this.tx.stockReservation.upsert({
      where: { orderId },
      create: { orderId, userId, status, items: { createMany: { data: items.map((i) => ({ productId: i.productId, quantity: i.quantity })) } } },
      update: { status },
    });
  }

  async addDailySales(day: string, lines: OrderLine[]): Promise<OrderLine[]> {
    // Joined with products: units of an id the catalog does not know are not ranked.
    const rows = await this.tx.$queryRaw<{ product_id: string; quantity: number }[]>`
      INSERT INTO daily_sales (day, product_id, quantity)
      SELECT ${day}::date, sold.product_id, sold.quantity
      FROM unnest(${lines.map((l) => l.productId)}::text[], ${lines.map((l) => l.quantity)}::int[]) AS sold(product_id, quantity)
      JOIN products p ON p.id = sold.product_id
      ORDER BY sold.product_id
      ON CONFLICT (day, product_id) DO UPDATE SET quantity = daily_sales.quantity + EXCLUDED.quantity
      RETURNING product_id`;
    const counted = new Set(rows.map((r) => r.product_id));
    return lines.filter((l) => counted.has(l.productId));
  }

  async commitMarker(): Promise<string> {
    const [row] = await this.tx.$queryRaw<{ xid: string }[]>`SELECT pg_current_xact_id()::text AS xid`;
    return row!.xid;
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

export class PrismaCatalogStore implements CatalogStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async listProducts(limit: number, cursor?: string): Promise<Page<Product>> {
    const rows = await this.prisma.product.findMany({
      where: cursor ? { id: { gt: cursor } } : {},
      orderBy: { id: "asc" },
      take: limit + 1,
      select: productColumns,
    });
    const items = rows.slice(0, limit).map(toProduct);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async findProduct(productId: string): Promise<Product | null> {
    const row = await this.prisma.product.findUnique({ where: { id: productId }, select: productColumns });
    return row && toProduct(row);
  }

  async findProducts(productIds: string[]): Promise<Product[]> {
    if (productIds.length === 0) return [];
    return (await this.prisma.product.findMany({ where: { id: { in: productIds } }, select: productColumns })).map(toProduct);
  }

  async createProduct(product: Product): Promise<Product> {
    const row = await this.prisma.product.create({
      data: { id: product.id, name: product.name, price: BigInt(product.price), stock: product.stock },
      select: productColumns,
    });
    return toProduct(row);
  }

  insertIfCatalogEmpty(products: Product[]): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      // Two instances seeding at once: the second waits here, then finds the catalog not empty.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('catalog:seed'))`;
      if (await tx.product.findFirst({ select: { id: true } })) return 0;
      const { count } = await tx.product.createMany({ data: products.map((p) => ({ id: p.id, name: p.name, price: BigInt(p.price), stock: p.stock })) });
      return count;
    });
  }

  /** One Seoul day's sales and the snapshot they were read in (one statement, one snapshot). */
  async daySalesSnapshot(day: string): Promise<DaySalesSnapshot> {
    const [row] = await this.prisma.$queryRaw<{ snapshot: string; sales: [string, number][] }[]>`
      SELECT pg_current_snapshot()::text AS snapshot,
             COALESCE((SELECT json_agg(json_build_array(product_id, quantity)) FROM daily_sales WHERE day = ${day}::date), '[]'::json) AS sales`;
    return { snapshot: row!.snapshot, sales: row!.sales.map(([productId, quantity]) => ({ productId, quantity })) };
  }

  transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PrismaCatalogTransaction(tx, this.schema, this.topicPrefix)), { timeout: 15_000, maxWait: 10_000 });
  }
}
