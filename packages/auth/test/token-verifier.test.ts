import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair } from "jose";
import { signServiceToken, signToken, testJwt } from "@shop/testing";
import {
  AuthenticationError,
  IdentityProviderUnavailableError,
  createServiceCredentials,
  createServiceTokenVerifier,
  createTokenVerifier,
} from "../src/index.ts";

const verify = createTokenVerifier({ secret: testJwt.secret, issuer: testJwt.issuer, audience: testJwt.audience, clockToleranceSeconds: 0 });

test("a valid token yields the user, the admin flag and the forwarded roles", async () => {
  const identity = await verify(`Bearer ${await signToken({ sub: "user-1", roles: ["admin", "support"] })}`);
  expect(identity).toMatchObject({ userId: "user-1", isAdmin: true, roles: ["admin", "support"] });
  expect(await verify(`bearer ${await signToken({ sub: "user-2" })}`)).toMatchObject({ userId: "user-2", isAdmin: false, roles: [] });
});

test("a remembered token is still refused once it expires", async () => {
  // Two seconds ahead: at least one whole second of validity, however late in the current second this runs.
  const expiresAt = Math.floor(Date.now() / 1000) + 2;
  const header = `Bearer ${await signToken({ sub: "user-3", expiresIn: expiresAt })}`;
  expect((await verify(header)).userId).toBe("user-3");
  await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
  await expect(verify(header)).rejects.toThrow(new AuthenticationError("the token has expired"));
});

test("a subject that is not a valid user id is refused", async () => {
  await expect(verify(`Bearer ${await signToken({ sub: "not a user id" })}`)).rejects.toThrow(AuthenticationError);
});

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

describe("tokens from an external identity provider (JWKS)", () => {
  // The identity provider is outside the system: a local HTTP server stands in for its JWKS endpoint.
  let server: Server;
  let jwksUrl: string;
  let rsaKey: PrivateKey;
  let ecKey: PrivateKey;
  let rsaPublicPem: string;
  let available = true;

  beforeAll(async () => {
    const rsa = await generateKeyPair("RS256");
    const ec = await generateKeyPair("ES256");
    rsaKey = rsa.privateKey;
    ecKey = ec.privateKey;
    rsaPublicPem = await exportSPKI(rsa.publicKey);
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ];
    server = createServer((_req, res) => {
      if (!available) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const external = (alg: "RS256" | "ES256", kid: string, key: PrivateKey, claims: { sub?: string; roles?: string[] } = {}) =>
    new SignJWT({ roles: claims.roles ?? [] })
      .setProtectedHeader({ alg, kid })
      .setSubject(claims.sub ?? "ext-user")
      .setIssuer(testJwt.issuer)
      .setAudience(testJwt.audience)
      .setExpirationTime("5m")
      .sign(key);
  const verifierWithJwks = () =>
    createTokenVerifier({ secret: testJwt.secret, issuer: testJwt.issuer, audience: testJwt.audience, clockToleranceSeconds: 0, jwksUrl });

  test("RS256 and ES256 tokens signed by the provider's keys are accepted, HS256 still is", async () => {
    const verifyExternal = verifierWithJwks();
    expect(await verifyExternal(`Bearer ${await external("RS256", "rsa-1", rsaKey, { sub: "rs-user", roles: ["admin"] })}`)).toMatchObject({
      userId: "rs-user",
      isAdmin: true,
    });
    expect(await verifyExternal(`Bearer ${await external("ES256", "ec-1", ecKey, { sub: "es-user" })}`)).toMatchObject({ userId: "es-user", isAdmin: false });
    expect(await verifyExternal(`Bearer ${await signToken({ sub: "local-user" })}`)).toMatchObject({ userId: "local-user" });
  });

  test("without a JWKS URL, RS256 tokens are refused", async () => {
    await expect(verify(`Bearer ${await external("RS256", "rsa-1", rsaKey)}`)).rejects.toThrow(
      new AuthenticationError("the token's signing algorithm is not accepted"),
    );
  });

  test("algorithm confusion: an HS256 token keyed with the provider's public key is refused", async () => {
    const forged = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
      .setSubject("attacker")
      .setIssuer(testJwt.issuer)
      .setAudience(testJwt.audience)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(rsaPublicPem));
    await expect(verifierWithJwks()(`Bearer ${forged}`)).rejects.toThrow(new AuthenticationError("the token's signature is invalid"));
  });

  test("a token signed by an unknown key is refused", async () => {
    const stranger = await generateKeyPair("RS256");
    await expect(verifierWithJwks()(`Bearer ${await external("RS256", "rsa-9", stranger.privateKey)}`)).rejects.toThrow(AuthenticationError);
  });

  test("alg none is refused", async () => {
    const unsigned = new UnsecuredJWT({ roles: ["admin"] })
      .setSubject("attacker")
      .setIssuer(testJwt.issuer)
      .setAudience(testJwt.audience)
      .setExpirationTime("5m")
      .encode();
    await expect(verifierWithJwks()(`Bearer ${unsigned}`)).rejects.toThrow(AuthenticationError);
  });

  test("a provider whose key set cannot be fetched makes the check unavailable, not the token invalid", async () => {
    available = false;
    try {
      await expect(verifierWithJwks()(`Bearer ${await external("RS256", "rsa-1", rsaKey)}`)).rejects.toThrow(IdentityProviderUnavailableError);
    } finally {
      available = true;
    }
  });
});

describe("service credentials", () => {
  const verifyService = createServiceTokenVerifier({ secret: testJwt.serviceSecret, clockToleranceSeconds: 0 });

  test("a service's own credential names it, and is reused while fresh", async () => {
    const credentials = createServiceCredentials({ secret: testJwt.serviceSecret, service: "order" });
    const header = await credentials();
    expect(await credentials()).toBe(header);
    expect(await verifyService(header)).toMatchObject({ service: "order" });
  });

  test("a user token, even an admin's, is not a service credential", async () => {
    await expect(verifyService(`Bearer ${await signToken({ sub: "order", roles: ["admin"] })}`)).rejects.toThrow(AuthenticationError);
  });

  test("a service credential is not a user token", async () => {
    await expect(verify(`Bearer ${await signServiceToken("order")}`)).rejects.toThrow(AuthenticationError);
  });

  test("a credential signed with another secret is refused", async () => {
    await expect(verifyService(`Bearer ${await signServiceToken("order", { secret: "some-other-secret" })}`)).rejects.toThrow(AuthenticationError);
  });
});
