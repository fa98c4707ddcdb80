import { DomainError } from "@shop/errors";

/** How far behind the saga is, as last sampled from the orders (see BacklogSampler). */
export interface SagaBacklog {
  /** Orders still PENDING. */
  pending: number;
  /**
   * How long the `headPosition`-th oldest PENDING order has been waiting, in ms (0 when fewer are
   * pending). Not the oldest itself: one stuck order must not close the shop.
   */
  headAgeMs: number;
  /** When the sample was taken (epoch ms). */
  sampledAt: number;
}

export interface AdmissionLimits {
  /** Refuse while the head of the backlog has waited longer than this (a share of the saga deadline). */
  maxHeadAgeMs: number;
  /** Refuse while more orders than this are pending, whatever their age. */
  maxPending: number;
  /** A sample older than this says nothing (the sampler cannot read): admit rather than refuse blindly. */
  staleAfterMs: number;
}

export type AdmissionDecision = { admitted: true } | { admitted: false; retryAfterSeconds: number; reason: string };

const ADMITTED: AdmissionDecision = { admitted: true };

/**
 * Load shedding at placement: an order accepted into a backlog it cannot get through before its
 * deadline only fails later with TIMEOUT, and every timeout adds compensation work. So while the
 * backlog is too old or too long, placement is refused (nothing is stored or reserved) and the
 * client told when to come back.
 */
export function admitPlacement(backlog: SagaBacklog | undefined, limits: AdmissionLimits, now: number): AdmissionDecision {
  if (!backlog || now - backlog.sampledAt > limits.staleAfterMs) return ADMITTED;
  if (backlog.headAgeMs > limits.maxHeadAgeMs) {
    return {
      admitted: false,
      retryAfterSeconds: Math.max(1, Math.ceil((backlog.headAgeMs - limits.maxHeadAgeMs) / 1000)),
      reason: `orders placed ${Math.round(backlog.headAgeMs / 1000)} s ago are still in progress`,
    };
  }
  if (backlog.pending > limits.maxPending) return { admitted: false, retryAfterSeconds: 1, reason: `${backlog.pending} orders are in progress` };
  return ADMITTED;
}

/** The shop is taking no new orders for a moment; nothing was stored. */
export class OrdersOverloadedError extends DomainError {
  readonly responseHeaders: Record<string, string>;

  constructor(reason: string, retryAfterSeconds: number) {
    super("SERVICE_UNAVAILABLE", `too many orders in progress (${reason}); retry in ${retryAfterSeconds} s with the same Idempotency-Key`, {
      retryAfterSeconds,
    });
    this.responseHeaders = { "retry-after": String(retryAfterSeconds) };
  }
}
