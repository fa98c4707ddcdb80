import { randomUUID } from "node:crypto";
import { foldDecisions } from "@shop/saga";
import type { OrderStore } from "./ports.ts";
import { decideSignal, evolveOrderSaga, sagaStateOf } from "./saga-participant.ts";

/**
 * Fails PENDING orders past their deadline with TIMEOUT; returns how many. The same decision as a
 * participant's failure report (saga-participant.ts), so a timed-out order emits OrderFailed the
 * same way. Safe to run in several instances at once: overdue orders are locked SKIP LOCKED.
 */
export function failOverdueOrders(store: OrderStore, now: Date, limit: number, newId: () => string = randomUUID): Promise<number> {
  return store.transaction(async (tx) => {
    const overdue = await tx.lockOverduePendingOrders(now, limit);
    if (overdue.length === 0) return 0;
    const context = { now, newId };
    const { state, effects, publish } = foldDecisions(
      sagaStateOf(overdue),
      overdue,
      (current, order) => decideSignal(current, order.orderId, { kind: "DEADLINE_PASSED" }, context),
      evolveOrderSaga,
    );
    await tx.saveSagaEffects(effects, state);
    await tx.publish(publish);
    return overdue.length;
  });
}
