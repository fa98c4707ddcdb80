import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import type { CampaignService } from "../domain/campaign-service.ts";
import type { IssueService } from "../domain/issue-service.ts";
import { LIMITS, type Campaign } from "../domain/model.ts";
import type { ReservationService } from "../domain/reservation-service.ts";
import { campaignRuleViolations } from "../domain/rules.ts";

/** Examples of the document: a winter campaign and one coupon of it. */
const CAMPAIGN_ID = "3f6c2a8e-1b4d-4e7a-9c52-8d0f1e2a3b4c";
const USER_COUPON_ID = "b7e1d0c4-5a3f-4c8e-a1d2-6f9e0b3c7a15";
const CAMPAIGN = {
  id: CAMPAIGN_ID,
  name: "겨울맞이 10% 할인",
  discountType: "PERCENT",
  discountValue: 10,
  maxDiscountAmount: 5_000,
  minOrderAmount: 20_000,
  totalQuantity: 1_000,
  issuedQuantity: 312,
  remainingQuantity: 688,
  issueStartsAt: "2026-11-23T00:00:00.000Z",
  issueEndsAt: "2026-12-31T15:00:00.000Z",
  validForDays: 7,
} as const;

const couponId = z.uuid("must be a coupon id (UUID)").meta({ examples: [CAMPAIGN_ID] });
const userParams = z.object({ userId: schemas.userId });
const amount = schemas.positiveInt(LIMITS.maxAmount);
const instant = schemas.instant();
const count = z.number().int().min(0).max(LIMITS.maxTotalQuantity);

const createCampaignBody = z
  .strictObject({
    name: schemas.text(1, LIMITS.nameLength),
    discountType: z.enum(["FIXED", "PERCENT"]),
    discountValue: amount.describe("KRW for FIXED, percent (1-100) for PERCENT"),
    maxDiscountAmount: amount.nullable().optional().describe("Cap of the discount in KRW"),
    minOrderAmount: amount.optional().describe("Smallest order amount (KRW) the coupon can be used for"),
    totalQuantity: schemas.positiveInt(LIMITS.maxTotalQuantity),
    issueStartsAt: instant.optional().describe("Default: now"),
    issueEndsAt: instant.optional().describe("Default: open until sold out"),
    validForDays: schemas.positiveInt(LIMITS.maxValidForDays).describe("An issued coupon expires this many days after issue"),
  })
  .superRefine((body, ctx) => {
    // Zod runs this even when a field failed, with that field's raw input (`issueEndsAt: "tomorrow"`):
    // the rules across fields are only meaningful, and only safe, once every field parsed.
    if (ctx.issues.length) return;
    for (const issue of campaignRuleViolations(body, new Date())) ctx.addIssue({ code: "custom", path: [issue.field], message: issue.message });
  });

const campaignView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    discountType: z.enum(["FIXED", "PERCENT"]),
    discountValue: z.number().int().min(1).describe("KRW for FIXED, percent (1-100) for PERCENT"),
    maxDiscountAmount: z.number().int().min(1).nullable().describe("Cap of the discount in KRW; null: no cap"),
    minOrderAmount: z.number().int().min(0).describe("Smallest order amount (KRW) the coupon can be used for; 0: any"),
    totalQuantity: count.min(1),
    issuedQuantity: count,
    remainingQuantity: count,
    issueStartsAt: z.iso.datetime(),
    issueEndsAt: z.iso.datetime().nullable().describe("null: open until sold out"),
    validForDays: z.number().int().min(1).max(LIMITS.maxValidForDays),
  })
  .meta({ id: "CouponCampaign" });

const issuedView = z
  .object({ userCouponId: z.uuid(), couponId: z.uuid(), userId: z.string(), status: z.literal("AVAILABLE"), expiresAt: z.iso.datetime() })
  .meta({ id: "IssuedCoupon" });

const userCouponItem = z
  .object({
    userCouponId: z.uuid(),
    couponId: z.uuid(),
    name: z.string(),
    discountType: z.enum(["FIXED", "PERCENT"]),
    discountValue: z.number().int().min(1),
    status: z.enum(["AVAILABLE", "RESERVED", "USED", "EXPIRED"]).describe("RESERVED: held by a PENDING order; EXPIRED: unused past its expiry"),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: "UserCoupon" });

const couponNotFound = {
  NOT_FOUND: { summary: "No such campaign", detail: "coupon was not found", extensions: { couponId: "0b9a7c6d-2e4f-4a1b-8c3d-5e6f7a8b9c0d" } },
};

export function toCampaignView(c: Campaign): z.infer<typeof campaignView> {
  return {
    id: c.id,
    name: c.name,
    discountType: c.discountType,
    discountValue: c.discountValue,
    maxDiscountAmount: c.maxDiscountAmount,
    minOrderAmount: c.minOrderAmount,
    totalQuantity: c.totalQuantity,
    issuedQuantity: c.issuedQuantity,
    remainingQuantity: Math.max(0, c.totalQuantity - c.issuedQuantity),
    issueStartsAt: c.issueStartsAt.toISOString(),
    issueEndsAt: c.issueEndsAt?.toISOString() ?? null,
    validForDays: c.validForDays,
  };
}

export interface CouponRouteDeps {
  campaigns: CampaignService;
  issuing: IssueService;
  reservations: ReservationService;
}

