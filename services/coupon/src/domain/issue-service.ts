import { randomUUID } from "node:crypto";
import { NotFoundError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import { CouponAlreadyIssuedError, CouponNotActiveError, CouponSoldOutError, IssueUnavailableError } from "./errors.ts";
import { GroupCommitter } from "@shop/batching";
import type { IssuedCoupon } from "./model.ts";
import {
  ignoreIssueMetrics,
  type AdmissionGate,
  type AdmissionVerdict,
  type Clock,
  type CouponStore,
  type IssueObserver,
  type IssueOutcome,
  type IssueRequest,
} from "./ports.ts";

export interface IssueSettings {
  /** How long an admitted request waits for others to share its INSERT when the database is idle. */
  batchMaxWaitMs: number;
  batchMaxSize: number;
  /** A rebuild lock outlives a crashed holder by at most this long. */
  rebuildLockTtlMs: number;
  /** How long a request may wait for a missing admission state to be rebuilt before answering 503. */
  rebuildWaitMs: number;
  /** An admission still pending after this long belongs to a request that died; the sweeper settles it. */
  staleAdmissionMs: number;
}

export const defaultIssueSettings: IssueSettings = {
  batchMaxWaitMs: 2,
  batchMaxSize: 500,
  rebuildLockTtlMs: 10_000,
  rebuildWaitMs: 5_000,
  staleAdmissionMs: 30_000,
};

const elapsedSeconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * First come, first served. Redis admits (one atomic script: window, already issued, sold out,
 * count in) so that refusals never touch PostgreSQL; admitted requests are group-committed to
 * PostgreSQL, which re-checks the limit and the one-per-user rule under the campaign's row lock
 * and is the final word. A 201 is only answered after the commit.
 */
export class IssueService {
  private readonly committer: GroupCommitter<IssueRequest, IssueOutcome>;
  private readonly rebuilding = new Map<string, Promise<void>>();
  /** Post-commit Redis bookkeeping not awaited by the requests; awaited on shutdown. */
  private readonly settling = new Set<Promise<unknown>>();

  constructor(
    private readonly store: CouponStore,
    private readonly gate: AdmissionGate,
    private readonly logger: Logger,
    private readonly now: Clock,
    private readonly settings: IssueSettings = defaultIssueSettings,
    private readonly observer: IssueObserver = ignoreIssueMetrics,
  ) {
    this.committer = new GroupCommitter((couponId, requests) => this.commitBatch(couponId, requests), {
      maxWaitMs: settings.batchMaxWaitMs,
      maxBatchSize: settings.batchMaxSize,
    });
  }

  /** Admitted requests not answered yet (for shutdown and metrics). */
  get inFlight(): number {
    return this.committer.inFlight;
  }

  /** Resolves when nothing admitted is still being written or settled (call after the server stopped taking requests). */
  async quiesce(): Promise<void> {
    while (this.committer.inFlight > 0 || this.settling.size > 0) {
      await Promise.all([this.committer.whenAllIdle(), ...this.settling]);
    }
  }

  async issue(userId: string, couponId: string): Promise<IssuedCoupon> {
    const verdict = await this.admit(couponId, userId);
    switch (verdict) {
      case "ADMITTED":
        break;
      case "SOLD_OUT":
        throw new CouponSoldOutError(couponId);
      case "ALREADY_ISSUED":
        throw new CouponAlreadyIssuedError(couponId);
      case "NOT_STARTED":
      case "ENDED":
        throw new CouponNotActiveError(couponId, verdict);
      case "UNKNOWN_COUPON":
      case "STATE_MISSING":
        throw new NotFoundError("coupon", { couponId });
    }
    const outcome = await this.committer.submit(couponId, { userCouponId: randomUUID(), userId });
    if (outcome.kind === "ISSUED") return outcome.coupon;
    // PostgreSQL overruled Redis: only after Redis lost state while requests were in flight.
    if (outcome.kind === "ALREADY_ISSUED") throw new CouponAlreadyIssuedError(couponId);
    throw new CouponSoldOutError(couponId);
  }

  /** Admission with the rebuild of a missing state; every refusal here comes from Redis alone. */
  private async admit(couponId: string, userId: string): Promise<AdmissionVerdict> {
    const deadline = this.now().getTime() + this.settings.rebuildWaitMs;
    for (;;) {
      let verdict: AdmissionVerdict;
      const started = process.hrtime.bigint();
      try {
        verdict = await this.gate.admit(couponId, userId);
        this.observer.admission(verdict, elapsedSeconds(started));
      } catch (error) {
        this.observer.admission("ERROR", elapsedSeconds(started));
        this.logger.error({ err: error, couponId }, "admission store unreachable");
        throw new IssueUnavailableError(couponId, "admission store unreachable");
      }
      if (verdict !== "STATE_MISSING") return verdict;
      if (this.now().getTime() > deadline) throw new IssueUnavailableError(couponId, "admission state is being rebuilt");
      try {
        await this.rebuild(couponId);
      } catch (error) {
        this.logger.error({ err: error, couponId }, "admission state rebuild failed");
        throw new IssueUnavailableError(couponId, "admission state could not be rebuilt");
      }
    }
  }

  /** One rebuild per campaign at a time in this process; the lock makes it one across processes. */
  private rebuild(couponId: string): Promise<void> {
    let running = this.rebuilding.get(couponId);
    if (!running) {
      running = this.rebuildOnce(couponId).finally(() => this.rebuilding.delete(couponId));
      this.rebuilding.set(couponId, running);
    }
    return running;
  }

  private async rebuildOnce(couponId: string): Promise<void> {
    const token = await this.gate.tryLock(couponId, this.settings.rebuildLockTtlMs);
    if (!token) {
      await sleep(20); // another process is rebuilding; the caller retries the admission
      return;
    }
    try {
      if (await this.gate.hasState(couponId)) return;
      // Requests this process admitted before the loss are written first, so the snapshot counts
      // them. Those of other processes are caught by PostgreSQL's own check (see issueBatch).
      await this.committer.whenIdle(couponId);
      const snapshot = await this.store.admissionSnapshot(couponId);
      if (!snapshot) {
        await this.gate.markUnknown(couponId);
        return;
      }
      if (await this.gate.restore(snapshot.terms, snapshot.issuedUserIds, token)) {
        this.logger.info({ couponId, issued: snapshot.issuedUserIds.length }, "admission state rebuilt from PostgreSQL");
      } else {
        this.logger.warn({ couponId }, "admission state lost again during its rebuild; retrying");
      }
    } finally {
      await this.gate.unlock(couponId, token).catch(() => {});
    }
  }

  /**
   * Writes one batch. Users who got a coupon (now or before) stay counted in Redis; users
   * PostgreSQL refused as sold out free their place; a failed write frees every place of the
   * batch and answers 503, so a retry starts over.
   */
  private async commitBatch(couponId: string, requests: IssueRequest[]): Promise<IssueOutcome[]> {
    let outcomes: IssueOutcome[];
    const started = process.hrtime.bigint();
    try {
      outcomes = await this.store.issueBatch(couponId, requests);
      this.observer.batchWritten(requests.length, elapsedSeconds(started), true);
    } catch (error) {
      this.observer.batchWritten(requests.length, elapsedSeconds(started), false);
      this.logger.error({ err: error, couponId, batch: requests.length }, "issue batch not stored; undoing its admissions");
      await this.gate
        .withdraw(
          couponId,
          requests.map((r) => r.userId),
        )
        .catch((undoError: unknown) => {
          // Left pending: the stale-admission sweeper checks PostgreSQL and frees them later.
          this.logger.error({ err: undoError, couponId }, "admissions could not be undone now");
        });
      throw new IssueUnavailableError(couponId, "the issue could not be stored");
    }
    const holders: string[] = [];
    const refused: string[] = [];
    outcomes.forEach((outcome, i) => (outcome.kind === "SOLD_OUT" ? refused : holders).push(requests[i]!.userId));
    // Not awaited: the answers depend only on the commit. If this bookkeeping fails, the
    // stale-admission sweeper settles the entries left pending from PostgreSQL.
    const settled = Promise.all([holders.length ? this.gate.confirm(couponId, holders) : null, refused.length ? this.gate.withdraw(couponId, refused) : null])
      .catch((error: unknown) => this.logger.warn({ err: error, couponId }, "admissions not settled in Redis after the commit"))
      .finally(() => this.settling.delete(settled));
    this.settling.add(settled);
    return outcomes;
  }

  /**
   * Settles admissions whose request died between admission and answer (a crash, a lost Redis
   * reply): those with a committed coupon are confirmed, the others free their place.
   */
  async settleStaleAdmissions(): Promise<number> {
    let settled = 0;
    for (const { couponId, userIds } of await this.gate.stalePending(this.settings.staleAdmissionMs)) {
      const holders = new Set(await this.store.holders(couponId, userIds));
      const confirmed = userIds.filter((u) => holders.has(u));
      const dead = userIds.filter((u) => !holders.has(u));
      if (confirmed.length) await this.gate.confirm(couponId, confirmed);
      if (dead.length) await this.gate.dropStale(couponId, dead, this.settings.staleAdmissionMs);
      if (dead.length) this.logger.warn({ couponId, freed: dead.length }, "freed admissions whose request never committed");
      settled += userIds.length;
    }
    return settled;
  }
}
