import { parseDatabaseUrl } from "@shop/config";
import { createLogger, type Logger } from "@shop/logging";
import { createSqlPool } from "@shop/outbox";
import { isEntryPoint } from "@shop/service-kit";
import { loadCatalogConfig, type CatalogConfig } from "./config.ts";
import { PgCatalogStore } from "./data/catalog-store.ts";
import { seedDemoCatalog } from "./domain/seeding.ts";

/**
 * Inserts the demo products (`src/domain/demo-products.ts`) into an empty catalog; does nothing
 * if any product exists. Returns how many were inserted. Needs the migrations applied.
 */
export async function seedCatalogDatabase(
  config: CatalogConfig = loadCatalogConfig(),
  logger: Logger = createLogger("catalog-seed", config.LOG_LEVEL),
): Promise<number> {
  const database = parseDatabaseUrl(config.DATABASE_URL);
  const pool = createSqlPool(database, { size: 1, name: "catalog-seed", logger });
  try {
    return await seedDemoCatalog(new PgCatalogStore(pool), new Date());
  } finally {
    await pool.end();
  }
}

// `tsx src/seed.ts` (DATABASE_URL from the environment, default schema `catalog`).
if (isEntryPoint(import.meta.url)) {
  const config = loadCatalogConfig();
  const inserted = await seedCatalogDatabase(config);
  createLogger("catalog-seed", config.LOG_LEVEL).info({ inserted }, inserted ? "seeded the demo catalog" : "the catalog is not empty; nothing seeded");
}
