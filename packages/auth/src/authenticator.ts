import { createServiceTokenVerifier, type ServiceTokenVerifier } from "./service-tokens.ts";
import { createTokenVerifier, type TokenVerifier } from "./token-verifier.ts";

export interface AuthConfig {
  JWT_SECRET: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_CLOCK_TOLERANCE_SECONDS: number;
  JWT_JWKS_URL?: string;
  SERVICE_TOKEN_SECRET: string;
}

/** How a service checks who is calling: a user's token, or another service's credential. */
export interface CallerAuthenticator {
  user: TokenVerifier;
  service: ServiceTokenVerifier;
}

export function createCallerAuthenticator(config: AuthConfig): CallerAuthenticator {
  return {
    user: createTokenVerifier({
      secret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
      jwksUrl: config.JWT_JWKS_URL,
    }),
    service: createServiceTokenVerifier({ secret: config.SERVICE_TOKEN_SECRET, clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS }),
  };
}
