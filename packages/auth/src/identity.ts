/** Contract: user ids are 1–64 characters of [A-Za-z0-9_-]. */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

export const isValidUserId = (value: string): boolean => USER_ID.test(value);

/** The caller behind a verified user token. */
export interface Identity {
  userId: string;
  roles: readonly string[];
  isAdmin: boolean;
  /** Epoch milliseconds after which the token (and any cache entry of it) is no longer accepted. */
  expiresAt: number;
}

/** A verified service credential: which service is calling. */
export interface ServiceCaller {
  service: string;
  expiresAt: number;
}

/** Every rejection carries a reason that is safe to show the client. */
export class AuthenticationError extends Error {}

export function identityFromClaims(payload: Record<string, unknown>): Identity {
  const { sub, roles = [], exp } = payload;
  if (typeof sub !== "string" || !isValidUserId(sub)) throw new AuthenticationError("the token's subject is not a valid user id");
  // Roles may end up in logs and headers, so anything but plain names is refused here.
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string" && ROLE.test(role))) {
    throw new AuthenticationError("the token's roles claim must be an array of role names");
  }
  return { userId: sub, roles, isAdmin: roles.includes("admin"), expiresAt: (exp as number) * 1000 };
}

/** The token of `Authorization: Bearer <token>`, or an AuthenticationError. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization || authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== "bearer ") {
    throw new AuthenticationError("a Bearer token is required");
  }
  const token = authorization.slice(7).trim();
  if (!token) throw new AuthenticationError("a Bearer token is required");
  return token;
}
