import { Counter, Histogram, type Registry } from "prom-client";
import type { RelayRecord } from "./relay.ts";

/** Placements remembered until their outcome is published; beyond this the oldest are forgotten. */
const MAX_TRACKED_ORDERS = 100_000;

const timeOf = (value: unknown): number | undefined => {
  const ms = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * Saga outcomes as the service that ends sagas publishes them: every OrderCompleted and OrderFailed
 * leaves through its outbox, whichever path decided it (a participant's answer, the deadline
 * sweeper, a refused placement), so counting at the relay counts each outcome once however many
 * replicas run. The duration runs from the OrderPlaced event's `occurredAt` (the placement) to the
 * outcome's own time, both the order service's clock readings, so relay delays do not distort it.
 * An outcome whose placement this relay did not publish (it took over leadership meanwhile, or the
 * placement was refused before any saga began) is counted without a duration.
 */
export class SagaOutcomeMetrics {
  private readonly placedAt = new Map<string, number>();
  private readonly outcomes: Counter<"service" | "outcome" | "failure_code">;
  private readonly duration: Histogram<"service" | "outcome">;

  constructor(
    registry: Registry,
    private readonly service: string,
  ) {
    this.outcomes = new Counter({
      name: "saga_outcomes_total",
      help: "Sagas that ended, by outcome (COMPLETED or FAILED) and failure code",
      labelNames: ["service", "outcome", "failure_code"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "saga_duration_seconds",
      help: "From placement (OrderPlaced) to the final event (OrderCompleted or OrderFailed)",
      labelNames: ["service", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
      registers: [registry],
    });
  }

  /** The records of one published batch, in outbox order. */
  observe(records: readonly RelayRecord[]): void {
    for (const record of records) {
      const payload = record.payload;
      const orderId = typeof payload.orderId === "string" ? payload.orderId : record.key;
      if (record.eventType === "OrderPlaced") {
        const at = timeOf(payload.occurredAt);
        if (at === undefined) continue;
        if (this.placedAt.size >= MAX_TRACKED_ORDERS) this.placedAt.delete(this.placedAt.keys().next().value!);
        this.placedAt.set(orderId, at);
      } else if (record.eventType === "OrderCompleted") {
        this.ended(orderId, "COMPLETED", "", timeOf(payload.completedAt));
      } else if (record.eventType === "OrderFailed") {
        this.ended(orderId, "FAILED", typeof payload.failureCode === "string" ? payload.failureCode : "UNKNOWN", timeOf(payload.occurredAt));
      }
    }
  }

  private ended(orderId: string, outcome: "COMPLETED" | "FAILED", failureCode: string, at: number | undefined): void {
    this.outcomes.inc({ service: this.service, outcome, failure_code: failureCode });
    const placed = this.placedAt.get(orderId);
    if (placed === undefined) return;
    this.placedAt.delete(orderId);
    if (at !== undefined) this.duration.observe({ service: this.service, outcome }, Math.max(0, at - placed) / 1000);
  }
}
