import { PrismaPg } from "@prisma/adapter-pg";
import { parseDatabaseUrl, type DatabaseLocation } from "@shop/config";

/**
 * Prisma's driver adapter for one service schema: Prisma qualifies its queries with the schema,
 * raw SQL finds the tables through search_path. Connection fields are passed one by one (with a
 * connection string, Prisma Migrate's shadow database would point at the main one).
 */
export function prismaAdapter(db: DatabaseLocation, poolSize = 10, idleTimeoutMillis = 10_000): PrismaPg {
  return new PrismaPg(
    {
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
      ssl: db.ssl,
      max: poolSize,
      idleTimeoutMillis,
      allowExitOnIdle: true,
      options: `-c search_path="${db.schema}"`,
    },
    { schema: db.schema },
  );
}

/**
 * For a service's prisma.config.ts: the CLI (generate, migrate deploy) reads DATABASE_URL. Idle
 * connections close at once, so the CLI exits (and releases Migrate's session lock) when done.
 */
export function prismaCliAdapter(defaultSchema: string): PrismaPg {
  return prismaAdapter(parseDatabaseUrl(process.env.DATABASE_URL ?? `postgresql://postgres@127.0.0.1:5432/ecommerce?schema=${defaultSchema}`), 2, 50);
}
