/** What both a PrismaClient and a Prisma transaction client offer; the outbox needs nothing more. */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/**
 * The outbox and inbox tables, the one definition every service's schema must contain exactly.
 * Services create them through their own Prisma schema (models OutboxEvent and InboxEvent) and
 * migrations; `test/outbox-tables.int.test.ts` fails when a service's migrations or Prisma schema
 * produce anything else. Written the way Prisma writes it (named primary keys, a unique index
 * rather than a unique constraint) so the two compare equal.
 */
export const outboxTablesDdl = `
CREATE TABLE outbox_events (
  id BIGSERIAL NOT NULL,
  event_id UUID NOT NULL,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  payload JSONB NOT NULL,
  headers JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT outbox_events_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX outbox_events_event_id_key ON outbox_events (event_id);
CREATE TABLE inbox_events (
  event_id UUID NOT NULL,
  consumer TEXT NOT NULL,
  processed_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT inbox_events_pkey PRIMARY KEY (event_id, consumer)
);`;

/** The tables `outboxTablesDdl` creates. */
export const outboxTableNames = ["outbox_events", "inbox_events"] as const;

export function notifyChannel(schema: string): string {
  return `outbox_${schema}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}
