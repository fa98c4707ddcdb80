import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createServiceTokenVerifier } from "@shop/auth";
import { testJwt } from "@shop/testing";

/**
 * Stands in for the catalog's and the coupon service's internal endpoints, which are outside the
 * scope of the order service's tests (those services are tested on their own; end-to-end tests
 * run the real ones through the gateway). It implements only what placement calls:
 * `POST /internal/v1/products/quote` and `POST /internal/v1/user-coupons/:id/reservations`,
 * with the documented answers, on a free port. Like the real services, it refuses a call without
 * the order service's credential (401).
 */
export interface StandInProduct {
  id: string;
  name: string;
  price: number;
  stock: number;
}

export interface StandInCoupon {
  userCouponId: string;
  couponId: string;
  userId: string;
  discountAmount: number;
  /** A coupon that is used, expired… is refused with 409 COUPON_NOT_USABLE. */
  usable: boolean;
}

export interface UpstreamStandIn {
  url: string;
  products: Map<string, StandInProduct>;
  coupons: Map<string, StandInCoupon>;
  /** userCouponId → orderId holding it. */
  reservations: Map<string, string>;
  calls: { quote: number; reserve: number; refused: number };
  /** While true the endpoint answers 503, as a sick service would. */
  down: { catalog: boolean; coupon: boolean };
  /** How long a quote takes to answer, as a busy catalog's would (0 by default). */
  delayMs: { quote: number };
  addProduct(product: StandInProduct): StandInProduct;
  addCoupon(coupon: StandInCoupon): StandInCoupon;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json" });
  res.end(JSON.stringify(body));
}

const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) => ({
  type: "about:blank",
  title: "error",
  status,
  code,
  detail,
  ...extra,
});

export async function startUpstreamStandIn(): Promise<UpstreamStandIn> {
  const standIn: Omit<UpstreamStandIn, "url" | "close"> = {
    products: new Map(),
    coupons: new Map(),
    reservations: new Map(),
    calls: { quote: 0, reserve: 0, refused: 0 },
    down: { catalog: false, coupon: false },
    delayMs: { quote: 0 },
    addProduct: (p) => (standIn.products.set(p.id, p), p),
    addCoupon: (c) => (standIn.coupons.set(c.userCouponId, c), c),
  };

  const verifyCaller = createServiceTokenVerifier({ secret: testJwt.serviceSecret, clockToleranceSeconds: 0 });
  const server = createServer(async (req, res) => {
    const caller = await verifyCaller(req.headers.authorization).catch(() => undefined);
    if (caller?.service !== "order") {
      standIn.calls.refused++;
      return send(res, 401, problem(401, "UNAUTHORIZED", "a valid service credential is required"));
    }
    const body = (await readJson(req).catch(() => undefined)) as Record<string, unknown> | undefined;
    if (req.method === "POST" && req.url === "/internal/v1/products/quote") {
      standIn.calls.quote++;
      if (standIn.delayMs.quote > 0) await new Promise((resolve) => setTimeout(resolve, standIn.delayMs.quote));
      if (standIn.down.catalog) return send(res, 503, problem(503, "NOT_READY", "catalog is down"));
      const ids = (body?.productIds as string[]) ?? [];
      const missing = ids.filter((id) => !standIn.products.has(id));
      if (missing.length) return send(res, 404, problem(404, "NOT_FOUND", "unknown products", { missingProductIds: missing }));
      return send(res, 200, { items: ids.map((id) => standIn.products.get(id)!) });
    }
    const reservation = /^\/internal\/v1\/user-coupons\/([^/]+)\/reservations$/.exec(req.url ?? "");
    if (req.method === "POST" && reservation) {
      standIn.calls.reserve++;
      if (standIn.down.coupon) return send(res, 503, problem(503, "NOT_READY", "coupon service is down"));
      const userCouponId = decodeURIComponent(reservation[1]!);
      const coupon = standIn.coupons.get(userCouponId);
      if (!coupon || coupon.userId !== body?.userId) return send(res, 404, problem(404, "NOT_FOUND", "no such user coupon"));
      const holder = standIn.reservations.get(userCouponId);
      if (!coupon.usable || (holder && holder !== body?.orderId)) return send(res, 409, problem(409, "COUPON_NOT_USABLE", "the coupon cannot be used"));
      standIn.reservations.set(userCouponId, body.orderId as string);
      return send(res, 200, { userCouponId, couponId: coupon.couponId, discountAmount: coupon.discountAmount, status: "RESERVED" });
    }
    send(res, 404, problem(404, "NOT_FOUND", `no route for ${req.method} ${req.url}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...standIn,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
