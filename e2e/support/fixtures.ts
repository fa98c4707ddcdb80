import { randomUUID } from "node:crypto";
import { ApiClient, type ApiResponse } from "./api.ts";

export interface Product {
  id: string;
  name: string;
  price: number;
  stock: number;
}

/** Admin actions the scenarios need, through the public API like an operator would. */
export class Shop {
  private constructor(readonly admin: ApiClient) {}

  static async at(gatewayUrl: string): Promise<Shop> {
    return new Shop(await ApiClient.as(gatewayUrl, "e2e-admin", ["admin"]));
  }

  async product(overrides: Partial<Omit<Product, "id">> = {}): Promise<Product> {
    const response = await this.admin.post("/admin/products", {
      name: `Product ${Math.random().toString(36).slice(2, 8)}`,
      price: 10_000,
      stock: 10,
      ...overrides,
    });
    if (response.status !== 201) throw new Error(`product not created: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as Product;
  }

  async stockOf(productId: string): Promise<number> {
    return (await this.admin.get<Product>(`/products/${productId}`)).body.stock;
  }

  async percentCoupon(percent: number, totalQuantity = 100): Promise<string> {
    const response = await this.admin.post("/admin/coupons", {
      name: `${percent}% off`,
      discountType: "PERCENT",
      discountValue: percent,
      totalQuantity,
      validForDays: 7,
    });
    if (response.status !== 201) throw new Error(`coupon not created: ${response.status} ${JSON.stringify(response.body)}`);
    return (response.body as { id: string }).id;
  }

  /** A user who holds one coupon of the campaign; returns the user coupon id. */
  static async issue(user: ApiClient, couponId: string): Promise<string> {
    const response = await user.post(`/users/${user.userId}/coupons`, { couponId });
    if (response.status !== 201) throw new Error(`coupon not issued: ${response.status} ${JSON.stringify(response.body)}`);
    return (response.body as { userCouponId: string }).userCouponId;
  }
}

export async function couponStatus(user: ApiClient, userCouponId: string): Promise<string | undefined> {
  const { body } = await user.get<{ items: { userCouponId: string; status: string }[] }>(`/users/${user.userId}/coupons`);
  return body.items.find((c) => c.userCouponId === userCouponId)?.status;
}

export async function waitForFinalOrder(user: ApiClient, orderId: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await user.get(`/users/${user.userId}/orders/${orderId}`);
    if (body.status !== "PENDING" || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A client that retries a placement with the same Idempotency-Key until the system takes it
 * (a service, the broker or the database may be away meanwhile). Throws on a final 4xx (e.g. the
 * coupon is not usable: nothing was placed; 429 and 409 REQUEST_IN_PROGRESS are retried) and when
 * `giveUpAfterMs` passes.
 */
export async function placeWithRetries(
  user: ApiClient,
  productId: string,
  options: { userCouponId?: string; giveUpAfterMs?: number; pauseMs?: number } = {},
): Promise<ApiResponse> {
  const key = randomUUID();
  const giveUpAt = Date.now() + (options.giveUpAfterMs ?? 30_000);
  for (;;) {
    const response = await user.order([{ productId, quantity: 1 }], { key, userCouponId: options.userCouponId }).catch(() => undefined);
    if (response && (response.status === 201 || response.status === 202)) return response;
    // Still running elsewhere (e.g. its first attempt hit a service that then died) or rate limited: not final.
    const retryable =
      response && (response.status === 429 || (response.status === 409 && (response.body as { code?: string })?.code === "REQUEST_IN_PROGRESS"));
    const final = response && response.status >= 400 && response.status < 500 && !retryable;
    if (final || Date.now() > giveUpAt) throw new Error(`placement not accepted: ${response?.status} ${JSON.stringify(response?.body)}`);
    await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 250));
  }
}
