import { GroupCommitter, batchedLookup } from "@shop/batching";
import { createSqlPool, inTransaction, type SqlTransaction } from "@shop/outbox";
import type { ChargeReceipt, LedgerEntry, LedgerEntryType, Page } from "../domain/model.ts";
import type { ChargeKeyState, WalletStore, WalletTransaction } from "../domain/ports.ts";

/** The service's plain `pg` pool (search_path = the wallet schema). */
export type SqlPool = ReturnType<typeof createSqlPool>;

/** A ledger_entries row as pg returns it: BIGINT columns are strings. */
interface LedgerRow {
  id: string;
  user_id: string;
  type: LedgerEntryType;
  amount: string;
  balance_after: string;
  order_id: string | null;
  created_at: Date;
}

/**
 * An idempotent_requests row. `status_code` 0 means "claimed, not answered": a row only the
 * claiming transaction can see, since the receipt is stored before it commits. An answered row
 * holds 201 and the receipt (the record's historical format, kept so stored receipts replay).
 */
interface IdempotentRequestRow {
  request_hash: string;
  status_code: number;
  response_body: ChargeReceipt;
}

const CLAIMED_NOT_ANSWERED = 0;
const ANSWERED = 201;

const keyStateOf = (row: IdempotentRequestRow): ChargeKeyState =>
  row.status_code === CLAIMED_NOT_ANSWERED
    ? { state: "in-progress", requestHash: row.request_hash }
    : { state: "completed", requestHash: row.request_hash, answer: row.response_body };

const LEDGER_COLUMNS = "id, user_id, type, amount, balance_after, order_id, created_at";

const toEntry = (row: LedgerRow): LedgerEntry => ({
  id: String(row.id),
  userId: row.user_id,
  type: row.type,
  amount: Number(row.amount),
  balanceAfter: Number(row.balance_after),
  orderId: row.order_id,
  createdAt: row.created_at,
});

/**
 * A charge: adds to the wallet (created on first use) and writes its ledger entry in one
 * statement, the upsert's new balance feeding the entry. $1 user, $2 amount.
 */
const CHARGE_SQL = `
  WITH credited AS (
    INSERT INTO wallets (user_id, balance) VALUES ($1, $2::bigint)
    ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
    RETURNING balance
  )
  INSERT INTO ledger_entries (user_id, type, amount, balance_after, order_id)
  SELECT $1::text, 'CHARGE'::ledger_entry_type, $2::bigint, balance, NULL FROM credited
  RETURNING ${LEDGER_COLUMNS}`;

/**
 * Many charges (without an Idempotency-Key) in one statement: each user's wallet is credited with
 * the sum of its charges, locking the rows in user order, and every charge gets its own ledger
 * entry whose balance_after counts the charges before it in the batch (the later ones are taken
 * off the new balance). Entries are inserted in request order, so ids follow it. $1 users, $2 amounts.
 */
const CHARGES_SQL = `
  WITH input AS (
    SELECT user_id, amount, n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(user_id, amount, n)
  ), credited AS (
    INSERT INTO wallets (user_id, balance)
    SELECT user_id, sum(amount) FROM input GROUP BY user_id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
    RETURNING user_id, balance
  ), entries AS (
    SELECT i.n, i.user_id, i.amount,
      c.balance - coalesce(sum(i.amount) OVER (PARTITION BY i.user_id ORDER BY i.n ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0) AS balance_after
    FROM input i JOIN credited c USING (user_id)
  )
  INSERT INTO ledger_entries (user_id, type, amount, balance_after, order_id)
  SELECT user_id, 'CHARGE'::ledger_entry_type, amount, balance_after, NULL FROM entries ORDER BY n
  RETURNING ${LEDGER_COLUMNS}`;

class PgWalletTransaction implements WalletTransaction {
  constructor(private readonly tx: SqlTransaction) {}

