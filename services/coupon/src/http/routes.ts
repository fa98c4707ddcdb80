import { z } from "zod";
import { defineRoute, schemas, type RouteSpec } from "@shop/http-kit";
import type { CampaignService } from "../domain/campaign-service.ts";
import type { IssueService } from "../domain/issue-service.ts";
import { LIMITS, type Campaign } from "../domain/model.ts";
import type { ReservationService } from "../domain/reservation-service.ts";
import { campaignRuleViolations } from "../domain/rules.ts";

const couponId = z.uuid("must be a coupon id (UUID)");
const userParams = z.object({ userId: schemas.userId });
const amount = schemas.positiveInt(LIMITS.maxAmount);
const instant = schemas.instant();

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

const campaignView = z.object({
  id: z.string(),
  name: z.string(),
  discountType: z.enum(["FIXED", "PERCENT"]),
  discountValue: z.number().int(),
  maxDiscountAmount: z.number().int().nullable(),
  minOrderAmount: z.number().int(),
  totalQuantity: z.number().int(),
  issuedQuantity: z.number().int(),
  remainingQuantity: z.number().int(),
  issueStartsAt: z.string(),
  issueEndsAt: z.string().nullable(),
  validForDays: z.number().int(),
});

const issuedView = z.object({ userCouponId: z.string(), couponId: z.string(), userId: z.string(), status: z.literal("AVAILABLE"), expiresAt: z.string() });

const userCouponItem = z.object({
  userCouponId: z.string(),
  couponId: z.string(),
  name: z.string(),
  discountType: z.enum(["FIXED", "PERCENT"]),
  discountValue: z.number().int(),
  status: z.enum(["AVAILABLE", "RESERVED", "USED", "EXPIRED"]),
  expiresAt: z.string(),
});

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
      path: "/api/v1/admin/coupons",
      summary: "Create a first-come-first-served coupon campaign",
      tags: ["Coupons"],
      body: createCampaignBody,
      responses: { 201: { description: "The campaign", schema: campaignView } },
      errors: ["VALIDATION_FAILED"],
      handler: async ({ body }) => {
        const campaign = await campaigns.create({ ...body, maxDiscountAmount: body.maxDiscountAmount ?? null, minOrderAmount: body.minOrderAmount ?? 0 });
        return { status: 201, body: toCampaignView(campaign) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/coupons",
      summary: "Campaigns open for issuing now (window open, not sold out)",
      tags: ["Coupons"],
      query: z.strictObject({}),
      responses: { 200: { description: "Open campaigns, newest first", schema: z.object({ items: z.array(campaignView) }) } },
      handler: async () => ({ status: 200, body: { items: (await campaigns.listOpen()).map(toCampaignView) } }),
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/coupons/:couponId",
      summary: "One campaign with its issued and remaining quantity",
      tags: ["Coupons"],
      params: z.object({ couponId }),
      responses: { 200: { description: "The campaign", schema: campaignView } },
      errors: ["NOT_FOUND"],
      handler: async ({ params }) => ({ status: 200, body: toCampaignView(await campaigns.get(params.couponId)) }),
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/users/:userId/coupons",
      summary: "Issue a coupon of a campaign to the user, first come first served",
      tags: ["Coupons"],
      params: userParams,
      body: z.strictObject({ couponId }),
      responses: { 201: { description: "Issued; the coupon is durable when this answer is sent", schema: issuedView } },
      errors: ["VALIDATION_FAILED", "NOT_FOUND", "COUPON_SOLD_OUT", "COUPON_ALREADY_ISSUED", "COUPON_NOT_ACTIVE", "COUPON_ISSUE_UNAVAILABLE"],
      handler: async ({ params, body }) => {
        const issued = await issuing.issue(params.userId, body.couponId);
        return { status: 201, body: { ...issued, expiresAt: issued.expiresAt.toISOString() } };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/users/:userId/coupons",
      summary: "The user's coupons, newest first",
      tags: ["Coupons"],
      params: userParams,
      query: z.strictObject({}),
      responses: { 200: { description: "EXPIRED marks an unused coupon past its expiry", schema: z.object({ items: z.array(userCouponItem) }) } },
      handler: async ({ params }) => {
        const items = await reservations.listForUser(params.userId);
        return { status: 200, body: { items: items.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() })) } };
      },
    }),
  ];
}
