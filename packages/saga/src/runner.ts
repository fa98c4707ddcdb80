import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { EventName, EventPayloads } from "@shop/events";
import type { BatchEventHandlers, ConsumedEvent } from "@shop/kafka";
import { appendEvents, claimInboxEvents, inTransaction, lockOrders, type SqlTransaction } from "@shop/outbox";
import { foldDecisions, type DecisionContext, type SagaEvent, type SagaParticipant } from "./participant.ts";

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
  clock?: () => Date;
  newId?: () => string;
}

/**
 * Runs a participant's reactions a batch at a time: one transaction claims the batch's events in
 * the inbox (one statement), locks their orders (one statement), loads the state, folds every
 * fresh event's decision into it in delivery order, saves the effects and appends the answers to
 * the outbox (one multi-row insert). All or nothing: a failure rolls the whole batch back,
 * inbox claims included, and the consumer retries it.
 */
export class ParticipantRunner<State, Effect> {
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(private readonly options: ParticipantRunnerOptions<State, Effect>) {
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  /** The consumer's entry points: one batch handler per event the participant reacts to. */
  batchHandlers(): BatchEventHandlers {
    const handlers: Record<string, (events: ConsumedEvent[]) => Promise<void>> = {};
    for (const type of Object.keys(this.options.participant.reactions) as EventName[]) {
      handlers[type] = (consumed) => this.handle(type, consumed.map((c) => c.event));
    }
    return handlers;
  }

  /** Applies `events` (all of type `type`, in delivery order) in one transaction. */
  async handle<E extends EventName>(type: E, events: EventPayloads[E][]): Promise<void> {
    const reaction = this.options.participant.reactions[type];
    if (!reaction) throw new Error(`${this.options.participant.service} does not react to ${type}`);
    const { participant, repository, outbox } = this.options;
    const afterCommit = await inTransaction(this.options.pool, async (tx) => {
      const claimed = await claimInboxEvents(tx, [...new Set(events.map((e) => e.eventId))], reaction.consumer);
      // Each claimed event once, in delivery order (a redelivery inside the batch is dropped like any other).
      const fresh = (events as SagaEvent[]).filter((e) => claimed.delete(e.eventId));
      if (fresh.length === 0) return undefined;
      if ((this.options.orderLocks ?? "advisory") === "advisory") await lockOrders(tx, participant.service, fresh.map((e) => e.orderId));
      const loaded: State = await repository.load(tx, fresh);
      const context: DecisionContext = { now: this.clock(), newId: this.newId };
      const { state, effects, publish } = foldDecisions(loaded, fresh, (current, event) => reaction.decide(current, event as EventPayloads[E], context), (current, effect) => participant.evolve(current, effect));
      const after = effects.length ? await repository.save(tx, effects, state) : undefined;
      await appendEvents(tx, outbox, publish);
      return after;
    });
    if (afterCommit) await afterCommit();
  }
}
