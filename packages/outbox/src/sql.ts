/** What both a PrismaClient and a Prisma transaction client offer; the outbox needs nothing more. */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** Tables each service declares in its own schema (Prisma models OutboxEvent and InboxEvent). */
export const outboxTablesDdl = `
CREATE TABLE IF NOT EXISTS outbox_events (
  id BIGSERIAL PRIMARY KEY,
  event_id UUID NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  payload JSONB NOT NULL,
  headers JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS inbox_events (
  event_id UUID NOT NULL,
  consumer TEXT NOT NULL,
  processed_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (event_id, consumer)
);`;

export function notifyChannel(schema: string): string {
  return `outbox_${schema}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}
