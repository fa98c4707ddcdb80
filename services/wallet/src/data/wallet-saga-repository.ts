import type { SqlTransaction } from "@shop/outbox";
import type { ParticipantRepository, SagaEvent } from "@shop/saga";
import type { OrderDebit, OrderDebitStatus } from "../domain/model.ts";
import type { WalletEffect, WalletSagaState } from "../domain/saga-participant.ts";

/** An order_debits row as pg returns it: BIGINT is a string. */
interface OrderDebitRow {
  order_id: string;
  user_id: string;
  amount: string;
  status: OrderDebitStatus;
}

interface WalletRow {
  user_id: string;
  balance: string;
}

const toOrderDebit = (row: OrderDebitRow): OrderDebit => ({ orderId: row.order_id, userId: row.user_id, amount: Number(row.amount), status: row.status });

const FIND_DEBITS = "SELECT order_id, user_id, amount, status FROM order_debits WHERE order_id = ANY($1::text[])";

/**
 * Gives every user of the batch a wallet row (balance 0) before LOCK_WALLETS, so that there is a
 * row to lock for each: otherwise a user's first charge could create the row after the load read
 * "no wallet", and save's balances (absolute values, see SET_BALANCES) would overwrite it. In the
 * same user order as LOCK_WALLETS: two batches creating the same rows wait for each other, never
 * deadlock. An existing row is left as it is (no write, no lock).
 */
const ENSURE_WALLETS = `
  INSERT INTO wallets (user_id, balance)
  SELECT user_id, 0 FROM unnest($1::text[]) AS u(user_id) ORDER BY user_id COLLATE "C"
  ON CONFLICT (user_id) DO NOTHING`;

/**
 * Reads and locks the batch's wallets, in user order (the same in every batch: no deadlock). From
 * here to the commit nothing else changes these balances: a concurrent charge's upsert waits.
 */
const LOCK_WALLETS = `
  WITH locked AS MATERIALIZED (
    SELECT user_id, balance FROM wallets WHERE user_id = ANY($1::text[]) ORDER BY user_id COLLATE "C" FOR NO KEY UPDATE
  )
  SELECT user_id, balance FROM locked`;

/** The ledger entries in the order their effects happened: ids are drawn row by row after the ORDER BY, and history pages by id. */
const APPEND_LEDGER = `
  INSERT INTO ledger_entries (user_id, type, amount, balance_after, order_id)
  SELECT user_id, type, amount, balance_after, order_id
  FROM unnest($1::text[], $2::ledger_entry_type[], $3::bigint[], $4::bigint[], $5::text[]) WITH ORDINALITY AS e(user_id, type, amount, balance_after, order_id, n)
  ORDER BY n`;

/** The final balances: absolute values are safe because load locked these rows. */
const SET_BALANCES = `
  UPDATE wallets w SET balance = b.balance, updated_at = now()
  FROM unnest($1::text[], $2::bigint[]) AS b(user_id, balance)
  WHERE w.user_id = b.user_id`;

const SAVE_DEBITS = `
  INSERT INTO order_debits (order_id, user_id, amount, status)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::order_debit_status[])
  ON CONFLICT (order_id) DO UPDATE SET user_id = EXCLUDED.user_id, amount = EXCLUDED.amount, status = EXCLUDED.status, updated_at = now()`;

type MovingEffect = Extract<WalletEffect, { kind: "debited" | "refunded" }>;

const movesMoney = (effect: WalletEffect): effect is MovingEffect => effect.kind === "debited" || effect.kind === "refunded";

/** The ledger entry of a money movement: payments are negative. */
const toLedgerEntry = (effect: MovingEffect) => ({
  userId: effect.userId,
  type: effect.kind === "debited" ? "PAYMENT" : "REFUND",
  amount: effect.kind === "debited" ? -effect.amount : effect.amount,
  balanceAfter: effect.balanceAfter,
  orderId: effect.orderId,
});

const unique = (values: string[]) => [...new Set(values)];

/** The wallet's saga state in its tables: order_debits, wallets and ledger_entries, read and written a batch at a time. */
export const walletSagaRepository: ParticipantRepository<WalletSagaState, WalletEffect> = {
  async load(tx: SqlTransaction, events: SagaEvent[]): Promise<WalletSagaState> {
    // The runner's order locks keep these records as read until the commit.
    const debits = (await tx.query<OrderDebitRow>(FIND_DEBITS, [unique(events.map((e) => e.orderId))])).map(toOrderDebit);
    // The balances a decision may read: the events' users (debits) and those of debits a refund may give back.
    const debitedUsers = debits.filter((d) => d.status === "DEBITED").map((d) => d.userId);
    const userIds = unique([...events.map((e) => e.userId), ...debitedUsers]);
    await tx.execute(ENSURE_WALLETS, [userIds]);
    const wallets = await tx.query<WalletRow>(LOCK_WALLETS, [userIds]);
    return {
      debits: new Map(debits.map((d) => [d.orderId, d])),
      balances: new Map(wallets.map((w) => [w.user_id, Number(w.balance)])),
    };
  },

  async save(tx: SqlTransaction, effects: WalletEffect[], state: WalletSagaState): Promise<void> {
    const entries = effects.filter(movesMoney).map(toLedgerEntry);
    if (entries.length) {
      await tx.execute(APPEND_LEDGER, [
        entries.map((e) => e.userId),
        entries.map((e) => e.type),
        entries.map((e) => e.amount),
        entries.map((e) => e.balanceAfter),
        entries.map((e) => e.orderId),
      ]);
      const userIds = unique(entries.map((e) => e.userId));
      const updated = await tx.execute(SET_BALANCES, [userIds, userIds.map((id) => state.balances.get(id)!)]);
      if (updated !== userIds.length) throw new Error(`expected ${userIds.length} locked wallets, updated ${updated}`);
    }
    const debits = unique(effects.map((e) => e.orderId)).map((id) => state.debits.get(id)!);
    await tx.execute(SAVE_DEBITS, [debits.map((d) => d.orderId), debits.map((d) => d.userId), debits.map((d) => d.amount), debits.map((d) => d.status)]);
  },
};
