import { createSecretKey, type KeyObject } from "node:crypto";
import { errors as joseErrors, jwtVerify } from "jose";
import { isValidUserId } from "./routing.ts";

export interface Identity {
  userId: string;
  isAdmin: boolean;
  /** The `x-user-roles` header value forwarded upstream, computed once per token. */
  rolesHeader: string;
  /** Epoch milliseconds after which the token (and its cache entry) is no longer accepted. */
  expiresAt: number;
}

export class AuthenticationError extends Error {}

export interface TokenVerifierOptions {
  secret: string;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

/** Verified tokens remembered so a client's repeated token costs a map lookup, not an HMAC. */
const VERIFIED_CACHE_SIZE = 10_000;

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

function identityOf(payload: Record<string, unknown>): Identity {
  const { sub, roles = [], exp } = payload;
  if (typeof sub !== "string" || !isValidUserId(sub)) throw new AuthenticationError("the token's subject is not a valid user id");
  // Roles end up in a header upstream, so anything but plain names is refused here.
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string" && ROLE.test(role))) {
    throw new AuthenticationError("the token's roles claim must be an array of role names");
  }
  return { userId: sub, isAdmin: roles.includes("admin"), rolesHeader: roles.join(","), expiresAt: (exp as number) * 1000 };
}

function reasonOf(error: unknown): string {
  if (error instanceof AuthenticationError) return error.message;
  if (error instanceof joseErrors.JWTExpired) return "the token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  return "the token is malformed";
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

/**
 * Checks `Authorization: Bearer <JWT>`: HS256 only (so `alg: none` and algorithm confusion are
 * refused by jose's allow-list), issuer, audience, expiry. Rejects with AuthenticationError
 * carrying a client-safe reason.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  // A KeyObject, unlike raw bytes, lets jose import the HMAC key once instead of per request.
  const key: KeyObject = createSecretKey(Buffer.from(options.secret, "utf8"));
  const verifyOptions = {
    algorithms: ["HS256"],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["sub", "exp"],
  };
  const toleranceMs = options.clockToleranceSeconds * 1000;
  const verified = new Map<string, Identity>();

  return async (authorization) => {
    if (!authorization || authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== "bearer ") {
      throw new AuthenticationError("a Bearer token is required");
    }
    const token = authorization.slice(7).trim();
    const cached = verified.get(token);
    if (cached) {
      if (Date.now() < cached.expiresAt + toleranceMs) return cached;
      verified.delete(token);
      throw new AuthenticationError("the token has expired");
    }
    let identity: Identity;
    try {
      identity = identityOf((await jwtVerify(token, key, verifyOptions)).payload);
    } catch (error) {
      throw new AuthenticationError(reasonOf(error));
    }
    // Oldest entry out first: Map iteration follows insertion order.
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, identity);
    return identity;
  };
}
