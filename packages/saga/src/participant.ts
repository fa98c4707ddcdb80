import type { DomainEvent, EventName, EventPayloads } from "@shop/events";

/**
 * A saga participant's rules, free of I/O: for each event it consumes, a decision over the state
 * its repository loaded for the batch, and an evolve that folds the decision's effects into that
 * state (so the next event of the batch, maybe of the same order, sees them). Tested
 * Given/When/Then without a database; the runner (runner.ts) does the rest: inbox, order locks,
 * load, save, outbox, one transaction per batch.
 */
export interface SagaParticipant<State, Effect> {
  /** Names the service's order locks (`<service>:order:<id>`). */
  service: string;
  reactions: Reactions<State, Effect>;
  evolve(state: State, effect: Effect): State;
}

export type Reactions<State, Effect> = { [E in EventName]?: Reaction<State, Effect, E> };

export interface Reaction<State, Effect, E extends EventName = EventName> {
  /** The inbox scope: one event counts once per consumer, however often it is delivered. */
  consumer: string;
  /**
   * Whether the event can matter to this participant at all, from its content alone (say, an
   * order without a coupon, to the coupon service). An event that cannot is acknowledged without
   * an inbox row or a transaction: applying nothing twice is still nothing. Absent: every event.
   */
  concerns?(event: EventPayloads[E]): boolean;
  decide(state: State, event: EventPayloads[E], context: DecisionContext): Decision<Effect>;
}

/** What a decision may use besides the state and the event, injected so that decisions stay pure. */
export interface DecisionContext {
  now: Date;
  /** A fresh UUID (event ids, record ids). */
  newId(): string;
}

/** What one event does: the participant's own changes, and the events it answers with. */
export interface Decision<Effect> {
  effects: Effect[];
  publish: DomainEvent[];
}

export const decision = <Effect>(effects: Effect[] = [], publish: DomainEvent[] = []): Decision<Effect> => ({ effects, publish });

/** The event changes nothing (a duplicate in effect, or a late event of a settled order). */
export const ignore = <Effect>(): Decision<Effect> => decision<Effect>();

/** Every saga event names its order. */
export type SagaEvent = EventPayloads[EventName] & { eventId: string; orderId: string };

/** What a run of decisions adds up to: the state they leave, their effects and answers, in order. */
export interface Folded<State, Effect> {
  state: State;
  effects: Effect[];
  publish: DomainEvent[];
}

/** Decides `items` one after another, each on the state the decisions before it left. Pure. */
export function foldDecisions<State, Effect, Item>(
  initial: State,
  items: readonly Item[],
  decide: (state: State, item: Item) => Decision<Effect>,
  evolve: (state: State, effect: Effect) => State,
): Folded<State, Effect> {
  let state = initial;
  const effects: Effect[] = [];
  const publish: DomainEvent[] = [];
  for (const item of items) {
    const decided = decide(state, item);
    for (const effect of decided.effects) state = evolve(state, effect);
    effects.push(...decided.effects);
    publish.push(...decided.publish);
  }
  return { state, effects, publish };
}
