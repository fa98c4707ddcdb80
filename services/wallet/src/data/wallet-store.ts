import { Prisma } from "./generated/prisma/client.ts";
import { appendEvents, claimInboxEvent } from "@shop/outbox";
import type { LedgerEntry, OrderDebit, Page } from "../domain/model.ts";
import type { DomainEvent, IdempotencyClaim, WalletStore, WalletTransaction } from "../domain/ports.ts";
import type { PrismaClient } from "./prisma.ts";

type Tx = Prisma.TransactionClient;

interface LedgerRow {
  id: bigint;
  userId: string;
  type: LedgerEntry["type"];
  amount: bigint;
  balanceAfter: bigint;
  orderId: string | null;
  createdAt: Date;
}

const toEntry = (row: LedgerRow): LedgerEntry => ({
  id: row.id.toString(),
  userId: row.userId,
  type: row.type,
  amount: Number(row.amount),
  balanceAfter: Number(row.balanceAfter),
  orderId: row.orderId,
  createdAt: row.createdAt,
});

class PrismaWalletTransaction implements WalletTransaction {
  constructor(
    private readonly tx: Tx,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async claimIdempotencyKey(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    // A concurrent request with the same key waits here until the first one commits.
    const inserted = await this.tx.$executeRaw`
      INSERT INTO idempotent_requests (user_id, key, request_hash, status_code, response_body)
      VALUES (${userId}, ${key}, ${requestHash}, 0, 'null'::jsonb) ON CONFLICT DO NOTHING`;
    if (inserted === 1) return { claimed: true };
    const stored = await this.tx.idempotentRequest.findUniqueOrThrow({ where: { userId_key: { userId, key } } });
    return { claimed: false, requestHash: stored.requestHash, statusCode: stored.statusCode, body: stored.responseBody };
  }

  async saveIdempotentResponse(userId: string, key: string, statusCode: number, body: unknown): Promise<void> {
    await this.tx.idempotentRequest.update({ where: { userId_key: { userId, key } }, data: { statusCode, responseBody: body as Prisma.InputJsonValue } });
  }

  async credit(userId: string, amount: number, type: "CHARGE" | "REFUND", orderId?: string): Promise<LedgerEntry> {
    const [wallet] = await this.tx.$queryRaw<{ balance: bigint }[]>`
      INSERT INTO wallets (user_id, balance) VALUES (${userId}, ${amount})
      ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
      RETURNING balance`;
    return this.appendEntry(userId, type, amount, wallet!.balance, orderId ?? null);
  }

  async debitIfCovered(userId: string, amount: number, orderId: string): Promise<LedgerEntry | null> {
    const [wallet] = await this.tx.$queryRaw<{ balance: bigint }[]>`
      UPDATE wallets SET balance = balance - ${amount}, updated_at = now()
      WHERE user_id = ${userId} AND balance >= ${amount}
      RETURNING balance`;
    if (!wallet) {
      if (amount === 0) return this.appendEntry(userId, "PAYMENT", 0, 0n, orderId);
      return null;
    }
    return this.appendEntry(userId, "PAYMENT", -amount, wallet.balance, orderId);
  }

  private async appendEntry(userId: string, type: LedgerEntry["type"], amount: number, balanceAfter: bigint, orderId: string | null): Promise<LedgerEntry> {
    const row = await this.tx.ledgerEntry.create({ data: { userId, type, amount: BigInt(amount), balanceAfter, orderId } });
    return toEntry(row);
  }

  async lockOrder(orderId: string): Promise<void> {
    await this.tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`order:${orderId}`}))`;
  }

  async findOrderDebit(orderId: string): Promise<OrderDebit | null> {
    const row = await this.tx.orderDebit.findUnique({ where: { orderId } });
    return row && { orderId: row.orderId, userId: row.userId, amount: Number(row.amount), status: row.status };
  }

  async saveOrderDebit(debit: OrderDebit): Promise<void> {
    const data = { userId: debit.userId, amount: BigInt(debit.amount), status: debit.status };
    await this.tx.orderDebit.upsert({ where: { orderId: debit.orderId }, create: { orderId: debit.orderId, ...data }, update: data });
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }

  publish(events: DomainEvent[]): Promise<void> {
    return appendEvents(this.tx, { schema: this.schema, topicPrefix: this.topicPrefix }, events);
  }
}

export class PrismaWalletStore implements WalletStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly schema: string,
    private readonly topicPrefix: string,
  ) {}

  async balanceOf(userId: string): Promise<number> {
    const wallet = await this.prisma.wallet.findUnique({ where: { userId }, select: { balance: true } });
    return Number(wallet?.balance ?? 0n);
  }

  async history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>> {
    const rows = await this.prisma.ledgerEntry.findMany({
      where: { userId, ...(cursor ? { id: { lt: BigInt(cursor) } } : {}) },
      orderBy: { id: "desc" },
      take: limit + 1,
    });
    const items = rows.slice(0, limit).map(toEntry);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PrismaWalletTransaction(tx, this.schema, this.topicPrefix)), { timeout: 15_000, maxWait: 10_000 });
  }
}
