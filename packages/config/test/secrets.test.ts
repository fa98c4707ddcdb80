import { ConfigError, baseConfigSchema, loadConfig } from "../src/index.ts";

const strong = "k3Yq9v2LwP0sX7bN4mZr8tC1eH6uJ5aD";

test("the development defaults run anywhere but production", () => {
  expect(loadConfig(baseConfigSchema, {}).JWT_SECRET).toBe("local-dev-secret-change-me");
  expect(loadConfig(baseConfigSchema, { NODE_ENV: "test" }).SERVICE_TOKEN_SECRET).toBe("local-dev-service-secret-change-me");
});

test("production refuses the default secrets, naming each key", () => {
  expect(() => loadConfig(baseConfigSchema, { NODE_ENV: "production" })).toThrow(ConfigError);
  try {
    loadConfig(baseConfigSchema, { NODE_ENV: "production", JWT_SECRET: strong });
  } catch (error) {
    expect((error as Error).message).toContain("SERVICE_TOKEN_SECRET: is the published development default");
    expect((error as Error).message).not.toContain("JWT_SECRET");
  }
  expect.assertions(3);
});

test.each([
  ["short", "abc123"],
  ["placeholder", "please-change-me-before-going-live-0000"],
  ["example", "example-secret-value-for-the-docs-000000"],
])("production refuses a %s secret", (_kind, secret) => {
  expect(() => loadConfig(baseConfigSchema, { NODE_ENV: "production", JWT_SECRET: secret, SERVICE_TOKEN_SECRET: strong })).toThrow(/JWT_SECRET/);
});

test("production starts with strong secrets", () => {
  const config = loadConfig(baseConfigSchema, { NODE_ENV: "production", JWT_SECRET: strong, SERVICE_TOKEN_SECRET: strong.split("").reverse().join("") });
  expect(config.NODE_ENV).toBe("production");
});

test("an empty JWKS URL means none; anything but an http(s) URL is refused", () => {
  expect(loadConfig(baseConfigSchema, { JWT_JWKS_URL: "" }).JWT_JWKS_URL).toBeUndefined();
  expect(loadConfig(baseConfigSchema, { JWT_JWKS_URL: "https://idp.example.com/.well-known/jwks.json" }).JWT_JWKS_URL).toBe(
    "https://idp.example.com/.well-known/jwks.json",
  );
  expect(() => loadConfig(baseConfigSchema, { JWT_JWKS_URL: "file:///etc/passwd" })).toThrow(/JWT_JWKS_URL/);
});
