import type pg from "pg";

/**
 * A plain `pg` pool. Every pool of the service is made by `createSqlPool` from `@shop/outbox`
 * (search_path set to the service schema), so there is one way to make a pool.
 */
export type SqlPool = pg.Pool;
