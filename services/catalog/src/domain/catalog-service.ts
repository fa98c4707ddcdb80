import { ProductNotFoundError, ProductsNotFoundError, StockBelowZeroError, StockLimitExceededError } from "./errors.ts";
import { MAX_STOCK, TOP_SELLERS_LIMIT, type NewProduct, type Page, type Product, type ProductChange, type TopSellers } from "./model.ts";
import type { CatalogStore, Clock, ProductCache, SalesRanking } from "./ports.ts";
import { newProductId } from "./rules.ts";
import { topSellersWindow } from "./sales-window.ts";

/** Products, prices for orders and the top sellers. */
export class CatalogService {
  constructor(
    private readonly store: CatalogStore,
    private readonly cache: ProductCache,
    private readonly ranking: SalesRanking,
    private readonly now: Clock,
  ) {}

  /** Straight from PostgreSQL: a page would need invalidating on every change of any product on it. */
  listProducts(limit: number, cursor?: string): Promise<Page<Product>> {
    return this.store.listProducts(limit, cursor);
  }

  /** Cache first; a miss is read from PostgreSQL and offered to the cache. */
  async getProduct(productId: string): Promise<Product> {
    const cached = await this.cache.get(productId);
    if (cached) return cached;
    const product = await this.store.findProduct(productId);
    if (!product) throw new ProductNotFoundError(productId);
    await this.cache.offer(product);
    return product;
  }

  async createProduct(input: NewProduct): Promise<Product> {
    const product = await this.store.createProduct({ id: newProductId(this.now()), ...input, version: 1 });
    await this.cache.offer(product);
    return product;
  }

  /**
   * Changes name, price and/or stock in one transaction on the locked row; a stock that would go
   * below 0 (or above MAX_STOCK) changes nothing. The committed product is written through to the
   * cache at once, so a new price is visible to the next read.
   */
  async updateProduct(productId: string, change: ProductChange): Promise<Product> {
    const product = await this.store.transaction(async (tx) => {
      const current = await tx.lockProduct(productId);
      if (!current) throw new ProductNotFoundError(productId);
      const delta = change.stockDelta ?? 0;
      const stock = current.stock + delta;
      if (stock < 0) throw new StockBelowZeroError(productId, current.stock, delta);
      if (stock > MAX_STOCK) throw new StockLimitExceededError(productId, current.stock, delta, MAX_STOCK);
      return tx.saveProduct({ ...current, name: change.name ?? current.name, price: change.price ?? current.price, stock });
    });
    await this.cache.offer(product);
    return product;
  }

  /**
   * Authoritative prices for an order, read from PostgreSQL (never a cache), in the order asked.
   * Any unknown id fails the whole quote, listing every missing id.
   */
  async quote(productIds: string[]): Promise<Product[]> {
    const found = new Map((await this.store.findProducts(productIds)).map((p) => [p.id, p]));
    const missing = productIds.filter((id) => !found.has(id));
    if (missing.length) throw new ProductsNotFoundError(missing);
    return productIds.map((id) => found.get(id)!);
  }

  /** Units sold in COMPLETED orders over the window of topSellersWindow, with today's name and price. */
  async topSellers(): Promise<TopSellers> {
    const window = topSellersWindow(this.now());
    const ranked = await this.ranking.top(window.days, TOP_SELLERS_LIMIT);
    const products = await this.productsForDisplay(ranked.map((r) => r.productId));
    // Sales are only recorded for products of the catalog, and products are never deleted.
    const items = ranked
      .filter((r) => products.has(r.productId))
      .map((r, i) => {
        const product = products.get(r.productId)!;
        return { rank: i + 1, productId: r.productId, name: product.name, price: product.price, soldQuantity: r.quantity };
      });
    return { from: window.from, to: window.to, items };
  }

  private async productsForDisplay(productIds: string[]): Promise<Map<string, Product>> {
    const products = await this.cache.getMany(productIds);
    const missing = productIds.filter((id) => !products.has(id));
    if (missing.length) {
      for (const product of await this.store.findProducts(missing)) {
        products.set(product.id, product);
        await this.cache.offer(product);
      }
    }
    return products;
  }
}
