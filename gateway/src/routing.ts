export const UPSTREAM_NAMES = ["wallet", "catalog", "coupon", "order", "payment"] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

/**
 * Who may call a route: anyone; any valid token; the user named in the path (or an admin);
 * admins only.
 */
export type Access = "public" | "authenticated" | "user" | "admin";

export interface RouteMatch {
  upstream: UpstreamName;
  access: Access;
  /** Low-cardinality label for metrics and the OpenAPI security decision. */
  route: string;
  /** The `{userId}` path segment of a user-scoped route, as sent (not yet validated). */
  userId?: string;
}

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Contract: user ids are 1–64 characters of [A-Za-z0-9_-]. */
export function isValidUserId(value: string): boolean {
  return USER_ID.test(value);
}

const PREFIX = "/api/v1/";

const route = (upstream: UpstreamName, access: Access, label: string): RouteMatch => ({ upstream, access, route: `${PREFIX}${label}` });

// Matches that carry no per-request data are built once. Maps, not object literals, so that a
// segment such as `constructor` finds nothing.

/** Catalog and coupon browsing is open to anyone; writing there still needs a token. */
const browseRoutes = new Map<string, { read: RouteMatch; write: RouteMatch }>(
  (
    [
      ["products", "catalog"],
      ["coupons", "coupon"],
    ] as const
  ).map(([resource, upstream]) => [resource, { read: route(upstream, "public", resource), write: route(upstream, "authenticated", resource) }]),
);
const adminRoutes = new Map<string, RouteMatch>([
  ["products", route("catalog", "admin", "admin/products")],
  ["coupons", route("coupon", "admin", "admin/coupons")],
]);
const userRoutes = new Map<string, { upstream: UpstreamName; label: string }>(
  (
    [
      ["balance", "wallet"],
      ["coupons", "coupon"],
      ["orders", "order"],
      ["payments", "payment"],
    ] as const
  ).map(([resource, upstream]) => [resource, { upstream, label: `${PREFIX}users/:userId/${resource}` }]),
);

/**
 * Which upstream serves `path` (no query string) and who may call it; undefined for anything
 * the gateway does not route. Matching is exact and case-sensitive per segment, and paths with
 * empty or dot segments are refused, so an upstream can never resolve a path to something other
 * than what was authorized here.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const segments = path.slice(PREFIX.length).split("/");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const trailingSlash = segment === "" && i === segments.length - 1 && i > 0;
    if ((segment === "" && !trailingSlash) || segment === "." || segment === "..") return undefined;
  }
  const [first, second, third] = segments;
  if (first === undefined) return undefined;

  const browse = browseRoutes.get(first);
  if (browse) return method === "GET" || method === "HEAD" ? browse.read : browse.write;

  if (first === "admin") return second === undefined ? undefined : adminRoutes.get(second);

  if (first === "users" && second && third !== undefined) {
    const user = userRoutes.get(third);
    if (user) return { upstream: user.upstream, access: "user", route: user.label, userId: second };
  }
  return undefined;
}
