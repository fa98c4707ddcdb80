import { SignJWT } from "jose";

export const testJwt = {
  secret: process.env.JWT_SECRET ?? "local-dev-secret-change-me",
  issuer: process.env.JWT_ISSUER ?? "ecommerce-local",
  audience: process.env.JWT_AUDIENCE ?? "ecommerce-api",
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