/** The public API (through the gateway, which checks tokens and roles). */
export function couponRoutes({ campaigns, issuing, reservations }: CouponRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: "post",
      operationId: "createCouponCampaign",
      path: "/api/v1/admin/coupons",
      summary: "Create a first-come-first-served coupon campaign (admin)",
      tags: ["Coupons admin"],
      body: createCampaignBody,
      bodyExample: {
        name: CAMPAIGN.name,
        discountType: "PERCENT",
        discountValue: 10,
        maxDiscountAmount: 5_000,
        minOrderAmount: 20_000,
        totalQuantity: 1_000,
        issueStartsAt: CAMPAIGN.issueStartsAt,
        issueEndsAt: CAMPAIGN.issueEndsAt,
        validForDays: 7,
      },
      invalidExample: { body: { name: CAMPAIGN.name, discountType: "PERCENT", discountValue: 150, totalQuantity: 1_000, validForDays: 7 } },
      responses: { 201: { description: "The campaign", schema: campaignView, example: { ...CAMPAIGN, issuedQuantity: 0, remainingQuantity: 1_000 } } },
      handler: async ({ body }) => {
        const campaign = await campaigns.create({ ...body, maxDiscountAmount: body.maxDiscountAmount ?? null, minOrderAmount: body.minOrderAmount ?? 0 });
        return { status: 201, body: toCampaignView(campaign) };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "listOpenCouponCampaigns",
      path: "/api/v1/coupons",
      summary: "Campaigns open for issuing now (window open, not sold out)",
      tags: ["Coupons"],
      query: z.strictObject({}),
      responses: { 200: { description: "Open campaigns, newest first", schema: z.object({ items: z.array(campaignView) }), example: { items: [CAMPAIGN] } } },
      handler: async () => ({ status: 200, body: { items: (await campaigns.listOpen()).map(toCampaignView) } }),
    }),
    defineRoute({
      method: "get",
      operationId: "getCouponCampaign",
      path: "/api/v1/coupons/:couponId",
      summary: "One campaign with its issued and remaining quantity",
      tags: ["Coupons"],
      params: z.object({ couponId }),
      invalidExample: { params: { couponId: "winter-10" } },
      responses: { 200: { description: "The campaign", schema: campaignView, example: CAMPAIGN } },
      errors: ["NOT_FOUND"],
      problemExamples: couponNotFound,
      handler: async ({ params }) => ({ status: 200, body: toCampaignView(await campaigns.get(params.couponId)) }),
    }),
    defineRoute({
      method: "post",
      operationId: "issueCoupon",
      path: "/api/v1/users/:userId/coupons",
      summary: "Issue a coupon of a campaign to the user, first come first served",
      tags: ["Coupons"],
      params: userParams,
      body: z.strictObject({ couponId }),
      bodyExample: { couponId: CAMPAIGN_ID },
      invalidExample: { body: { couponId: "winter-10" } },
      responses: {
        201: {
          description: "Issued; the coupon is durable when this answer is sent",
          schema: issuedView,
          example: { userCouponId: USER_COUPON_ID, couponId: CAMPAIGN_ID, userId: "minji", status: "AVAILABLE", expiresAt: "2026-11-30T10:12:45.311Z" },
        },
      },
      errors: ["NOT_FOUND", "COUPON_SOLD_OUT", "COUPON_ALREADY_ISSUED", "COUPON_NOT_ACTIVE", "COUPON_ISSUE_UNAVAILABLE"],
      problemExamples: {
        ...couponNotFound,
        COUPON_SOLD_OUT: { summary: "Every coupon is issued", detail: "every coupon of this campaign has been issued", extensions: { couponId: CAMPAIGN_ID } },
        COUPON_ALREADY_ISSUED: { summary: "One per user", detail: "this user already has a coupon of this campaign", extensions: { couponId: CAMPAIGN_ID } },
        COUPON_NOT_ACTIVE: {
          summary: "Outside the issuing window",
          detail: "issuing has not started yet",
          extensions: { couponId: CAMPAIGN_ID, reason: "NOT_STARTED" },
        },
        COUPON_ISSUE_UNAVAILABLE: {
          summary: "The issue could not be made durable; retry",
          detail: "the coupon could not be issued right now (admission store unreachable); retry",
          extensions: { couponId: CAMPAIGN_ID },
        },
      },
      handler: async ({ params, body }) => {
        const issued = await issuing.issue(params.userId, body.couponId);
        return { status: 201, body: { ...issued, expiresAt: issued.expiresAt.toISOString() } };
      },
    }),
    defineRoute({
      method: "get",
      operationId: "listUserCoupons",
      path: "/api/v1/users/:userId/coupons",
      summary: "The user's coupons, newest first",
      tags: ["Coupons"],
      params: userParams,
      query: z.strictObject({}),
      responses: {
        200: {
          description: "EXPIRED marks an unused coupon past its expiry",
          schema: z.object({ items: z.array(userCouponItem) }),
          example: {
            items: [
              {
                userCouponId: USER_COUPON_ID,
                couponId: CAMPAIGN_ID,
                name: CAMPAIGN.name,
                discountType: "PERCENT",
                discountValue: 10,
                status: "USED",
                expiresAt: "2026-11-30T10:12:45.311Z",
              },
            ],
          },
        },
      },
      handler: async ({ params }) => {
        const items = await reservations.listForUser(params.userId);
        return { status: 200, body: { items: items.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() })) } };
      },
    }),
  ];
}
