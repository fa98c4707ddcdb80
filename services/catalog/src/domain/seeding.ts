import { demoProducts } from "./demo-products.ts";
import type { NewProduct } from "./model.ts";
import type { CatalogStore } from "./ports.ts";
import { newProductId } from "./rules.ts";

/** Inserts the demo products if the catalog is empty (once, even when called concurrently); returns how many. */
export function seedDemoCatalog(store: Pick<CatalogStore, "insertIfCatalogEmpty">, now: Date, products: NewProduct[] = demoProducts): Promise<number> {
  // Distinct creation instants keep the listing in the order of the list.
  return store.insertIfCatalogEmpty(products.map((p, i) => ({ id: newProductId(new Date(now.getTime() + i)), ...p, version: 1 })));
}
