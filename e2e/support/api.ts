import { randomUUID } from "node:crypto";
import { signToken } from "@shop/testing";
import { expectDocumented } from "./openapi.ts";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A client of the public API as one user (or an admin) sees it; every answer must be as docs/openapi.json documents it. */
export class ApiClient {
  private constructor(
    readonly baseUrl: string,
    readonly userId: string,
    private readonly token: string | undefined,
  ) {}

  static async as(baseUrl: string, userId = `u-${randomUUID().slice(0, 12)}`, roles: string[] = []): Promise<ApiClient> {
    return new ApiClient(baseUrl, userId, await signToken({ sub: userId, roles }));
  }

  /** A caller without a token (`userId` is only what it puts in paths). */
  static anonymous(baseUrl: string, userId = `u-${randomUUID().slice(0, 12)}`): ApiClient {
    return new ApiClient(baseUrl, userId, undefined);
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const answer = { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    // Every answer, errors included, is held to docs/openapi.json.
    expectDocumented({ method, path: `/api/v1${path}`, status: answer.status, contentType: response.headers.get("content-type"), body: answer.body });
    return answer;
  }

  get = <T = any>(path: string) => this.call<T>("GET", path);
  post = <T = any>(path: string, body: unknown, headers?: Record<string, string>) => this.call<T>("POST", path, body, headers);
  patch = <T = any>(path: string, body: unknown) => this.call<T>("PATCH", path, body);

  charge = (amount: number) => this.post(`/users/${this.userId}/balance/charges`, { amount });
  balance = async () => (await this.get<{ balance: number }>(`/users/${this.userId}/balance`)).body.balance;
  order = (items: { productId: string; quantity: number }[], options: { userCouponId?: string; wait?: number; key?: string } = {}) =>
    this.post(
      `/users/${this.userId}/orders`,
      { items, ...(options.userCouponId ? { userCouponId: options.userCouponId } : {}) },
      {
        "idempotency-key": options.key ?? randomUUID(),
        ...(options.wait ? { prefer: `wait=${options.wait}` } : {}),
      },
    );
}
