import { PrismaPg } from "@prisma/adapter-pg";
import type { DatabaseLocation } from "@shop/config";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PrismaClient };

/** Queries are qualified with the service's schema; raw SQL finds its tables through search_path. */
export function createPrismaClient(db: DatabaseLocation, poolSize: number): PrismaClient {
  const adapter = new PrismaPg(
    { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, max: poolSize, options: `-c search_path="${db.schema}"` },
    { schema: db.schema },
  );
  return new PrismaClient({ adapter });
}
