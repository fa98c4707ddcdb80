import { NotFoundError } from "@shop/errors";
import { isFinal, type Order, type Page } from "./model.ts";
import { Placement, type PlaceOrderCommand, type PlacementOptions, type PlacementOutcome } from "./placement.ts";
import type { CouponReservations, OrderChangeFeed, OrderStore, ProductCatalog } from "./ports.ts";
import { failOverdueOrders } from "./deadline.ts";

export type { PlaceOrderCommand, PlacementKind, PlacementOutcome } from "./placement.ts";

export interface OrderServiceOptions extends PlacementOptions {
  /** Waiting for an outcome re-reads the order at least this often, whether or not a change was signalled. */
  outcomePollMs?: number;
}

/**
 * The order service's use cases in one place: placement (placement.ts), the deadline
 * (deadline.ts), and the reads, which live here. The saga's events are decided by the order's
 * saga participant (saga-participant.ts), run by the saga kit.
 */
export class OrderService {
  private readonly outcomePollMs: number;
  private readonly placement: Placement;

  constructor(
    private readonly store: OrderStore,
    catalog: ProductCatalog,
    coupons: CouponReservations,
    private readonly changes: OrderChangeFeed,
    private readonly options: OrderServiceOptions,
  ) {
    // LISTEN/NOTIFY wakes waiters; the poll is only the fallback for a lost notification.
    this.outcomePollMs = options.outcomePollMs ?? 1_000;
    this.placement = new Placement(store, catalog, coupons, options);
  }

  // --- reads -----------------------------------------------------------------------------

  /** The order if it is this user's; NOT_FOUND otherwise (another user's order does not exist for them). */
  async get(userId: string, orderId: string): Promise<Order> {
    const order = await this.store.findOrder(orderId);
    if (!order || order.userId !== userId) throw new NotFoundError("order", { orderId });
    return order;
  }

  /** The status of any order (for another service), or null when no such order was placed. */
  async statusOf(orderId: string): Promise<Order["status"] | null> {
    return (await this.store.findOrder(orderId))?.status ?? null;
  }

  list(userId: string, limit: number, cursor?: string): Promise<Page<Order>> {
    return this.store.listOrders(userId, limit, cursor);
  }

  /** The order once it is COMPLETED or FAILED, or as it is when `timeoutMs` has passed. */
  async awaitOutcome(userId: string, orderId: string, timeoutMs: number): Promise<Order> {
    const until = this.options.now().getTime() + timeoutMs;
    // Watching before the first read: a change committed in between is not missed.
    const watch = this.changes.watch(orderId);
    try {
      for (;;) {
        const order = await this.get(userId, orderId);
        const left = until - this.options.now().getTime();
        if (isFinal(order.status) || left <= 0) return order;
        await watch.changed(Math.min(left, this.outcomePollMs));
      }
    } finally {
      watch.close();
    }
  }

  /** How far behind the saga is: the pending orders, and how long the `headPosition`-th oldest has waited. */
  async sagaBacklog(headPosition: number, now = this.options.now().getTime()): Promise<{ pending: number; headAgeMs: number }> {
    const { pending, headDeadlineAt } = await this.store.pendingBacklog(headPosition);
    // Every order's deadline is its placement time plus the saga timeout.
    return { pending, headAgeMs: headDeadlineAt ? Math.max(0, now - (headDeadlineAt.getTime() - this.options.sagaTimeoutMs)) : 0 };
  }

  // --- placement (placement.ts) ----------------------------------------------------------

  place(command: PlaceOrderCommand): Promise<PlacementOutcome> {
    return this.placement.place(command);
  }

  // --- the deadline (deadline.ts) ----------------------------------------------------------

  failOverdueOrders(now = this.options.now(), limit = 100): Promise<number> {
    return failOverdueOrders(this.store, now, limit);
  }
}
