import { createHash, randomUUID } from "node:crypto";
import { IdempotencyKeyReusedError, NotFoundError } from "@shop/errors";
import type { BalanceDebited, PaymentCompleted, SagaFailure, StockReserved } from "@shop/events";
import { OrdersOverloadedError, type AdmissionDecision } from "./admission.ts";
import { PlacementInProgressError } from "./errors.ts";
import { fromSnapshot, isFinal, toSnapshot, type Order, type OrderSnapshot, type Page, type TimelineEntry } from "./model.ts";
import { nextState, type SagaSignal } from "./order-state.ts";
import { applyDiscount, priceLines, type OrderLine } from "./pricing.ts";
import type { CouponReservation, CouponReservations, DomainEvent, IdempotencyClaim, NewOrder, OrderChangeFeed, OrderStore, OrderTransaction, ProductCatalog } from "./ports.ts";

export interface PlaceOrderCommand {
  userId: string;
  idempotencyKey: string;
  /** Distinct product ids, each with a positive quantity (validated at the edge). */
  items: OrderLine[];
  userCouponId?: string | null;
}

export interface PlacementOutcome {
  /** 202 for a PENDING order; 201 for an order that was final at once (its coupon was refused). */
  statusCode: 201 | 202;
  order: Order;
  /** True when an earlier request with the same Idempotency-Key produced this answer. */
  replayed: boolean;
}

export interface OrderServiceOptions {
  /** A PENDING order older than this fails with TIMEOUT. */
  sagaTimeoutMs: number;
  /** How long a duplicate request waits for the first one with its key before answering 409. */
  inProgressWaitMs?: number;
  /** An unanswered placement older than this is presumed dead and may be taken over. */
  takeOverAfterMs?: number;
  /** Waiting for an outcome re-reads the order at least this often, whether or not a change was signalled. */
  outcomePollMs?: number;
  /** Load shedding: placement is refused while this says the saga is too far behind (see admission.ts). */
  admission?: () => AdmissionDecision;
}

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_BALANCE_DEBITED = "order.on-balance-debited";
const ON_BALANCE_DEBIT_FAILED = "order.on-balance-debit-failed";
const ON_STOCK_RESERVED = "order.on-stock-reserved";
const ON_STOCK_RESERVATION_FAILED = "order.on-stock-reservation-failed";
const ON_PAYMENT_COMPLETED = "order.on-payment-completed";
const ON_PAYMENT_FAILED = "order.on-payment-failed";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Same items (in any order) and the same coupon are the same request. */
function requestHashOf(items: OrderLine[], userCouponId: string | null): string {
  const canonical = [...items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0)).map((i) => [i.productId, i.quantity]);
  return createHash("sha256").update(JSON.stringify({ items: canonical, userCouponId })).digest("hex");
}

export class OrderService {
  private readonly inProgressWaitMs: number;
  private readonly takeOverAfterMs: number;
  private readonly outcomePollMs: number;

  constructor(
    private readonly store: OrderStore,
    private readonly catalog: ProductCatalog,
    private readonly coupons: CouponReservations,
    private readonly changes: OrderChangeFeed,
    private readonly options: OrderServiceOptions,
  ) {
    this.inProgressWaitMs = options.inProgressWaitMs ?? 5_000;
    this.takeOverAfterMs = options.takeOverAfterMs ?? 30_000;
    // LISTEN/NOTIFY wakes waiters; the poll is only the fallback for a lost notification.
    this.outcomePollMs = options.outcomePollMs ?? 1_000;
  }

  /** The order if it is this user's; NOT_FOUND otherwise (another user's order does not exist for them). */
  async get(userId: string, orderId: string): Promise<Order> {
    const order = await this.store.findOrder(orderId);
    if (!order || order.userId !== userId) throw new NotFoundError("order", { orderId });
    return order;
  }

  list(userId: string, limit: number, cursor?: string): Promise<Page<Order>> {
    return this.store.listOrders(userId, limit, cursor);
  }

  /** The order once it is COMPLETED or FAILED, or as it is when `timeoutMs` has passed. */
  async awaitOutcome(userId: string, orderId: string, timeoutMs: number): Promise<Order> {
    const until = Date.now() + timeoutMs;
    // Watching before the first read: a change committed in between is not missed.
    const watch = this.changes.watch(orderId);
    try {
      for (;;) {
        const order = await this.get(userId, orderId);
        const left = until - Date.now();
        if (isFinal(order.status) || left <= 0) return order;
        await watch.changed(Math.min(left, this.outcomePollMs));
      }
    } finally {
      watch.close();
    }
  }

