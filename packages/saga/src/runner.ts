import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { DomainEvent, EventName, EventPayloads } from "@shop/events";
import type { BatchEventHandlers, ConsumedEvent } from "@shop/kafka";
import { transientFault } from "@shop/errors";
import { appendEvents, claimInboxEvents, inboxKey, inTransaction, orderLockKey, type SqlTransaction } from "@shop/outbox";
import { foldDecisions, type DecisionContext, type Reaction, type SagaEvent, type SagaParticipant } from "./participant.ts";

/**
 * Where a participant's state lives: `load` reads (and locks, in a fixed order) what the batch's
 * decisions need; `save` writes the effects, set-based. An `afterCommit` it returns runs once the
 * batch is committed (best-effort side effects, such as a cache).
 */
export interface ParticipantRepository<State, Effect> {
  load(tx: SqlTransaction, events: SagaEvent[]): Promise<State>;
  save(tx: SqlTransaction, effects: Effect[], state: State): Promise<AfterCommit | void>;
}

export type AfterCommit = () => Promise<void>;

export interface ParticipantRunnerOptions<State, Effect> {
  participant: SagaParticipant<State, Effect>;
  repository: ParticipantRepository<State, Effect>;
  pool: pg.Pool;
  /** Where the answers go: the service's schema (its outbox) and the environment's topic prefix. */
  outbox: { schema: string; topicPrefix: string };
  /**
   * How the batch's orders are serialised against other work on them: advisory locks taken by
   * the runner (default), or row locks the repository's load takes itself.
   */
  orderLocks?: "advisory" | "taken-by-load";
  /** The most events one transaction takes (batches waiting beyond that go in the next one). */
  maxEventsPerTransaction?: number;
  clock?: () => Date;
  newId?: () => string;
}

/** A batch handed to the runner, waiting for its transaction. */
interface Delivery {
  type: EventName;
  events: SagaEvent[];
  /** The trace each event's answers go on in (see handle). */
  traceparents: readonly (string | undefined)[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs a participant's reactions a batch at a time, as a group commit: batches that arrive while a
 * transaction runs (other partitions, other event types) wait and then go together in the next
 * one, so the number of transactions stays low however many partitions deliver. Events a reaction
 * says do not concern it are acknowledged at once (no inbox row, no transaction). One transaction
 * claims its events in the inbox and takes their order locks (one statement), loads the state,
 * folds every fresh event's decision into it in delivery order, saves the effects and appends the
 * answers to the outbox (one insert). All or nothing: a failure rolls the whole transaction back,
 * inbox claims included. A merged transaction that fails permanently is retried batch by batch, so
 * one poison batch fails alone; each batch's promise settles with its own outcome.
 */
export class ParticipantRunner<State, Effect> {
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly maxEvents: number;
  private readonly waiting: Delivery[] = [];
  private flushing = false;

  constructor(private readonly options: ParticipantRunnerOptions<State, Effect>) {
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.maxEvents = options.maxEventsPerTransaction ?? 500;
  }

  /** The consumer's entry points: one batch handler per event the participant reacts to. */
  batchHandlers(): BatchEventHandlers {
    const handlers: Record<string, (events: ConsumedEvent[]) => Promise<void>> = {};
    for (const type of Object.keys(this.options.participant.reactions) as EventName[]) {
      handlers[type] = (consumed) =>
        this.handle(
          type,
          consumed.map((c) => c.event),
          consumed.map((c) => c.meta.traceparent),
        );
    }
    return handlers;
  }

  /**
   * Applies `events` (all of type `type`, in delivery order); resolves once they are committed. The
   * events answering `events[i]` go on in the trace `traceparents[i]` (its record's), else the current one.
   */
  handle<E extends EventName>(type: E, events: EventPayloads[E][], traceparents: readonly (string | undefined)[] = []): Promise<void> {
    const reaction = this.options.participant.reactions[type];
    if (!reaction) return Promise.reject(new Error(`${this.options.participant.service} does not react to ${type}`));
    if (reaction.concerns) {
      const kept = events.flatMap((event, i) => (reaction.concerns!(event) ? [i] : []));
      if (kept.length < events.length) [events, traceparents] = [kept.map((i) => events[i]!), kept.map((i) => traceparents[i])];
    }
    if (events.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ type, events, traceparents, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      // One turn of the event loop: batches of other partitions delivered together join this transaction.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const group = this.nextGroup();
      try {
        await this.apply(group);
        for (const delivery of group) delivery.resolve();
      } catch (error) {
        // A transient fault fails every batch alike: each consumer waits and retries its own.
        if (group.length === 1 || transientFault(error)) {
          for (const delivery of group) delivery.reject(error);
          continue;
        }
        for (const delivery of group) await this.apply([delivery]).then(delivery.resolve, delivery.reject);
      }
    }
    this.flushing = false;
  }

  /** The oldest waiting batches, up to maxEvents (at least one batch, however large). */
  private nextGroup(): Delivery[] {
    let count = 0;
    let taken = 0;
    while (taken < this.waiting.length && (taken === 0 || count + this.waiting[taken]!.events.length <= this.maxEvents))
      count += this.waiting[taken++]!.events.length;
    return this.waiting.splice(0, taken);
  }

  private async apply(deliveries: Delivery[]): Promise<void> {
    const { participant, repository, outbox } = this.options;
    const items = deliveries.flatMap((d) =>
      d.events.map((event, i) => ({ event, traceparent: d.traceparents[i], reaction: participant.reactions[d.type] as Reaction<State, Effect> })),
    );
    const afterCommit = await inTransaction(this.options.pool, async (tx) => {
      const claims = items.map(({ event, reaction }) => ({ eventId: event.eventId, consumer: reaction.consumer }));
      const lockKeys = (this.options.orderLocks ?? "advisory") === "advisory" ? items.map(({ event }) => orderLockKey(participant.service, event.orderId)) : [];
      const claimed = await claimInboxEvents(tx, claims, lockKeys);
      // Each claimed event once, in delivery order (a redelivery inside the batch is dropped like any other).
      const fresh = items.filter(({ event, reaction }) => claimed.delete(inboxKey({ eventId: event.eventId, consumer: reaction.consumer })));
      if (fresh.length === 0) return undefined;
      const loaded: State = await repository.load(
        tx,
        fresh.map((f) => f.event),
      );
      const context: DecisionContext = { now: this.clock(), newId: this.newId };
      // The batch serves many orders: each answer goes on in the trace of the event it answers.
      const traceparents = new Map<DomainEvent, string>();
      const { state, effects, publish } = foldDecisions(
        loaded,
        fresh,
        (current, { event, traceparent, reaction }) => {
          const decided = reaction.decide(current, event, context);
          if (traceparent) for (const answer of decided.publish) traceparents.set(answer, traceparent);
          return decided;
        },
        (current, effect) => participant.evolve(current, effect),
      );
      const after = effects.length ? await repository.save(tx, effects, state) : undefined;
      await appendEvents(tx, outbox, publish, traceparents);
      return after;
    });
    if (afterCommit) await afterCommit();
  }
}
