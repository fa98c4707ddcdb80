import { topicOf, type DomainEvent, type EventName } from "@shop/events";
import { toTraceparent } from "@shop/logging";
import { notifyChannel, type SqlExecutor } from "./sql.ts";

export interface OutboxMessage {
  eventType: EventName;
  topic: string;
  key: string;
  /** Any event payload; its eventId becomes the outbox row's unique id. */
  payload: { readonly eventId: string };
  /** The trace the event goes on in (a `traceparent`); the current one when absent. */
  traceparent?: string;
}

/** The columns of an outbox_events row (payload and headers as JSON text), for SQL that writes one itself. */
export interface OutboxRow {
  eventId: string;
  topic: string;
  key: string;
  payload: string;
  headers: string;
}

/** A message as its outbox row: the headers carry the event type and the message's trace (the current one by default). */
export function outboxRowOf(message: OutboxMessage): OutboxRow {
  return {
    eventId: message.payload.eventId,
    topic: message.topic,
    key: message.key,
    payload: JSON.stringify(message.payload),
    headers: JSON.stringify({ "event-type": message.eventType, traceparent: message.traceparent ?? toTraceparent() }),
  };
}

/** A domain event (type, key, payload) as the message that carries it on its topic. */
export const outboxMessageOf = (event: DomainEvent, topicPrefix: string): OutboxMessage => ({
  eventType: event.type,
  topic: topicOf(event.type, topicPrefix),
  key: event.key,
  payload: event.payload,
});

/**
 * Appends events in the caller's transaction: they become visible to the relay exactly when the
 * state change commits, and the NOTIFY (also transactional) wakes the relay at that moment.
 */
export async function appendToOutbox(tx: SqlExecutor, schema: string, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const values: unknown[] = [];
  const rows = messages.map((m, i) => {
    const row = outboxRowOf(m);
    values.push(row.eventId, row.topic, row.key, row.payload, row.headers);
    const p = i * 5;
    return `($${p + 1}::uuid, $${p + 2}, $${p + 3}, $${p + 4}::jsonb, $${p + 5}::jsonb)`;
  });
  // One round trip: the rows and the wake-up (which PostgreSQL delivers at commit).
  await tx.$queryRawUnsafe(
    `WITH appended AS (INSERT INTO outbox_events (event_id, topic, key, payload, headers) VALUES ${rows.join(", ")} RETURNING 1)
     SELECT pg_notify('${notifyChannel(schema)}', '') FROM (SELECT 1 FROM appended LIMIT 1) AS woken`,
    ...values,
  );
}

/** One event as one consumer sees it: the inbox key. */
export interface InboxClaim {
  eventId: string;
  consumer: string;
}

export const inboxKey = (claim: InboxClaim) => `${claim.consumer}/${claim.eventId}`;

/**
 * Records, in the transaction of the effect, that each consumer handled its event, and takes the
 * batch's order locks, in one statement; returns the claims that were new (by inboxKey). A claim
 * that is not new was handled before: the caller skips its effect, and the event counts once. `lockKeys` are
 * taken as transaction-scoped advisory locks in sorted order (every caller sorts, so two
 * transactions locking overlapping keys wait for each other instead of deadlocking); they are
 * taken only when some claim is new, since otherwise there is nothing to do under them.
 */
export async function claimInboxEvents(tx: SqlExecutor, claims: InboxClaim[], lockKeys: string[] = []): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const rows = await tx.$queryRawUnsafe<{ event_id: string; consumer: string }[]>(
    `WITH claimed AS (
       INSERT INTO inbox_events (event_id, consumer) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING RETURNING event_id, consumer
     ), locked AS (
       SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) AS locks FROM (SELECT k FROM unnest($3::text[]) WITH ORDINALITY AS l(k, n) ORDER BY n) AS ordered
     )
     SELECT event_id::text, consumer, (SELECT locks FROM locked) AS locks FROM claimed`,
    claims.map((c) => c.eventId),
    claims.map((c) => c.consumer),
    [...new Set(lockKeys)].sort(),
  );
  return new Set(rows.map((r) => inboxKey({ eventId: r.event_id, consumer: r.consumer })));
}

/**
 * A service's domain events into its outbox, each on its event's topic (with the environment's
 * prefix) and in the trace `traceparents` gives it, else the current one.
 */
export function appendEvents(
  tx: SqlExecutor,
  outbox: { schema: string; topicPrefix: string },
  events: DomainEvent[],
  traceparents?: ReadonlyMap<DomainEvent, string>,
): Promise<void> {
  return appendToOutbox(
    tx,
    outbox.schema,
    events.map((e) => ({ ...outboxMessageOf(e, outbox.topicPrefix), traceparent: traceparents?.get(e) })),
  );
}
