import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, parseDatabaseUrl } from "../src/index.ts";

const base = "postgresql://shop:s3cret@db.example.com:6432/ecommerce?schema=orders";

test("the URL's parts, and no TLS when sslmode is absent or disable", () => {
  expect(parseDatabaseUrl(base)).toEqual({ host: "db.example.com", port: 6432, user: "shop", password: "s3cret", database: "ecommerce", schema: "orders" });
  expect(parseDatabaseUrl(`${base}&sslmode=disable`).ssl).toBeUndefined();
});

test("sslmode=require encrypts without checking the certificate", () => {
  expect(parseDatabaseUrl(`${base}&sslmode=require`).ssl).toEqual({ rejectUnauthorized: false });
});

test("sslmode=verify-full checks the chain and the host name; verify-ca the chain only", () => {
  const full = parseDatabaseUrl(`${base}&sslmode=verify-full`).ssl!;
  expect(full).toEqual({ rejectUnauthorized: true });
  const ca = parseDatabaseUrl(`${base}&sslmode=verify-ca`).ssl!;
  expect(ca.rejectUnauthorized).toBe(true);
  expect(ca.checkServerIdentity?.("db.example.com", {} as never)).toBeUndefined();
});

test("sslrootcert, sslcert and sslkey are read from their files; sslrootcert=system keeps the system store", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "db-url-"));
  try {
    for (const name of ["ca.pem", "client.pem", "client.key"]) writeFileSync(path.join(dir, name), `-----${name}-----`);
    const ssl = parseDatabaseUrl(`${base}&sslmode=verify-full&sslrootcert=${dir}/ca.pem&sslcert=${dir}/client.pem&sslkey=${dir}/client.key`).ssl;
    expect(ssl).toEqual({ rejectUnauthorized: true, ca: "-----ca.pem-----", cert: "-----client.pem-----", key: "-----client.key-----" });
    expect(parseDatabaseUrl(`${base}&sslmode=verify-full&sslrootcert=system`).ssl).toEqual({ rejectUnauthorized: true });
    expect(() => parseDatabaseUrl(`${base}&sslmode=verify-full&sslrootcert=${dir}/missing.pem`)).toThrow(
      /sslrootcert=.*missing\.pem in the database URL cannot be read/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prefer, allow and unknown modes stop the process with the password redacted", () => {
  for (const mode of ["prefer", "allow", "verify"]) {
    expect(() => parseDatabaseUrl(`${base}&sslmode=${mode}`)).toThrow(ConfigError);
    try {
      parseDatabaseUrl(`${base}&sslmode=${mode}`);
    } catch (error) {
      expect((error as Error).message).toBe(
        `sslmode=${mode} in postgresql://shop:***@db.example.com:6432/ecommerce?schema=orders&sslmode=${mode} is not supported: use one of disable, require, verify-ca, verify-full`,
      );
    }
  }
});
