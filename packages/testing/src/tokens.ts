import { SignJWT } from "jose";

export const testJwt = {
  secret: process.env.JWT_SECRET ?? "local-dev-secret-change-me",
  issuer: process.env.JWT_ISSUER ?? "ecommerce-local",
  audience: process.env.JWT_AUDIENCE ?? "ecommerce-api",
  serviceSecret: process.env.SERVICE_TOKEN_SECRET ?? "local-dev-service-secret-change-me",
};

export interface TokenOverrides {
  sub?: string;
  roles?: string[];
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  secret?: string;
}

/** A signed HS256 token as the identity provider would issue it; override any part to test a rejection. */
export function signToken(overrides: TokenOverrides = {}): Promise<string> {
  const jwt = new SignJWT({ roles: overrides.roles ?? [] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(overrides.sub ?? "user-1")
    .setIssuer(overrides.issuer ?? testJwt.issuer)
    .setAudience(overrides.audience ?? testJwt.audience)
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? "10m");
  return jwt.sign(new TextEncoder().encode(overrides.secret ?? testJwt.secret));
}

/** The credential one service presents to another's `/internal/v1/*` (see @shop/auth). */
export function signServiceToken(service: string, overrides: { secret?: string; expiresIn?: string | number } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(service)
    .setIssuer("shop-services")
    .setAudience("shop-internal")
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? "5m")
    .sign(new TextEncoder().encode(overrides.secret ?? testJwt.serviceSecret));
}

const safeDecode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

const USER_PATH = /^\/api\/v1\/users\/([^/?]+)/;

const VALID_USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Signed once per identity: a test that sends thousands of requests should not sign thousands of tokens. */
// Longer than any jest worker lives, so a remembered token never expires under a slow run.
const MEMO_LIFETIME = "6h";
const signed = new Map<string, Promise<string>>();
const memo = (key: string, sign: () => Promise<string>) => {
  let token = signed.get(key);
  if (!token) signed.set(key, (token = sign()));
  return token;
};

/**
 * `authorization` for a direct call to a service, chosen from the path as the service's access
 * rules expect: the path's user for `/api/v1/users/{id}/…` (an admin when the id itself is
 * invalid, so that the call reaches validation), an admin for `/api/v1/admin/…`, the order
 * service for `/internal/v1/…`, nothing for public routes. Tests of business rules use it; tests
 * of the access rules themselves sign their own tokens.
 */
export async function authHeadersFor(path: string, caller = "order"): Promise<Record<string, string>> {
  const user = USER_PATH.exec(path);
  const userId = user && safeDecode(user[1]!);
  if (userId && VALID_USER_ID.test(userId))
    return { authorization: `Bearer ${await memo(`user:${userId}`, () => signToken({ sub: userId, expiresIn: MEMO_LIFETIME }))}` };
  if (userId || path.startsWith("/api/v1/admin/"))
    return { authorization: `Bearer ${await memo("admin", () => signToken({ sub: "test-admin", roles: ["admin"], expiresIn: MEMO_LIFETIME }))}` };
  if (path.startsWith("/internal/"))
    return { authorization: `Bearer ${await memo(`service:${caller}`, () => signServiceToken(caller, { expiresIn: MEMO_LIFETIME }))}` };
  return {};
}
