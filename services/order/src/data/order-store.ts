import { Prisma } from "./generated/prisma/client.ts";
import { appendEvents, claimInboxEvent } from "@shop/outbox";
import type { FailureCode, Order, Page, StepStatus, TimelineEntry, TimelineStep } from "../domain/model.ts";
import type { DomainEvent, IdempotencyClaim, NewOrder, OrderChanges, OrderStore, OrderTransaction } from "../domain/ports.ts";
import { orderChangeChannel } from "./order-change-feed.ts";
import type { PrismaClient } from "./prisma.ts";

type Tx = Prisma.TransactionClient;

/** Items in request order, the timeline in the order it was recorded. */
const withDetails = {
  items: { orderBy: { position: "asc" } },
  timeline: { orderBy: { id: "asc" } },
} satisfies Prisma.OrderInclude;

type OrderRow = Prisma.OrderGetPayload<{ include: typeof withDetails }>;

const toOrder = (row: OrderRow): Order => ({
  orderId: row.orderId,
  userId: row.userId,
  status: row.status,
  items: row.items.map((i) => ({ productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: Number(i.unitPrice) })),
  subtotal: Number(row.subtotal),
  discountAmount: Number(row.discountAmount),
  totalAmount: Number(row.totalAmount),
  userCouponId: row.userCouponId,
  paymentId: row.paymentId,
  failureCode: row.failureCode as FailureCode | null,
  deadlineAt: row.deadlineAt,
  completionEventId: row.completionEventId,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  timeline: row.timeline.map((t) => ({ step: t.step as TimelineStep, status: t.status as StepStatus, at: t.at })),
});

class PrismaOrderTransaction implements OrderTransaction {
  constructor(
    private readonly tx: Tx,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async insertOrder(order: NewOrder): Promise<Order> {
    const row = await this.tx.order.create({
      data: {
        orderId: order.orderId,
        userId: order.userId,
        status: order.status,
        subtotal: BigInt(order.subtotal),
        discountAmount: BigInt(order.discountAmount),
        totalAmount: BigInt(order.totalAmount),
        userCouponId: order.userCouponId,
        paymentId: order.paymentId,
        failureCode: order.failureCode,
        deadlineAt: order.deadlineAt,
        completionEventId: order.completionEventId,
        createdAt: order.createdAt,
        updatedAt: order.createdAt,
        items: { create: order.items.map((i, position) => ({ position, productId: i.productId, name: i.name, quantity: i.quantity, unitPrice: BigInt(i.unitPrice) })) },
        timeline: { create: order.timeline.map((t) => ({ step: t.step, status: t.status, at: t.at })) },
      },
      include: withDetails,
    });
    return toOrder(row);
  }

  async lockOrder(orderId: string): Promise<Order | null> {
    const locked = await this.tx.$queryRaw<{ order_id: string }[]>`SELECT order_id FROM orders WHERE order_id = ${orderId} FOR UPDATE`;
    if (locked.length === 0) return null;
    return toOrder(await this.tx.order.findUniqueOrThrow({ where: { orderId }, include: withDetails }));
  }

  async lockOverduePendingOrders(now: Date, limit: number): Promise<Order[]> {
    // SKIP LOCKED: an order another instance (or a saga event) is working on is left to it.
    const locked = await this.tx.$queryRaw<{ order_id: string }[]>`
      SELECT order_id FROM orders
      WHERE status = 'PENDING' AND deadline_at <= ${now}
      ORDER BY deadline_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
    if (locked.length === 0) return [];
    const rows = await this.tx.order.findMany({ where: { orderId: { in: locked.map((r) => r.order_id) } }, include: withDetails, orderBy: { deadlineAt: "asc" } });
    return rows.map(toOrder);
  }

  async updateOrder(orderId: string, changes: OrderChanges): Promise<void> {
    await this.tx.order.update({ where: { orderId }, data: { status: changes.status, failureCode: changes.failureCode, paymentId: changes.paymentId } });
    // Delivered on commit only, to every instance: wakes requests waiting with `Prefer: wait`.
    await this.tx.$executeRaw`SELECT pg_notify(${orderChangeChannel(this.schema)}, ${orderId})`;
  }

  async appendTimeline(orderId: string, entries: TimelineEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.tx.orderTimelineEntry.createMany({ data: entries.map((e) => ({ orderId, step: e.step, status: e.status, at: e.at })), skipDuplicates: true });
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }

  async saveIdempotentResponse(userId: string, key: string, statusCode: number, body: unknown): Promise<void> {
    await this.tx.idempotentRequest.update({ where: { userId_key: { userId, key } }, data: { statusCode, responseBody: body as Prisma.InputJsonValue } });
  }
}

export class PrismaOrderStore implements OrderStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async findOrder(orderId: string): Promise<Order | null> {
    const row = await this.prisma.order.findUnique({ where: { orderId }, include: withDetails });
    return row && toOrder(row);
  }

  async listOrders(userId: string, limit: number, cursor?: string): Promise<Page<Order>> {
    const rows = await this.prisma.order.findMany({
      where: { userId, ...(cursor ? { seq: { lt: BigInt(cursor) } } : {}) },
      orderBy: { seq: "desc" },
      take: limit + 1,
      include: withDetails,
    });
    const page = rows.slice(0, limit);
    return { items: page.map(toOrder), nextCursor: rows.length > limit ? page[page.length - 1]!.seq.toString() : null };
  }

  async claimIdempotencyKey(userId: string, key: string, requestHash: string, newOrderId: string, takeOverAfterMs: number): Promise<IdempotencyClaim> {
    // Each statement commits on its own: the claim is visible to concurrent requests at once.
    for (;;) {
      const inserted = await this.prisma.$executeRaw`
        INSERT INTO idempotent_requests (user_id, key, request_hash, order_id, status_code, response_body)
        VALUES (${userId}, ${key}, ${requestHash}, ${newOrderId}, 0, 'null'::jsonb) ON CONFLICT DO NOTHING`;
      if (inserted === 1) return { kind: "claimed", orderId: newOrderId, resumed: false };
      const stored = await this.prisma.idempotentRequest.findUnique({ where: { userId_key: { userId, key } } });
      if (!stored) continue; // released between the two statements: try again
      if (stored.statusCode !== 0) return { kind: "answered", requestHash: stored.requestHash, statusCode: stored.statusCode, body: stored.responseBody };
      const taken = await this.prisma.$queryRaw<{ order_id: string }[]>`
        UPDATE idempotent_requests SET claimed_at = now()
        WHERE user_id = ${userId} AND key = ${key} AND status_code = 0 AND request_hash = ${requestHash}
          AND claimed_at < now() - ${takeOverAfterMs}::int * interval '1 millisecond'
        RETURNING order_id`;
      if (taken.length === 1) return { kind: "claimed", orderId: taken[0]!.order_id, resumed: true };
      return { kind: "in-progress", requestHash: stored.requestHash };
    }
  }

  async releaseIdempotencyKey(userId: string, key: string): Promise<void> {
    await this.prisma.idempotentRequest.deleteMany({ where: { userId, key, statusCode: 0 } });
  }

  async abandonIdempotencyKey(userId: string, key: string): Promise<void> {
    await this.prisma.$executeRaw`UPDATE idempotent_requests SET claimed_at = 'epoch' WHERE user_id = ${userId} AND key = ${key} AND status_code = 0`;
  }

  transaction<T>(work: (tx: OrderTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PrismaOrderTransaction(tx, this.schema, this.topicPrefix)), { timeout: 15_000, maxWait: 10_000 });
  }
}
