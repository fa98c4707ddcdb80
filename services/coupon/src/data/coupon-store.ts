import { inTransaction, lockOrder, type SqlTransaction } from "@shop/outbox";
import type { AdmissionTerms, Campaign, DiscountType, NewCampaign, Reservation, UserCouponStatus, UserCouponWithTerms } from "../domain/model.ts";
import type { CouponStore, IssueOutcome, IssueRequest, ReservationTransaction } from "../domain/ports.ts";
import type { SqlPool } from "./pg-pool.ts";
import { isUuid, RESERVATION_COLUMNS, toReservation, type ReservationRow } from "./reservation-rows.ts";

// pg returns BIGINT as a string (amounts are safe integers), uuid and enums as text, timestamptz as Date.

interface CampaignRow {
  id: string;
  name: string;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountAmount: string | null;
  minOrderAmount: string;
  totalQuantity: number;
  issuedQuantity: number;
  issueStartsAt: Date;
  issueEndsAt: Date | null;
  validForDays: number;
  createdAt: Date;
}

const CAMPAIGN_COLUMNS = `id::text AS id, name, discount_type::text AS "discountType", discount_value AS "discountValue",
  max_discount_amount AS "maxDiscountAmount", min_order_amount AS "minOrderAmount",
  total_quantity AS "totalQuantity", issued_quantity AS "issuedQuantity",
  issue_starts_at AS "issueStartsAt", issue_ends_at AS "issueEndsAt",
  valid_for_days AS "validForDays", created_at AS "createdAt"`;

const toCampaign = (row: CampaignRow): Campaign => ({
  id: row.id,
  name: row.name,
  discountType: row.discountType,
  discountValue: row.discountValue,
  maxDiscountAmount: row.maxDiscountAmount === null ? null : Number(row.maxDiscountAmount),
  minOrderAmount: Number(row.minOrderAmount),
  totalQuantity: row.totalQuantity,
  issuedQuantity: row.issuedQuantity,
  issueStartsAt: row.issueStartsAt,
  issueEndsAt: row.issueEndsAt,
  validForDays: row.validForDays,
  createdAt: row.createdAt,
});

/** A user coupon joined with its campaign's name and terms. */
interface UserCouponRow {
  id: string;
  couponId: string;
  userId: string;
  status: UserCouponStatus;
  orderId: string | null;
  issuedAt: Date;
  expiresAt: Date;
  name: string;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountAmount: string | null;
  minOrderAmount: string;
}

/** Over `user_coupons u JOIN coupons c ON c.id = u.coupon_id`. */
const USER_COUPON_COLUMNS = `u.id::text AS id, u.coupon_id::text AS "couponId", u.user_id AS "userId", u.status::text AS status,
  u.order_id AS "orderId", u.issued_at AS "issuedAt", u.expires_at AS "expiresAt",
  c.name, c.discount_type::text AS "discountType", c.discount_value AS "discountValue",
  c.max_discount_amount AS "maxDiscountAmount", c.min_order_amount AS "minOrderAmount"`;

const toUserCoupon = (row: UserCouponRow): UserCouponWithTerms => ({
  id: row.id,
  couponId: row.couponId,
  userId: row.userId,
  status: row.status,
  orderId: row.orderId,
  issuedAt: row.issuedAt,
  expiresAt: row.expiresAt,
  campaign: {
    name: row.name,
    discountType: row.discountType,
    discountValue: row.discountValue,
    maxDiscountAmount: row.maxDiscountAmount === null ? null : Number(row.maxDiscountAmount),
    minOrderAmount: Number(row.minOrderAmount),
  },
});

class SqlReservationTransaction implements ReservationTransaction {
  constructor(private readonly tx: SqlTransaction) {}

  lockOrder(orderId: string): Promise<void> {
    // Namespaced: other services lock their own view of the same order in the same database.
    return lockOrder(this.tx, "coupon", orderId);
  }