  /**
   * Prices the items from the catalog, reserves the coupon, then stores the order PENDING and
   * emits OrderPlaced in one transaction. A refused coupon stores the order FAILED with
   * COUPON_NOT_USABLE instead (nothing was debited; OrderFailed tells the others). The
   * Idempotency-Key makes a retry answer what the first request answered.
   */
  async place(command: PlaceOrderCommand): Promise<PlacementOutcome> {
    // Before anything is claimed or reserved: a refused placement changes nothing, and its retry is a fresh request.
    const admission = this.options.admission?.();
    if (admission && !admission.admitted) throw new OrdersOverloadedError(admission.reason, admission.retryAfterSeconds);
    const userCouponId = command.userCouponId ?? null;
    const requestHash = requestHashOf(command.items, userCouponId);
    const claim = await this.claimKey(command, requestHash);
    if (claim.kind === "answered") {
      return { statusCode: claim.statusCode as 201 | 202, order: fromSnapshot(claim.body as OrderSnapshot), replayed: true };
    }
    const { orderId } = claim;

    let priced: ReturnType<typeof priceLines>;
    try {
      priced = priceLines(command.items, await this.catalog.quote(command.items.map((i) => i.productId)));
    } catch (error) {
      // Nothing happened under a fresh claim: the key is free for a corrected or later retry. A
      // resumed claim keeps its order id (an earlier attempt may hold a coupon reservation for it).
      // A failure to free or keep it only delays the retry until the claim may be taken over.
      const settle = claim.resumed ? this.store.abandonIdempotencyKey(command.userId, command.idempotencyKey) : this.store.releaseIdempotencyKey(command.userId, command.idempotencyKey);
      await settle.catch(() => undefined);
      throw error;
    }

    try {
      const reservation = userCouponId
        ? await this.coupons.reserve({ userCouponId, userId: command.userId, orderId, orderAmount: priced.subtotal })
        : null;
      return await this.storePlacement(command, orderId, priced, userCouponId, reservation);
    } catch (error) {
      // The coupon may be reserved for this order id: a retry must place the same order id.
      await this.store.abandonIdempotencyKey(command.userId, command.idempotencyKey).catch(() => undefined);
      throw error;
    }
  }

