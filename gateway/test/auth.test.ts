import { signToken, testJwt } from "@shop/testing";
import { AuthenticationError, createTokenVerifier } from "../src/auth.ts";

const verify = createTokenVerifier({ secret: testJwt.secret, issuer: testJwt.issuer, audience: testJwt.audience, clockToleranceSeconds: 0 });

test("a valid token yields the user, the admin flag and the forwarded roles", async () => {
  const identity = await verify(`Bearer ${await signToken({ sub: "user-1", roles: ["admin", "support"] })}`);
  expect(identity).toMatchObject({ userId: "user-1", isAdmin: true, rolesHeader: "admin,support" });
  expect(await verify(`bearer ${await signToken({ sub: "user-2" })}`)).toMatchObject({ userId: "user-2", isAdmin: false, rolesHeader: "" });
});

test("a remembered token is still refused once it expires", async () => {
  const expiresAt = Math.floor(Date.now() / 1000) + 1;
  const header = `Bearer ${await signToken({ sub: "user-3", expiresIn: expiresAt })}`;
  expect((await verify(header)).userId).toBe("user-3");
  await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 50));
  await expect(verify(header)).rejects.toThrow(new AuthenticationError("the token has expired"));
});

test("a subject that is not a valid user id is refused", async () => {
  await expect(verify(`Bearer ${await signToken({ sub: "not a user id" })}`)).rejects.toThrow(AuthenticationError);
});
