import { randomUUID } from "node:crypto";
import { requestFingerprint, takeIdempotencyKey } from "@shop/idempotency";
import { OrdersOverloadedError, type AdmissionDecision } from "./admission.ts";
import { fromSnapshot, toSnapshot, type Order, type OrderSnapshot, type TimelineEntry } from "./model.ts";
import { orderFailed, orderPlaced } from "./order-events.ts";
import { applyDiscount, priceLines, type OrderLine } from "./pricing.ts";
import type { Clock, CouponReservation, CouponReservations, NewOrder, OrderStore, ProductCatalog } from "./ports.ts";

export interface PlaceOrderCommand {
  userId: string;
  idempotencyKey: string;
  /** Distinct product ids, each with a positive quantity (validated at the edge). */
  items: OrderLine[];
  userCouponId?: string | null;
}

/** ACCEPTED: the order is PENDING and its saga runs; FINAL: the order was final at once (its coupon was refused). */
export type PlacementKind = "ACCEPTED" | "FINAL";

export interface PlacementOutcome {
  kind: PlacementKind;
  order: Order;
  /** True when an earlier request with the same Idempotency-Key produced this answer. */
  replayed: boolean;
}

export interface PlacementOptions {
  /** A PENDING order older than this fails with TIMEOUT. */
  sagaTimeoutMs: number;
  /** How long a duplicate request waits for the first one with its key before answering 409. */
  inProgressWaitMs?: number;
  /** An unanswered placement older than this is presumed dead and may be taken over. */
  takeOverAfterMs?: number;
  /** How often a claim that could not be settled after a failed attempt is tried again (1 s). */
  settleRetryMs?: number;
  /** Load shedding: placement is refused while this says the saga is too far behind (see admission.ts). */
  admission?: () => AdmissionDecision;
  /** The current time (the order's placement and its deadline). */
  now: Clock;
}

/**
 * How the kind of an answer is kept in its idempotency record (the port's number, column
 * `status_code`; 0 there means "not answered yet"). The values are the record's historical format
 * and are kept so stored answers replay unchanged; the domain reads them only as a kind.
 */
const STORED_KIND: Record<PlacementKind, number> = { FINAL: 201, ACCEPTED: 202 };

function kindOfStored(stored: number): PlacementKind {
  if (stored === STORED_KIND.FINAL) return "FINAL";
  if (stored === STORED_KIND.ACCEPTED) return "ACCEPTED";
  throw new Error(`unreadable stored placement answer: ${stored}`);
}

/** Same items (in any order) and the same coupon are the same request. */
function requestHashOf(items: OrderLine[], userCouponId: string | null): string {
  const canonical = [...items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0)).map((i) => [i.productId, i.quantity]);
  return requestFingerprint({ items: canonical, userCouponId });
}

/** Placing an order under an Idempotency-Key. */
export class Placement {
  private readonly inProgressWaitMs: number;
  private readonly takeOverAfterMs: number;

  constructor(
    private readonly store: OrderStore,
    private readonly catalog: ProductCatalog,
    private readonly coupons: CouponReservations,
    private readonly options: PlacementOptions,
  ) {
    this.inProgressWaitMs = options.inProgressWaitMs ?? 5_000;
    this.takeOverAfterMs = options.takeOverAfterMs ?? 30_000;
  }

  /**
   * Frees or abandons the claim of an attempt that failed. When that fails too (most often the
   * database is what failed), it is tried again in the background: otherwise, after a database
   * outage, every retry of the client would find its key "in progress" (409) for the whole
   * take-over time. It stops halfway through that time, well before a retry may take the claim
   * over, so a late retry here never frees a claim that another request holds by then.
   */
  private settleClaim(settle: () => Promise<void>): Promise<void> {
    const giveUpAt = Date.now() + this.takeOverAfterMs / 2;
    const retryLater = (): void => {
      if (Date.now() >= giveUpAt) return;
      setTimeout(() => void settle().catch(retryLater), this.options.settleRetryMs ?? 1_000).unref();
    };
    return settle().catch(retryLater);
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
    // Waits a little for a concurrent request holding the key (409 REQUEST_IN_PROGRESS after that).
    const taken = await takeIdempotencyKey({
      requestHash,
      attempt: () => this.store.claimIdempotencyKey(command.userId, command.idempotencyKey, requestHash, randomUUID(), this.takeOverAfterMs),
      waitMs: this.inProgressWaitMs,
    });
    if (taken.next === "replay") {
      const { answer } = taken.key;
      return { kind: kindOfStored(answer.statusCode), order: fromSnapshot(answer.body as OrderSnapshot), replayed: true };
    }
    const { orderId } = taken.key;
    const resumed = taken.key.state === "taken-over";

    let priced: ReturnType<typeof priceLines>;
    try {
      priced = priceLines(command.items, await this.catalog.quote(command.items.map((i) => i.productId)));
    } catch (error) {
      // Nothing happened under a fresh claim: the key is free for a corrected or later retry. A
      // resumed claim keeps its order id (an earlier attempt may hold a coupon reservation for it).
      await this.settleClaim(() =>
        resumed
          ? this.store.abandonIdempotencyKey(command.userId, command.idempotencyKey)
          : this.store.releaseIdempotencyKey(command.userId, command.idempotencyKey),
      );
      throw error;
    }

    try {
      const reservation = userCouponId ? await this.coupons.reserve({ userCouponId, userId: command.userId, orderId, orderAmount: priced.subtotal }) : null;
      return await this.storePlacement(command, orderId, priced, userCouponId, reservation);
    } catch (error) {
      // The coupon may be reserved for this order id: a retry must place the same order id.
      await this.settleClaim(() => this.store.abandonIdempotencyKey(command.userId, command.idempotencyKey));
      throw error;
    }
  }

  private storePlacement(
    command: PlaceOrderCommand,
    orderId: string,
    priced: ReturnType<typeof priceLines>,
    userCouponId: string | null,
    reservation: CouponReservation | null,
  ): Promise<PlacementOutcome> {
    const placedAt = this.options.now();
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
    const kind: PlacementKind = refused ? "FINAL" : "ACCEPTED";
    // A refused coupon holds no reservation for this order: there is nothing for the coupon service to release.
    const event = refused ? orderFailed(order, null, randomUUID(), placedAt) : orderPlaced({ ...order, updatedAt: placedAt }, randomUUID());
    const answer = { idempotencyKey: command.idempotencyKey, statusCode: STORED_KIND[kind], body: toSnapshot({ ...order, updatedAt: placedAt }) };
    return this.store.placeOrder(order, event, answer).then((saved) => ({ kind, order: saved, replayed: false }));
  }
}
