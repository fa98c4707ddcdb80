import type { AdmissionTerms, Campaign, IssuedCoupon, NewCampaign, Reservation, UserCoupon, UserCouponWithTerms } from "./model.ts";

// --- Admission (Redis): decides, alone and atomically, who may get a coupon ------------------

export type AdmissionVerdict =
  | "ADMITTED"
  | "NOT_STARTED"
  | "ENDED"
  | "SOLD_OUT"
  | "ALREADY_ISSUED"
  /** The campaign's state (its marker) is missing, e.g. after a Redis restart: rebuild first. */
  | "STATE_MISSING"
  /** A recent rebuild found no such campaign. */
  | "UNKNOWN_COUPON";

export interface StaleAdmissions {
  couponId: string;
  userIds: string[];
}

export interface AdmissionGate {
  /** One atomic step: window, already issued, sold out; if all pass the user is counted in. */
  admit(couponId: string, userId: string): Promise<AdmissionVerdict>;
  /** These users' coupons are committed: they stay counted and are no longer pending. */
  confirm(couponId: string, userIds: string[]): Promise<void>;
  /** These users were admitted but got no coupon: free their places. */
  withdraw(couponId: string, userIds: string[]): Promise<void>;
  hasState(couponId: string): Promise<boolean>;
  /** A lock that makes one rebuild per campaign at a time; null when someone else holds it. */
  tryLock(couponId: string, ttlMs: number): Promise<string | null>;
  unlock(couponId: string, token: string): Promise<void>;
  /**
   * Installs a campaign's terms and its issued users (merged with users confirmed meanwhile),
   * the marker last and in one atomic step; false if the staging data was lost on the way.
   */
  restore(terms: AdmissionTerms, issuedUserIds: string[], token: string): Promise<boolean>;
  markUnknown(couponId: string): Promise<void>;
  /** Admissions still pending after `olderThanMs` (their request likely died), per campaign. */
  stalePending(olderThanMs: number): Promise<StaleAdmissions[]>;
  /** Frees these users' places if their admission is still pending and older than `olderThanMs`. */
  dropStale(couponId: string, userIds: string[], olderThanMs: number): Promise<void>;
}

/** What the issue path reports for metrics; the domain does not know how they are exported. */
export interface IssueObserver {
  admission(verdict: AdmissionVerdict | "ERROR", seconds: number): void;
  batchWritten(size: number, seconds: number, ok: boolean): void;
}

export const ignoreIssueMetrics: IssueObserver = { admission: () => {}, batchWritten: () => {} };

// --- PostgreSQL: the source of truth -------------------------------------------------------

export interface IssueRequest {
  /** Chosen before the insert so that every request of a batch can be told apart. */
  userCouponId: string;
  userId: string;
}

export type IssueOutcome = { kind: "ISSUED"; coupon: IssuedCoupon } | { kind: "ALREADY_ISSUED" } | { kind: "SOLD_OUT" };

/** Everything a reservation step outside the saga's events (reserve, lapse) may do inside one database transaction. */
export interface ReservationTransaction {
  /** Serializes every step for one order (a transaction-scoped lock on that order only, the one the saga's batches take). */
  lockOrder(orderId: string): Promise<void>;
  findReservation(orderId: string): Promise<Reservation | null>;
  saveReservation(reservation: Reservation): Promise<void>;
  /** Locks the user coupon row for the rest of the transaction. */
  lockUserCoupon(userCouponId: string): Promise<UserCouponWithTerms | null>;
  setUserCouponState(userCouponId: string, status: UserCoupon["status"], orderId: string | null): Promise<void>;
}

export interface CouponStore {
  createCampaign(id: string, campaign: Required<NewCampaign>): Promise<Campaign>;
  findCampaign(couponId: string): Promise<Campaign | null>;
  /** Window open at `now` and not sold out, newest first. */
  listOpenCampaigns(now: Date, limit: number): Promise<Campaign[]>;
  /**
   * One transaction for a batch of admitted requests of one campaign: inserts at most
   * total - issued new coupons (in batch order), never a second one per user, and counts them
   * on the campaign row. One outcome per request, in order.
   */
  issueBatch(couponId: string, requests: IssueRequest[]): Promise<IssueOutcome[]>;
  /** The campaign and every user holding one of its coupons; null if there is no such campaign. */
  admissionSnapshot(couponId: string): Promise<{ terms: AdmissionTerms; issuedUserIds: string[] } | null>;
  /** Which of these users hold a coupon of this campaign. */
  holders(couponId: string, userIds: string[]): Promise<string[]>;
  userCoupons(userId: string): Promise<UserCouponWithTerms[]>;
  /** Orders whose reservation is still RESERVED (no OrderPlaced yet) and was made before `reservedBefore`. */
  orphanReservations(reservedBefore: Date, limit: number): Promise<string[]>;
  transaction<T>(work: (tx: ReservationTransaction) => Promise<T>): Promise<T>;
}

/** The order service's record of placed orders. */
export interface PlacedOrders {
  /** Whether an order with this id was placed (in any status); throws when the order service cannot answer. */
  wasPlaced(orderId: string): Promise<boolean>;
}

/** The current time, given to the domain by main.ts (tests pin it). */
export type Clock = () => Date;
