import { z } from "zod";
import { toTraceparent } from "@shop/logging";
import type { CouponReservation, CouponReservationRequest, CouponReservations } from "../domain/ports.ts";
import { GuardedUpstream, postJson, type UpstreamOptions } from "./circuit.ts";

const reservedAnswer = z.object({ couponId: z.string(), discountAmount: z.number().int().nonnegative(), status: z.literal("RESERVED") });
const problemAnswer = z.object({ code: z.string().optional(), detail: z.string().optional() }).passthrough();

/** The coupon service's internal reservation endpoint, behind its own circuit breaker (a coupon outage does not touch orders without one). */
export class HttpCouponReservations implements CouponReservations {
  private readonly upstream: GuardedUpstream<[CouponReservationRequest], CouponReservation>;

  constructor(options: UpstreamOptions) {
    this.upstream = new GuardedUpstream(
      "coupon",
      async (request: CouponReservationRequest) => {
        const url = new URL(`/internal/v1/user-coupons/${encodeURIComponent(request.userCouponId)}/reservations`, options.baseUrl).toString();
        const answer = await postJson(url, { userId: request.userId, orderId: request.orderId, orderAmount: request.orderAmount }, options, toTraceparent());
        if (answer.status === 200 || answer.status === 201) {
          const parsed = reservedAnswer.safeParse(answer.body);
          if (!parsed.success) throw new Error(`coupon reservation has an unexpected shape: ${parsed.error.message}`);
          return { outcome: "RESERVED", couponId: parsed.data.couponId, discountAmount: parsed.data.discountAmount };
        }
        // A 4xx is the coupon service's verdict on this coupon (unknown, not the user's, used, expired…);
        // 401/403 (our credential refused), 408, 429 and 5xx say nothing about the coupon and count as
        // failures of the service.
        if (answer.status >= 400 && answer.status < 500 && ![401, 403, 408, 429].includes(answer.status)) {
          const problem = problemAnswer.safeParse(answer.body);
          const code = (problem.success && problem.data.code) || "COUPON_NOT_USABLE";
          const detail = (problem.success && problem.data.detail) || `the coupon service refused the coupon (${answer.status})`;
          return { outcome: "REFUSED", code, detail };
        }
        throw new Error(`coupon service answered ${answer.status}`);
      },
      options,
    );
  }

  reserve(request: CouponReservationRequest): Promise<CouponReservation> {
    return this.upstream.call(request);
  }

  /** True while the breaker fails calls fast. */
  get circuitOpen(): boolean {
    return this.upstream.isOpen;
  }

  shutdown(): void {
    this.upstream.shutdown();
  }
}
