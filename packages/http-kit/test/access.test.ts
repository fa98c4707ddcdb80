import request from "supertest";
import { z } from "zod";
import { createCallerAuthenticator } from "@shop/auth";
import { signServiceToken, signToken, silentLogger, testJwt } from "@shop/testing";
import { accessOf, createServiceApp, defineRoute, schemas } from "../src/index.ts";

const auth = createCallerAuthenticator({
  JWT_SECRET: testJwt.secret,
  JWT_ISSUER: testJwt.issuer,
  JWT_AUDIENCE: testJwt.audience,
  JWT_CLOCK_TOLERANCE_SECONDS: 0,
  SERVICE_TOKEN_SECRET: testJwt.serviceSecret,
});

const echo = { status: 200, body: { ok: true } };
const app = createServiceApp({
  service: "access-test",
  logger: silentLogger,
  auth,
  openApi: { title: "t", version: "1" },
  routes: [
    defineRoute({ method: "get", path: "/api/v1/things", summary: "public", responses: { 200: { description: "ok" } }, handler: () => echo }),
    defineRoute({
      method: "post",
      path: "/api/v1/users/:userId/things",
      summary: "user",
      params: z.object({ userId: schemas.userId }),
      responses: { 200: { description: "ok" } },
      handler: () => echo,
    }),
    defineRoute({ method: "post", path: "/api/v1/admin/things", summary: "admin", responses: { 200: { description: "ok" } }, handler: () => echo }),
  ],
  internalRoutes: [
    defineRoute({
      method: "post",
      path: "/internal/v1/things",
      summary: "service",
      callers: ["order"],
      responses: { 200: { description: "ok" } },
      handler: () => echo,
    }),
  ],
});

const bearer = async (token: Promise<string>) => `Bearer ${await token}`;

describe("Given a service app built with the shared kit", () => {
  test("When anyone reads a public route, Then no credential is needed", async () => {
    expect((await request(app).get("/api/v1/things")).status).toBe(200);
  });

  test.each([
    ["no token", 401, undefined],
    ["a garbage token", 401, Promise.resolve("Bearer garbage")],
    ["a token signed with another secret", 401, bearer(signToken({ sub: "alice", secret: "not-the-secret" }))],
    ["another user's token", 403, bearer(signToken({ sub: "mallory" }))],
    ["a service credential", 401, bearer(signServiceToken("order"))],
    ["the user's own token", 200, bearer(signToken({ sub: "alice" }))],
    ["an admin's token", 200, bearer(signToken({ sub: "ops", roles: ["admin"] }))],
  ])("When a user route is called with %s, Then it answers %i", async (_case, status, authorization) => {
    const call = request(app).post("/api/v1/users/alice/things");
    const response = await (authorization ? call.set("authorization", await authorization) : call);
    expect(response.status).toBe(status);
    if (status !== 200) {
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.body.code).toBe(status === 401 ? "UNAUTHORIZED" : "FORBIDDEN");
    }
    if (status === 401) expect(response.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  test.each([
    ["no token", 401, undefined],
    ["a user's token", 403, bearer(signToken({ sub: "alice" }))],
    ["a service credential", 401, bearer(signServiceToken("order"))],
    ["an admin's token", 200, bearer(signToken({ sub: "ops", roles: ["admin"] }))],
  ])("When an admin route is called with %s, Then it answers %i", async (_case, status, authorization) => {
    const call = request(app).post("/api/v1/admin/things");
    expect((await (authorization ? call.set("authorization", await authorization) : call)).status).toBe(status);
  });

  test.each([
    ["no credential", 401, undefined],
    ["an admin's user token", 401, bearer(signToken({ sub: "ops", roles: ["admin"] }))],
    ["a credential signed with another secret", 401, bearer(signServiceToken("order", { secret: "not-the-service-secret" }))],
    ["another service's credential", 403, bearer(signServiceToken("wallet"))],
    ["the allowed caller's credential", 200, bearer(signServiceToken("order"))],
  ])("When an internal route is called with %s, Then it answers %i", async (_case, status, authorization) => {
    const call = request(app).post("/internal/v1/things");
    expect((await (authorization ? call.set("authorization", await authorization) : call)).status).toBe(status);
  });
});

describe("access implied by the path", () => {
  test.each([
    [{ method: "get", path: "/api/v1/products/:productId" }, "public"],
    [{ method: "get", path: "/api/v1/users/:userId/balance" }, "user"],
    [{ method: "patch", path: "/api/v1/admin/products/:productId" }, "admin"],
    [{ method: "post", path: "/internal/v1/products/quote" }, "service"],
    [{ method: "post", path: "/api/v1/products", access: "public" as const }, "public"],
  ])("%j is %s", (route, access) => {
    expect(accessOf(route)).toBe(access);
  });

  test("a write the path does not protect must declare its access, or the app does not start", () => {
    expect(() => accessOf({ method: "post", path: "/api/v1/things" })).toThrow(/must declare its access/);
  });

  test("a route that needs credentials in an app without an authenticator does not start", () => {
    expect(() =>
      createServiceApp({
        service: "t",
        logger: silentLogger,
        openApi: { title: "t", version: "1" },
        routes: [defineRoute({ method: "get", path: "/api/v1/users/:userId/x", summary: "x", responses: { 200: { description: "ok" } }, handler: () => echo })],
      }),
    ).toThrow(/no authenticator/);
  });

  test("an internal route without callers does not start", () => {
    expect(() =>
      createServiceApp({
        service: "t",
        logger: silentLogger,
        auth,
        openApi: { title: "t", version: "1" },
        routes: [],
        internalRoutes: [defineRoute({ method: "post", path: "/internal/v1/x", summary: "x", responses: { 200: { description: "ok" } }, handler: () => echo })],
      }),
    ).toThrow(/must list its callers/);
  });
});

test("a second Authorization header is refused, whichever of the two is valid", async () => {
  const valid = await bearer(signToken({ sub: "alice" }));
  for (const pair of [
    [valid, "Bearer garbage"],
    ["Bearer garbage", valid],
  ]) {
    // An array becomes one header line per value (node's setHeader).
    const response = await request(app)
      .post("/api/v1/users/alice/things")
      .set("authorization", pair as unknown as string);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe("MALFORMED_REQUEST");
  }
});
