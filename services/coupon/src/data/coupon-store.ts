import { Prisma } from "./generated/prisma/client.ts";
import { claimInboxEvent } from "@shop/outbox";
import type { AdmissionTerms, Campaign, DiscountType, NewCampaign, Reservation, UserCouponStatus, UserCouponWithTerms } from "../domain/model.ts";
import type { CouponStore, IssueOutcome, IssueRequest, ReservationTransaction } from "../domain/ports.ts";
import type { SqlPool } from "./pg-pool.ts";
import type { PrismaClient } from "./prisma.ts";

type Tx = Prisma.TransactionClient;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CampaignRow {
  id: string;
  name: string;
  discountType: DiscountType;
  discountValue: number;
  maxDiscountAmount: bigint | null;
  minOrderAmount: bigint;
  totalQuantity: number;
  issuedQuantity: number;
  issueStartsAt: Date;
  issueEndsAt: Date | null;
  validForDays: number;
  createdAt: Date;
}

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

interface UserCouponRow {
  id: string;
  couponId: string;
  userId: string;
  status: UserCouponStatus;
  orderId: string | null;
  issuedAt: Date;
  expiresAt: Date;
  coupon: Pick<CampaignRow, "name" | "discountType" | "discountValue" | "maxDiscountAmount" | "minOrderAmount">;
}

const toUserCoupon = (row: UserCouponRow): UserCouponWithTerms => ({
  id: row.id,
  couponId: row.couponId,
  userId: row.userId,
  status: row.status,
  orderId: row.orderId,
  issuedAt: row.issuedAt,
  expiresAt: row.expiresAt,
  campaign: {
    name: row.coupon.name,
    discountType: row.coupon.discountType,
    discountValue: row.coupon.discountValue,
    maxDiscountAmount: row.coupon.maxDiscountAmount === null ? null : Number(row.coupon.maxDiscountAmount),
    minOrderAmount: Number(row.coupon.minOrderAmount),
  },
});

const termsSelect = { name: true, discountType: true, discountValue: true, maxDiscountAmount: true, minOrderAmount: true } as const;

class PrismaReservationTransaction implements ReservationTransaction {
  constructor(private readonly tx: Tx) {}

