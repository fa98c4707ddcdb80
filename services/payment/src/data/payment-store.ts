import { Prisma } from "./generated/prisma/client.ts";
import { appendEvents, claimInboxEvent } from "@shop/outbox";
import type { Payment } from "../domain/model.ts";
import type { DomainEvent, PaymentStore, PaymentTransaction } from "../domain/ports.ts";
import type { PrismaClient } from "./prisma.ts";

type Tx = Prisma.TransactionClient;
type PaymentRow = Prisma.PaymentGetPayload<object>;

const toPayment = (row: PaymentRow): Payment => ({
  paymentId: row.paymentId,
  orderId: row.orderId,
  userId: row.userId,
  amount: Number(row.amount),
  status: row.status,
  failureReason: row.failureReason,
  createdAt: row.createdAt,
});

class PrismaPaymentTransaction implements PaymentTransaction {
  constructor(
    private readonly tx: Tx,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async lockOrder(orderId: string): Promise<void> {
    await this.tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`order:${orderId}`}))`;
  }

  async findPaymentOfOrder(orderId: string): Promise<Payment | null> {
    const row = await this.tx.payment.findUnique({ where: { orderId } });
    return row && toPayment(row);
  }

  async insertPayment(payment: Omit<Payment, "createdAt">): Promise<Payment> {
    const row = await this.tx.payment.create({
      data: { paymentId: payment.paymentId, orderId: payment.orderId, userId: payment.userId, amount: BigInt(payment.amount), status: payment.status, failureReason: payment.failureReason },
    });
    return toPayment(row);
  }

  async cancelPayment(paymentId: string): Promise<void> {
    await this.tx.payment.update({ where: { paymentId }, data: { status: "CANCELLED" } });
  }

  async isOrderFailed(orderId: string): Promise<boolean> {
    return (await this.tx.failedOrder.count({ where: { orderId } })) > 0;
  }

  async recordFailedOrder(orderId: string, userId: string, failureCode: string): Promise<void> {
    await this.tx.$executeRaw`INSERT INTO failed_orders (order_id, user_id, failure_code) VALUES (${orderId}, ${userId}, ${failureCode}) ON CONFLICT DO NOTHING`;
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

export class PrismaPaymentStore implements PaymentStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async paymentsOf(userId: string, options: { orderId?: string; limit: number }): Promise<Payment[]> {
    const rows = await this.prisma.payment.findMany({
      where: { userId, ...(options.orderId ? { orderId: options.orderId } : {}) },
      orderBy: [{ createdAt: "desc" }, { paymentId: "desc" }],
      take: options.limit,
    });
    return rows.map(toPayment);
  }

  transaction<T>(work: (tx: PaymentTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PrismaPaymentTransaction(tx, this.schema, this.topicPrefix)), { timeout: 15_000, maxWait: 10_000 });
  }
}
