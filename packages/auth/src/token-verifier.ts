import { createSecretKey, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { AuthenticationError, bearerToken, identityFromClaims, type Identity } from "./identity.ts";
import { cachedVerifier } from "./verified-cache.ts";

export interface TokenVerifierOptions {
  /** HS256 secret of the local identity provider. */
  secret: string;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  /** An external identity provider's key set: RS256 and ES256 tokens signed by its keys are accepted too. */
  jwksUrl?: string;
}

/** The identity provider's key set could not be fetched: the token is not wrong, the check is impossible (503, not 401). */
export class IdentityProviderUnavailableError extends Error {}

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

function reasonOf(error: unknown): string {
  if (error instanceof AuthenticationError) return error.message;
  if (error instanceof joseErrors.JWTExpired) return "the token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "the token's signing key is not known";
  return "the token is malformed";
}

/** A key lookup that failed for a reason other than the token naming an unknown key. */
const keySetUnreachable = (error: unknown) => !(error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys);

/**
 * Checks `Authorization: Bearer <JWT>` of a user: HS256 with the local secret, and RS256/ES256
 * from the JWKS URL when one is configured. jose's algorithm allow-list refuses `alg: none`, and
 * the key is chosen by algorithm family, so an HMAC token can never be checked against a public
 * key (algorithm confusion). Issuer, audience, `sub` and `exp` are required. Rejects with an
 * AuthenticationError carrying a client-safe reason, or IdentityProviderUnavailableError.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  // A KeyObject, unlike raw bytes, lets jose import the HMAC key once instead of per request.
  const secretKey: KeyObject = createSecretKey(Buffer.from(options.secret, "utf8"));
  const remoteKeys = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
    : undefined;
  const keyFor: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256") return secretKey;
    try {
      return await remoteKeys!(header, token);
    } catch (error) {
      throw keySetUnreachable(error) ? new IdentityProviderUnavailableError("the identity provider's keys could not be fetched", { cause: error }) : error;
    }
  };
  const verifyOptions = {
    algorithms: remoteKeys ? ["HS256", "RS256", "ES256"] : ["HS256"],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["sub", "exp"],
  };
  const verify = cachedVerifier(async (token) => {
    try {
      return identityFromClaims((await jwtVerify(token, keyFor, verifyOptions)).payload);
    } catch (error) {
      if (error instanceof IdentityProviderUnavailableError) throw error;
      throw new AuthenticationError(reasonOf(error));
    }
  }, options.clockToleranceSeconds * 1000);
  return async (authorization) => verify(bearerToken(authorization));
}
