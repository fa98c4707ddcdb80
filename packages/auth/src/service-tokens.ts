import { createSecretKey } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { AuthenticationError, bearerToken, type ServiceCaller } from "./identity.ts";
import { cachedVerifier } from "./verified-cache.ts";

/**
 * Service credentials: short-lived HS256 tokens signed with a secret only the services hold (the
 * gateway does not), so a user token, however privileged, can never call `/internal/v1/*`.
 */
const SERVICE_ISSUER = "shop-services";
const SERVICE_AUDIENCE = "shop-internal";
const SERVICE = /^[a-z][a-z0-9-]{0,31}$/;

export interface ServiceTokenIssuerOptions {
  secret: string;
  /** The calling service's name, e.g. `order`. */
  service: string;
  lifetimeSeconds?: number;
}

/** The `Authorization` header value this service presents; a token is reused until half its lifetime has passed. */
export function createServiceCredentials(options: ServiceTokenIssuerOptions): () => Promise<string> {
  const key = createSecretKey(Buffer.from(options.secret, "utf8"));
  const lifetimeMs = (options.lifetimeSeconds ?? 300) * 1000;
  let current: { header: string; renewAt: number } | undefined;
  return async () => {
    if (current && Date.now() < current.renewAt) return current.header;
    const now = Date.now();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(options.service)
      .setIssuer(SERVICE_ISSUER)
      .setAudience(SERVICE_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor((now + lifetimeMs) / 1000))
      .sign(key);
    current = { header: `Bearer ${token}`, renewAt: now + lifetimeMs / 2 };
    return current.header;
  };
}

export type ServiceTokenVerifier = (authorization: string | undefined) => Promise<ServiceCaller>;

export function createServiceTokenVerifier(options: { secret: string; clockToleranceSeconds: number }): ServiceTokenVerifier {
  const key = createSecretKey(Buffer.from(options.secret, "utf8"));
  const verifyOptions = {
    algorithms: ["HS256"],
    issuer: SERVICE_ISSUER,
    audience: SERVICE_AUDIENCE,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ["sub", "exp"],
  };
  const verify = cachedVerifier(async (token) => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, verifyOptions));
    } catch {
      throw new AuthenticationError("a valid service credential is required");
    }
    if (typeof payload.sub !== "string" || !SERVICE.test(payload.sub)) throw new AuthenticationError("a valid service credential is required");
    return { service: payload.sub, expiresAt: payload.exp! * 1000 };
  }, options.clockToleranceSeconds * 1000);
  return async (authorization) => verify(bearerToken(authorization));
}
