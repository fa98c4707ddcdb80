import type { Refusal } from "./problem-response.ts";

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
  if (browse) return named(method === "GET" || method === "HEAD" ? browse.read : browse.write, segments);

  if (first === "admin") {
    const admin = second === undefined ? undefined : adminRoutes.get(second);
    return admin && named(admin, segments);
  }

  if (first === "users" && second && third !== undefined) {
    const user = userRoutes.get(third);
    if (user) return { upstream: user.upstream, access: "user", route: apiRouteOf(segments) ?? user.label, userId: second };
  }
  return undefined;
}

/** The match labelled with the API operation's own path when there is one (the resource's otherwise). */
function named(match: RouteMatch, segments: string[]): RouteMatch {
  const route = apiRouteOf(segments);
  return route === undefined || route === match.route ? match : { ...match, route };
}

/**
 * The public API's paths (after `/api/v1/`, `{…}` a segment) and their methods: every operation of
 * docs/openapi.json, which a test keeps this equal to. A path that is here answers any other
 * method with 405 before the token is looked at, since which methods a path has is public.
 */
const API_PATHS: ReadonlyArray<readonly [template: string, methods: readonly string[]]> = [
  ["users/{userId}/balance", ["GET"]],
  ["users/{userId}/balance/charges", ["POST"]],
  ["users/{userId}/balance/history", ["GET"]],
  ["products", ["GET"]],
  ["products/top", ["GET"]],
  ["products/{productId}", ["GET"]],
  ["admin/products", ["POST"]],
  ["admin/products/{productId}", ["PATCH"]],
  ["admin/coupons", ["POST"]],
  ["coupons", ["GET"]],
  ["coupons/{couponId}", ["GET"]],
  ["users/{userId}/coupons", ["GET", "POST"]],
  ["users/{userId}/orders", ["GET", "POST"]],
  ["users/{userId}/orders/{orderId}", ["GET"]],
  ["users/{userId}/payments", ["GET"]],
];
const API_TEMPLATES = API_PATHS.map(([template, methods]) => {
  const segments = template.split("/");
  return { segments, methods, literals: segments.filter((s) => !s.startsWith("{")).length, route: `${PREFIX}${template.replace(/\{(\w+)\}/g, ":$1")}` };
});

/**
 * The API path a request's segments (after `/api/v1/`) fall under, Express style
 * (`/api/v1/users/:userId/balance/history`): the metrics' route label, one per operation path, so
 * that `/balance/history` is not counted as `/balance`. Undefined when no path of the API matches.
 */
function apiRouteOf(segments: string[]): string | undefined {
  const length = segments.at(-1) === "" ? segments.length - 1 : segments.length;
  // Literal segments win over parameters (`products/top` over `products/{productId}`).
  let best: (typeof API_TEMPLATES)[number] | undefined;
  for (const template of API_TEMPLATES) {
    if (template.segments.length !== length) continue;
    if (!template.segments.every((t, i) => t.startsWith("{") || t === segments[i])) continue;
    if (!best || template.literals > best.literals) best = template;
  }
  return best?.route;
}

/** The public API's operations as `METHOD /api/v1/…` with `{name}` parameters, for tests and tools. */
export const apiOperations = (): string[] => API_PATHS.flatMap(([template, methods]) => methods.map((m) => `${m} ${PREFIX}${template}`));

/**
 * The methods `path` answers (HEAD with GET, and OPTIONS), or undefined for a path that is not one
 * of the API's. Matched like matchRoute: exact segments, one trailing slash allowed.
 */
export function allowedMethods(path: string): string[] | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const rest = path.slice(PREFIX.length);
  const segments = (rest.endsWith("/") ? rest.slice(0, -1) : rest).split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return undefined;
  const allowed = new Set<string>();
  for (const template of API_TEMPLATES) {
    if (template.segments.length !== segments.length) continue;
    if (!template.segments.every((t, i) => t.startsWith("{") || t === segments[i])) continue;
    for (const method of template.methods) allowed.add(method);
  }
  if (allowed.size === 0) return undefined;
  if (allowed.has("GET")) allowed.add("HEAD");
  return [...allowed, "OPTIONS"].sort();
}

/** 405 with `Allow` for a method the API's path does not have; undefined otherwise (OPTIONS is CORS's and answers itself). */
export function methodRefusal(method: string, path: string): Refusal | undefined {
  if (method === "OPTIONS") return undefined;
  const allowed = allowedMethods(path);
  if (!allowed || allowed.includes(method)) return undefined;
  const allow = allowed.join(", ");
  return { status: 405, code: "METHOD_NOT_ALLOWED", detail: `${method} is not allowed here; allowed: ${allow}`, headers: { allow } };
}