  async lockOrder(orderId: string): Promise<void> {
    // Namespaced: other services lock their own view of the same order in the same database.
    await this.tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`coupon:order:${orderId}`}))`;
  }

  async findReservation(orderId: string): Promise<Reservation | null> {
    const row = await this.tx.couponReservation.findUnique({ where: { orderId } });
    return row && { orderId: row.orderId, userCouponId: row.userCouponId, userId: row.userId, status: row.status, discountAmount: Number(row.discountAmount), reservedAt: row.reservedAt };
  }

  async saveReservation(r: Reservation): Promise<void> {
    // A malformed coupon id in an event cannot name a coupon: the tombstone keeps null instead.
    const userCouponId = r.userCouponId && UUID.test(r.userCouponId) ? r.userCouponId : null;
    const data = { userCouponId, userId: r.userId, status: r.status, discountAmount: BigInt(r.discountAmount), reservedAt: r.reservedAt, updatedAt: new Date() };
    await this.tx.couponReservation.upsert({ where: { orderId: r.orderId }, create: { orderId: r.orderId, ...data }, update: data });
  }

  async lockUserCoupon(userCouponId: string): Promise<UserCouponWithTerms | null> {
    if (!UUID.test(userCouponId)) return null;
    await this.tx.$executeRaw`SELECT 1 FROM user_coupons WHERE id = ${userCouponId}::uuid FOR UPDATE`;
    const row = await this.tx.userCoupon.findUnique({ where: { id: userCouponId }, include: { coupon: { select: termsSelect } } });
    return row && toUserCoupon(row);
  }

  async setUserCouponState(userCouponId: string, status: UserCouponStatus, orderId: string | null): Promise<void> {
    await this.tx.userCoupon.update({ where: { id: userCouponId }, data: { status, orderId, updatedAt: new Date() } });
  }

  claimEvent(eventId: string, consumer: string): Promise<boolean> {
    return claimInboxEvent(this.tx, eventId, consumer);
  }
}

export class PrismaCouponStore implements CouponStore {
  constructor(
    private readonly prisma: PrismaClient,
    /** Only for `issueBatch`, the hot path. */
    private readonly sql: SqlPool,
  ) {}

  async createCampaign(id: string, c: Required<NewCampaign>): Promise<Campaign> {
    const row = await this.prisma.coupon.create({
      data: {
        id,
        name: c.name,
        discountType: c.discountType,
        discountValue: c.discountValue,
        maxDiscountAmount: c.maxDiscountAmount === null ? null : BigInt(c.maxDiscountAmount),
        minOrderAmount: BigInt(c.minOrderAmount),
        totalQuantity: c.totalQuantity,
        issueStartsAt: c.issueStartsAt,
        issueEndsAt: c.issueEndsAt,
        validForDays: c.validForDays,
      },
    });
    return toCampaign(row);
  }

  async findCampaign(couponId: string): Promise<Campaign | null> {
    const row = await this.prisma.coupon.findUnique({ where: { id: couponId } });
    return row && toCampaign(row);
  }

  async listOpenCampaigns(now: Date, limit: number): Promise<Campaign[]> {
    const rows = await this.prisma.$queryRaw<CampaignRow[]>`
      SELECT id::text, name, discount_type::text AS "discountType", discount_value AS "discountValue",
             max_discount_amount AS "maxDiscountAmount", min_order_amount AS "minOrderAmount",
             total_quantity AS "totalQuantity", issued_quantity AS "issuedQuantity",
             issue_starts_at AS "issueStartsAt", issue_ends_at AS "issueEndsAt",
             valid_for_days AS "validForDays", created_at AS "createdAt"
      FROM coupons
      WHERE issue_starts_at <= ${now} AND (issue_ends_at IS NULL OR issue_ends_at > ${now})
        AND issued_quantity < total_quantity
      ORDER BY issue_starts_at DESC, id
      LIMIT ${limit}`;
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

  async admissionSnapshot(couponId: string): Promise<{ terms: AdmissionTerms; issuedUserIds: string[] } | null> {
    const campaign = await this.prisma.coupon.findUnique({ where: { id: couponId }, select: { totalQuantity: true, issueStartsAt: true, issueEndsAt: true } });
    if (!campaign) return null;
    const rows = await this.prisma.$queryRaw<{ user_id: string }[]>`SELECT user_id FROM user_coupons WHERE coupon_id = ${couponId}::uuid`;
    return { terms: { couponId, ...campaign }, issuedUserIds: rows.map((r) => r.user_id) };
  }

  async holders(couponId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.prisma.$queryRaw<{ user_id: string }[]>`
      SELECT user_id FROM user_coupons WHERE coupon_id = ${couponId}::uuid AND user_id = ANY(${userIds}::text[])`;
    return rows.map((r) => r.user_id);
  }

  async userCoupons(userId: string): Promise<UserCouponWithTerms[]> {
    const rows = await this.prisma.userCoupon.findMany({ where: { userId }, include: { coupon: { select: termsSelect } }, orderBy: [{ issuedAt: "desc" }, { id: "asc" }] });
    return rows.map(toUserCoupon);
  }

  async hasReservation(orderId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<unknown[]>`SELECT 1 FROM coupon_reservations WHERE order_id = ${orderId}`;
    return rows.length > 0;
  }

  async orphanReservations(reservedBefore: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.couponReservation.findMany({ where: { status: "RESERVED", reservedAt: { lt: reservedBefore } }, select: { orderId: true }, orderBy: { reservedAt: "asc" }, take: limit });
    return rows.map((r) => r.orderId);
  }

  transaction<T>(work: (tx: ReservationTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(new PrismaReservationTransaction(tx)), { timeout: 15_000, maxWait: 10_000 });
  }
}
