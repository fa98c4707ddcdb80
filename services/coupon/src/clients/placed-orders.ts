import type { PlacedOrders } from "../domain/ports.ts";

export interface PlacedOrdersOptions {
  /** The order service. */
  baseUrl: string;
  timeoutMs: number;
  /** The `Authorization` value proving this is the coupon service. */
  credentials: () => Promise<string>;
}

/** The order service's answer to "was this order placed?" (GET /internal/v1/orders/:orderId). */
export class HttpPlacedOrders implements PlacedOrders {
  constructor(private readonly options: PlacedOrdersOptions) {}

  async wasPlaced(orderId: string): Promise<boolean> {
    const response = await fetch(`${this.options.baseUrl}/internal/v1/orders/${encodeURIComponent(orderId)}`, {
      headers: { accept: "application/json, application/problem+json", authorization: await this.options.credentials() },
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await response.arrayBuffer();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw new Error(`the order service could not say whether order ${orderId} was placed (HTTP ${response.status})`);
  }
}
