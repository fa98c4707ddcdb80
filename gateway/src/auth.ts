// The gateway checks tokens with the same verifier every service uses (HS256 and, when configured, JWKS).
export { AuthenticationError, IdentityProviderUnavailableError, createTokenVerifier, type Identity, type TokenVerifier } from "@shop/auth";