  async claimIdempotencyKey(userId: string, key: string, requestHash: string): Promise<ChargeKeyState> {
    // A concurrent request with the same key waits here until the first one commits.
    const inserted = await this.tx.execute(
      `INSERT INTO idempotent_requests (user_id, key, request_hash, status_code, response_body)
       VALUES ($1, $2, $3, ${CLAIMED_NOT_ANSWERED}, 'null'::jsonb) ON CONFLICT DO NOTHING`,
      [userId, key, requestHash],
    );
    if (inserted === 1) return { state: "claimed" };
    // A statement of its own: its snapshot sees the row the first request committed meanwhile.
    const [stored] = await this.tx.query<IdempotentRequestRow>(
      "SELECT request_hash, status_code, response_body FROM idempotent_requests WHERE user_id = $1 AND key = $2",
      [userId, key],
    );
    if (!stored) throw new Error(`idempotent request (${userId}, ${key}) vanished after its claim conflicted`);
    return keyStateOf(stored);
  }

  async completeIdempotencyKey(userId: string, key: string, receipt: ChargeReceipt): Promise<void> {
    const updated = await this.tx.execute("UPDATE idempotent_requests SET status_code = $3, response_body = $4::jsonb WHERE user_id = $1 AND key = $2", [
      userId,
      key,
      ANSWERED,
      JSON.stringify(receipt),
    ]);
    if (updated !== 1) throw new Error(`idempotent request (${userId}, ${key}) was not claimed`);
  }

  async charge(userId: string, amount: number): Promise<LedgerEntry> {
    const [row] = await this.tx.query<LedgerRow>(CHARGE_SQL, [userId, amount]);
    return toEntry(row!);
  }
}

export class PgWalletStore implements WalletStore {
  /** Balance reads that arrive together share one query (half the pool at most, so writes always find a connection). */
  private readonly balances;

  /**
   * Charges without a key that arrive while one batch is being written go together in the next:
   * one statement and one commit for all of them, however many there are.
   */
  private readonly charges = new GroupCommitter<{ userId: string; amount: number }, LedgerEntry>((_key, batch) => this.chargeMany(batch), {
    maxWaitMs: 0,
    maxBatchSize: 200,
  });

  constructor(private readonly pool: SqlPool) {
    this.balances = batchedLookup(
      async (userIds: string[]) => {
        const { rows } = await this.pool.query<{ user_id: string; balance: string }>("SELECT user_id, balance FROM wallets WHERE user_id = ANY($1::text[])", [
          userIds,
        ]);
        return new Map(rows.map((row) => [row.user_id, Number(row.balance)]));
      },
      { maxBatchSize: 200, maxInFlight: Math.max(1, Math.floor(pool.options.max / 2)) },
    );
  }

  async balanceOf(userId: string): Promise<number> {
    return (await this.balances(userId)) ?? 0;
  }

  async history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>> {
    const { rows } = cursor
      ? await this.pool.query<LedgerRow>(`SELECT ${LEDGER_COLUMNS} FROM ledger_entries WHERE user_id = $1 AND id < $2::bigint ORDER BY id DESC LIMIT $3`, [
          userId,
          cursor,
          limit + 1,
        ])
      : await this.pool.query<LedgerRow>(`SELECT ${LEDGER_COLUMNS} FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, [userId, limit + 1]);
    const items = rows.slice(0, limit).map(toEntry);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  charge(userId: string, amount: number): Promise<LedgerEntry> {
    return this.charges.submit("charges", { userId, amount });
  }

  /** One statement, autocommitted: atomic on its own, and the wallet rows' locks end with it. */
  private async chargeMany(batch: { userId: string; amount: number }[]): Promise<LedgerEntry[]> {
    const { rows } = await this.pool.query<LedgerRow>(CHARGES_SQL, [batch.map((c) => c.userId), batch.map((c) => c.amount)]);
    // Charges are positive, so a user's balances after are distinct within a batch: they identify the entries.
    const entries = new Map(rows.map((row) => [`${row.user_id}\u0000${row.balance_after}`, toEntry(row)]));
    const balances = new Map<string, number>();
    for (const row of rows) balances.set(row.user_id, Math.max(balances.get(row.user_id) ?? 0, Number(row.balance_after)));
    // Walk the batch backwards from each user's final balance to find each charge's entry.
    const results = new Array<LedgerEntry>(batch.length);
    for (let i = batch.length - 1; i >= 0; i--) {
      const { userId, amount } = batch[i]!;
      const after = balances.get(userId)!;
      results[i] = entries.get(`${userId}\u0000${after}`)!;
      balances.set(userId, after - amount);
    }
    return results;
  }

  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (tx) => work(new PgWalletTransaction(tx)));
  }
}
