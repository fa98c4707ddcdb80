// What the security tests compare before and after an attack, and the forged credentials they attack with.
import { signToken, testJwt } from "@shop/testing";
import type { ApiClient } from "../api.ts";
import { send } from "./http.ts";

export interface UserState {
  balance: unknown;
  history: unknown;
  orders: unknown;
  coupons: unknown;
  payments: unknown;
}

export interface Snapshot {
  products: unknown[];
  topSellers: unknown;
  openCoupons: unknown;
  coupons: Record<string, unknown>;
  users: Record<string, UserState>;
}

async function read(admin: ApiClient, path: string): Promise<any> {
  const response = await admin.get(path);
  if (response.status !== 200) throw new Error(`snapshot: GET ${path} answered ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Everything an attack could have changed, read as an admin through the public API: every
 * product (all pages), the top sellers, the open campaigns and the given ones, and each given
 * user's balance, ledger, orders, coupons and payments.
 */
export async function snapshotOf(admin: ApiClient, scope: { userIds: string[]; couponIds: string[] }): Promise<Snapshot> {
  const products: unknown[] = [];
  for (let cursor: string | null = null, pages = 0; pages < 100; pages++) {
    const page: { items: unknown[]; nextCursor: string | null } = await read(
      admin,
      `/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    products.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  const users: Record<string, UserState> = {};
  for (const userId of scope.userIds) {
    const [balance, history, orders, coupons, payments] = await Promise.all(
      ["balance", "balance/history?limit=100", "orders?limit=100", "coupons", "payments"].map((resource) => read(admin, `/users/${userId}/${resource}`)),
    );
    users[userId] = { balance, history, orders, coupons, payments };
  }
  const coupons: Record<string, unknown> = {};
  for (const couponId of scope.couponIds) coupons[couponId] = await read(admin, `/coupons/${couponId}`);
  return { products, topSellers: (await read(admin, "/products/top")).items, openCoupons: await read(admin, "/coupons"), coupons, users };
}

/** The gateway's breaker gauge: how many upstreams it reports, and which are open. */
export async function circuitStates(gatewayUrl: string): Promise<{ upstreams: string[]; open: string[] }> {
  const metrics = await send(gatewayUrl, { method: "GET", path: "/metrics", localAddress: "127.0.0.1" });
  if (metrics.status !== 200) throw new Error(`gateway /metrics answered ${metrics.status}`);
  const upstreams: string[] = [];
  const open: string[] = [];
  for (const match of metrics.text.matchAll(/^gateway_upstream_circuit_open\{upstream="([^"]+)"\} (\S+)$/gm)) {
    upstreams.push(match[1]!);
    if (Number(match[2]) !== 0) open.push(match[1]!);
  }
  return { upstreams, open };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Tokens an attacker can make without the signing secret, and ones the API must no longer accept. */
export const forgedTokens = {
  /** `alg: none`, no signature: the classic JWT forgery. */
  unsigned: (sub: string, roles: string[] = []) =>
    `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub, roles, iss: testJwt.issuer, aud: testJwt.audience, iat: nowSeconds(), exp: nowSeconds() + 600 })}.`,
  /** Claims RS256 but carries an HMAC made with a guessable key: algorithm confusion. */
  algorithmConfusion: async (sub: string) => {
    const signed = await signToken({ sub, roles: ["admin"], secret: "public-key-as-hmac-secret" });
    const [, payload, signature] = signed.split(".");
    return `${base64url({ alg: "RS256", typ: "JWT" })}.${payload}.${signature}`;
  },
  wrongSecret: (sub: string, roles: string[] = []) => signToken({ sub, roles, secret: "an-attacker-s-guess-at-the-secret-0123456789" }),
  wrongIssuer: (sub: string) => signToken({ sub, issuer: "https://evil.example" }),
  wrongAudience: (sub: string) => signToken({ sub, audience: "another-api" }),
  /** Expired an hour ago, far beyond any clock tolerance. */
  expired: (sub: string, roles: string[] = []) => signToken({ sub, roles, expiresIn: nowSeconds() - 3_600 }),
  /** A subject that is not a user id (a path, in case it is ever pasted into one). */
  badSubject: () => signToken({ sub: "../admin" }),
  /** A user token signed with the service-credential secret: the two kinds must never be interchangeable. */
  userTokenWithServiceSecret: (sub: string) => signToken({ sub, roles: ["admin"], secret: testJwt.serviceSecret }),
};