  /** Takes the key, replays its answer, or waits a little for a concurrent request that holds it. */
  private async claimKey(command: PlaceOrderCommand, requestHash: string): Promise<Exclude<IdempotencyClaim, { kind: "in-progress" }>> {
    const giveUpAt = Date.now() + this.inProgressWaitMs;
    for (;;) {
      const claim = await this.store.claimIdempotencyKey(command.userId, command.idempotencyKey, requestHash, randomUUID(), this.takeOverAfterMs);
      if (claim.kind === "claimed") return claim;
      if (claim.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
      if (claim.kind === "answered") return claim;
      if (Date.now() >= giveUpAt) throw new PlacementInProgressError();
      await sleep(50);
    }
  }

  private storePlacement(
    command: PlaceOrderCommand,
    orderId: string,
    priced: ReturnType<typeof priceLines>,
    userCouponId: string | null,
    reservation: CouponReservation | null,
  ): Promise<PlacementOutcome> {
    const placedAt = new Date();
    const refused = reservation?.outcome === "REFUSED";
    const amounts = applyDiscount(priced.subtotal, reservation?.outcome === "RESERVED" ? reservation.discountAmount : 0);
    const timeline: TimelineEntry[] = [{ step: "ORDER_PLACED", status: "SUCCEEDED", at: placedAt }];
    if (refused) timeline.push({ step: "COUPON_REJECTED", status: "FAILED", at: placedAt });
    const order: NewOrder = {
      orderId,
      userId: command.userId,
      status: refused ? "FAILED" : "PENDING",
      items: priced.items,
      ...amounts,
      userCouponId,
      paymentId: null,
      failureCode: refused ? "COUPON_NOT_USABLE" : null,
      deadlineAt: new Date(placedAt.getTime() + this.options.sagaTimeoutMs),
      completionEventId: randomUUID(),
      createdAt: placedAt,
      timeline,
    };
    const statusCode = refused ? 201 : 202;
    return this.store.transaction(async (tx) => {
      const saved = await tx.insertOrder(order);
      // A refused coupon holds no reservation for this order: there is nothing for the coupon service to release.
      await tx.publish([refused ? orderFailed(saved, null) : orderPlaced(saved)]);
      await tx.saveIdempotentResponse(command.userId, command.idempotencyKey, statusCode, toSnapshot(saved));
      return { statusCode, order: saved, replayed: false };
    });
  }

  // --- saga reactions --------------------------------------------------------------------

  recordBalanceDebited(event: BalanceDebited): Promise<void> {
    return this.react(event, ON_BALANCE_DEBITED, { kind: "BALANCE_DEBITED" });
  }

  recordBalanceDebitFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_BALANCE_DEBIT_FAILED, { kind: "BALANCE_DEBIT_FAILED" });
  }

  recordStockReserved(event: StockReserved): Promise<void> {
    return this.react(event, ON_STOCK_RESERVED, { kind: "STOCK_RESERVED" });
  }

  recordStockReservationFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_STOCK_RESERVATION_FAILED, { kind: "STOCK_RESERVATION_FAILED" });
  }

  /** COMPLETED and one OrderCompleted, only from PENDING: a payment for a FAILED order is undone by the payment service. */
  recordPaymentCompleted(event: PaymentCompleted): Promise<void> {
    return this.react(event, ON_PAYMENT_COMPLETED, { kind: "PAYMENT_COMPLETED", paymentId: event.paymentId });
  }

  recordPaymentFailed(event: SagaFailure): Promise<void> {
    return this.react(event, ON_PAYMENT_FAILED, { kind: "PAYMENT_FAILED" });
  }

  /** How far behind the saga is: the pending orders, and how long the `headPosition`-th oldest has waited. */
  async sagaBacklog(headPosition: number, now = Date.now()): Promise<{ pending: number; headAgeMs: number }> {
    const { pending, headDeadlineAt } = await this.store.pendingBacklog(headPosition);
    // Every order's deadline is its placement time plus the saga timeout.
    return { pending, headAgeMs: headDeadlineAt ? Math.max(0, now - (headDeadlineAt.getTime() - this.options.sagaTimeoutMs)) : 0 };
  }

  /** Fails PENDING orders past their deadline with TIMEOUT; returns how many. Safe to run in several instances at once. */
  failOverdueOrders(now = new Date(), limit = 100): Promise<number> {
    return this.store.transaction(async (tx) => {
      const overdue = await tx.lockOverduePendingOrders(now, limit);
      for (const order of overdue) await this.apply(tx, order, { kind: "DEADLINE_PASSED" });
      return overdue.length;
    });
  }

  private react(event: { eventId: string; orderId: string }, consumer: string, signal: SagaSignal): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, consumer))) return;
      const order = await tx.lockOrder(event.orderId);
      // Not an order of this service: nothing to track.
      if (!order) return;
      await this.apply(tx, order, signal);
    });
  }

  private async apply(tx: OrderTransaction, order: Order, signal: SagaSignal): Promise<void> {
    const now = new Date();
    const transition = nextState(order, signal);
    await tx.appendTimeline(order.orderId, transition.record.map((r) => ({ ...r, at: now })));
    if (transition.status !== order.status) {
      await tx.updateOrder(order.orderId, { status: transition.status, failureCode: transition.failureCode, paymentId: transition.paymentId });
    }
    const changed: Order = { ...order, status: transition.status, failureCode: transition.failureCode, paymentId: transition.paymentId };
    if (transition.emits === "OrderCompleted") await tx.publish([orderCompleted(changed, now)]);
    if (transition.emits === "OrderFailed") await tx.publish([orderFailed(changed, order.userCouponId)]);
  }
}

// --- events the order emits ----------------------------------------------------------------

function orderPlaced(order: Order): DomainEvent<"OrderPlaced"> {
  return {
    type: "OrderPlaced",
    key: order.orderId,
    payload: {
      eventId: randomUUID(),
      occurredAt: order.createdAt.toISOString(),
      orderId: order.orderId,
      userId: order.userId,
      items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice })),
      subtotal: order.subtotal,
      discountAmount: order.discountAmount,
      totalAmount: order.totalAmount,
      userCouponId: order.userCouponId,
      deadlineAt: order.deadlineAt.toISOString(),
    },
  };
}

/** `reservedCouponId`: the coupon this order holds a reservation on (null if none), for the coupon service to release. */
function orderFailed(order: Order, reservedCouponId: string | null): DomainEvent<"OrderFailed"> {
  return {
    type: "OrderFailed",
    key: order.orderId,
    payload: { eventId: randomUUID(), occurredAt: new Date().toISOString(), orderId: order.orderId, userId: order.userId, failureCode: order.failureCode!, userCouponId: reservedCouponId },
  };
}

/** The data platform's record; its eventId was fixed at placement, so a re-delivery carries the same one. */
function orderCompleted(order: Order, completedAt: Date): DomainEvent<"OrderCompleted"> {
  return {
    type: "OrderCompleted",
    key: order.orderId,
    payload: {
      eventId: order.completionEventId,
      orderId: order.orderId,
      userId: order.userId,
      items: order.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: i.unitPrice })),
      subtotal: order.subtotal,
      discountAmount: order.discountAmount,
      totalAmount: order.totalAmount,
      paymentId: order.paymentId!,
      completedAt: completedAt.toISOString(),
    },
  };
}