  async findReservation(orderId: string): Promise<Reservation | null> {
    const [row] = await this.tx.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM coupon_reservations WHERE order_id = $1`, [orderId]);
    return row ? toReservation(row) : null;
  }

  async saveReservation(r: Reservation): Promise<void> {
    await this.tx.execute(
      `INSERT INTO coupon_reservations (order_id, user_coupon_id, user_id, status, discount_amount, reserved_at, updated_at)
       VALUES ($1, $2::uuid, $3, $4::reservation_status, $5::bigint, $6, now())
       ON CONFLICT (order_id) DO UPDATE SET user_coupon_id = EXCLUDED.user_coupon_id, user_id = EXCLUDED.user_id, status = EXCLUDED.status,
         discount_amount = EXCLUDED.discount_amount, reserved_at = EXCLUDED.reserved_at, updated_at = EXCLUDED.updated_at`,
      [r.orderId, r.userCouponId, r.userId, r.status, r.discountAmount, r.reservedAt],
    );
  }

  /** One statement: the row lock on the user coupon and its campaign's terms. */
  async lockUserCoupon(userCouponId: string): Promise<UserCouponWithTerms | null> {
    if (!isUuid(userCouponId)) return null;
    const [row] = await this.tx.query<UserCouponRow>(
      `SELECT ${USER_COUPON_COLUMNS} FROM user_coupons u JOIN coupons c ON c.id = u.coupon_id WHERE u.id = $1::uuid FOR UPDATE OF u`,
      [userCouponId],
    );
    return row ? toUserCoupon(row) : null;
  }

  async setUserCouponState(userCouponId: string, status: UserCouponStatus, orderId: string | null): Promise<void> {
    const updated = await this.tx.execute(`UPDATE user_coupons SET status = $2::user_coupon_status, order_id = $3, updated_at = now() WHERE id = $1::uuid`, [
      userCouponId,
      status,
      orderId,
    ]);
    // As Prisma's update did: a coupon that is not there is an error, not a silent no-op.
    if (updated !== 1) throw new Error(`user coupon ${userCouponId} not found`);
  }
}

export class SqlCouponStore implements CouponStore {
  constructor(
    private readonly pool: SqlPool,
    /** Only for `issueBatch`: a few connections of their own, so group commits never wait behind reservations. */
    private readonly sql: SqlPool,
  ) {}

  async createCampaign(id: string, c: Required<NewCampaign>): Promise<Campaign> {
    const { rows } = await this.pool.query<CampaignRow>(
      `INSERT INTO coupons (id, name, discount_type, discount_value, max_discount_amount, min_order_amount, total_quantity, issue_starts_at, issue_ends_at, valid_for_days)
       VALUES ($1::uuid, $2, $3::discount_type, $4, $5::bigint, $6::bigint, $7, $8, $9, $10)
       RETURNING ${CAMPAIGN_COLUMNS}`,
      [id, c.name, c.discountType, c.discountValue, c.maxDiscountAmount, c.minOrderAmount, c.totalQuantity, c.issueStartsAt, c.issueEndsAt, c.validForDays],
    );
    return toCampaign(rows[0]!);
  }

  async findCampaign(couponId: string): Promise<Campaign | null> {
    const { rows } = await this.pool.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM coupons WHERE id = $1::uuid`, [couponId]);
    return rows[0] ? toCampaign(rows[0]) : null;
  }

  async listOpenCampaigns(now: Date, limit: number): Promise<Campaign[]> {
    const { rows } = await this.pool.query<CampaignRow>(
      `SELECT ${CAMPAIGN_COLUMNS}
       FROM coupons
       WHERE issue_starts_at <= $1 AND (issue_ends_at IS NULL OR issue_ends_at > $1)
         AND issued_quantity < total_quantity
       ORDER BY issue_starts_at DESC, id
       LIMIT $2`,
      [now, limit],
    );
    return rows.map(toCampaign);
  }

  /**
   * One statement, one round trip: it takes the campaign's row lock (FOR UPDATE re-reads the row
   * as committed when the lock is granted, so `room` is current), inserts only users without a
   * coupon of the campaign, in batch order, at most `room` of them, and counts the inserted rows on
   * the campaign row, all in one transaction. The unique (coupon_id, user_id) and the CHECK on
   * issued_quantity are the final word: the limit and one-per-user hold even when Redis forgot
   * its admissions. Returns the inserted coupons ('issued') and the requesting users who already
   * held one ('held'); a request in neither set found no room.
   *
   * (A statement rather than a stored function: Prisma Migrate on its WebAssembly engine splits
   * migration scripts at semicolons and cannot create a PL/pgSQL body.)
   */
  async issueBatch(couponId: string, requests: IssueRequest[]): Promise<IssueOutcome[]> {
    const ids = requests.map((r) => r.userCouponId);
    const userIds = requests.map((r) => r.userId);
    const { rows } = await this.sql.query<{ kind: "issued" | "held"; id: string | null; userId: string; expiresAt: Date | null }>(
      `WITH campaign AS (
         SELECT c.id, c.valid_for_days, greatest(c.total_quantity - c.issued_quantity, 0) AS room FROM coupons c WHERE c.id = $1::uuid FOR UPDATE
       ), requested AS (
         -- One index probe per request: LATERAL ... LIMIT 1 cannot become a join that reads every
         -- coupon of the campaign when the statistics of a new campaign are off.
         SELECT r.id, r.user_id, r.ord, h.user_id IS NOT NULL AS held
         FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS r(id, user_id, ord)
         LEFT JOIN LATERAL (SELECT u.user_id FROM user_coupons u WHERE u.coupon_id = $1::uuid AND u.user_id = r.user_id LIMIT 1) h ON true
       ), fresh AS (
         SELECT DISTINCT ON (f.user_id) f.id, f.user_id, f.ord FROM requested f WHERE NOT f.held ORDER BY f.user_id, f.ord
       ), picked AS (
         SELECT x.id, x.user_id FROM (SELECT f.id, f.user_id, row_number() OVER (ORDER BY f.ord) AS n FROM fresh f) x, campaign WHERE x.n <= campaign.room
       ), inserted AS (
         INSERT INTO user_coupons (id, coupon_id, user_id, status, issued_at, expires_at, updated_at)
         SELECT picked.id, campaign.id, picked.user_id, 'AVAILABLE', now(), now() + make_interval(days => campaign.valid_for_days), now()
         FROM picked, campaign
         ON CONFLICT (coupon_id, user_id) DO NOTHING
         RETURNING user_coupons.id, user_coupons.user_id, user_coupons.expires_at
       ), counted AS (
         UPDATE coupons SET issued_quantity = issued_quantity + (SELECT count(*) FROM inserted) WHERE coupons.id = $1::uuid AND EXISTS (SELECT 1 FROM campaign)
       )
       SELECT 'issued' AS kind, i.id::text AS id, i.user_id AS "userId", i.expires_at AS "expiresAt" FROM inserted i
       UNION ALL
       SELECT 'held', NULL, r.user_id, NULL FROM requested r WHERE r.held`,
      [couponId, ids, userIds],
    );
    const issued = new Map<string, { expiresAt: Date }>();
    const holders = new Set<string>();
    for (const row of rows) {
      holders.add(row.userId);
      if (row.kind === "issued") issued.set(row.id!, { expiresAt: row.expiresAt! });
    }
    return requests.map((r): IssueOutcome => {
      const done = issued.get(r.userCouponId);
      if (done) return { kind: "ISSUED", coupon: { userCouponId: r.userCouponId, couponId, userId: r.userId, status: "AVAILABLE", expiresAt: done.expiresAt } };
      return holders.has(r.userId) ? { kind: "ALREADY_ISSUED" } : { kind: "SOLD_OUT" };
    });
  }

  /** One statement: the campaign's window and limit and every user holding one of its coupons. */
  async admissionSnapshot(couponId: string): Promise<{ terms: AdmissionTerms; issuedUserIds: string[] } | null> {
    const { rows } = await this.pool.query<{ totalQuantity: number; issueStartsAt: Date; issueEndsAt: Date | null; userIds: string[] }>(
      `SELECT c.total_quantity AS "totalQuantity", c.issue_starts_at AS "issueStartsAt", c.issue_ends_at AS "issueEndsAt",
              ARRAY(SELECT u.user_id FROM user_coupons u WHERE u.coupon_id = c.id) AS "userIds"
       FROM coupons c WHERE c.id = $1::uuid`,
      [couponId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      terms: { couponId, totalQuantity: row.totalQuantity, issueStartsAt: row.issueStartsAt, issueEndsAt: row.issueEndsAt },
      issuedUserIds: row.userIds,
    };
  }

  async holders(couponId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const { rows } = await this.pool.query<{ user_id: string }>(`SELECT user_id FROM user_coupons WHERE coupon_id = $1::uuid AND user_id = ANY($2::text[])`, [
      couponId,
      userIds,
    ]);
    return rows.map((r) => r.user_id);
  }

  async userCoupons(userId: string): Promise<UserCouponWithTerms[]> {
    const { rows } = await this.pool.query<UserCouponRow>(
      `SELECT ${USER_COUPON_COLUMNS} FROM user_coupons u JOIN coupons c ON c.id = u.coupon_id WHERE u.user_id = $1 ORDER BY u.issued_at DESC, u.id ASC`,
      [userId],
    );
    return rows.map(toUserCoupon);
  }

  async orphanReservations(reservedBefore: Date, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ order_id: string }>(
      `SELECT order_id FROM coupon_reservations WHERE status = 'RESERVED' AND reserved_at < $1 ORDER BY reserved_at ASC LIMIT $2`,
      [reservedBefore, limit],
    );
    return rows.map((r) => r.order_id);
  }

  transaction<T>(work: (tx: ReservationTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (tx) => work(new SqlReservationTransaction(tx)));
  }
}
