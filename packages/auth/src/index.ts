export { AuthenticationError, bearerToken, identityFromClaims, isValidUserId, type Identity, type ServiceCaller } from "./identity.ts";
export { createTokenVerifier, IdentityProviderUnavailableError, type TokenVerifier, type TokenVerifierOptions } from "./token-verifier.ts";
export { createServiceCredentials, createServiceTokenVerifier, type ServiceTokenVerifier } from "./service-tokens.ts";
export { createCallerAuthenticator, type CallerAuthenticator, type AuthConfig } from "./authenticator.ts";
