import { randomUUID } from "node:crypto";
import { NotFoundError, ValidationError } from "@shop/errors";
import type { Logger } from "@shop/logging";
import type { Campaign, NewCampaign } from "./model.ts";
import type { AdmissionGate, Clock, CouponStore } from "./ports.ts";
import { campaignRuleViolations } from "./rules.ts";

/** Campaigns listed as open at most; a shop runs a handful at a time. */
const OPEN_CAMPAIGNS_LISTED = 100;

export class CampaignService {
  constructor(
    private readonly store: CouponStore,
    private readonly gate: AdmissionGate,
    private readonly logger: Logger,
    private readonly now: Clock,
  ) {}

  /**
   * PostgreSQL first (the source of truth), then the admission state in Redis. If the Redis step
   * fails the campaign still exists: its first issue request finds no marker and rebuilds it.
   */
  async create(input: NewCampaign): Promise<Campaign> {
    const now = this.now();
    const issues = campaignRuleViolations(input, now);
    if (issues.length) throw new ValidationError(issues);
    const campaign = await this.store.createCampaign(randomUUID(), {
      ...input,
      issueStartsAt: input.issueStartsAt ?? now,
      issueEndsAt: input.issueEndsAt ?? null,
    });
    const token = await this.gate.tryLock(campaign.id, 5_000).catch(() => null);
    if (token) {
      try {
        await this.gate.restore(
          { couponId: campaign.id, totalQuantity: campaign.totalQuantity, issueStartsAt: campaign.issueStartsAt, issueEndsAt: campaign.issueEndsAt },
          [],
          token,
        );
      } catch (error) {
        this.logger.warn({ err: error, couponId: campaign.id }, "campaign not cached in Redis; the first issue request will rebuild it");
      } finally {
        await this.gate.unlock(campaign.id, token).catch(() => {});
      }
    }
    return campaign;
  }

  async get(couponId: string): Promise<Campaign> {
    const campaign = await this.store.findCampaign(couponId);
    if (!campaign) throw new NotFoundError("coupon", { couponId });
    return campaign;
  }

  listOpen(): Promise<Campaign[]> {
    return this.store.listOpenCampaigns(this.now(), OPEN_CAMPAIGNS_LISTED);
  }
}
