import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { deflateSync, gzipSync } from "node:zlib";
import { z } from "zod";
import type { Logger } from "@shop/logging";
import { createServiceApp, defineRoute, listen, openApiDocument, schemas, type RouteSpec, type RunningServer } from "../src/index.ts";

/**
 * Every client mistake is a 4xx problem+json, whatever the request looks like; only a real fault
 * of this process or of a dependency is a 5xx. A tiny app with the shared edges stands in for a service.
 */

const created: unknown[] = [];
/** What the error handler logged, by level. */
const logged: { warn: string[]; error: string[] } = { warn: [], error: [] };
const record = (level: "warn" | "error") => (_fields: unknown, message?: string) => void logged[level].push(message ?? "");
const logger = { warn: record("warn"), error: record("error"), info: () => {}, debug: () => {} } as unknown as Logger;

const itemBody = z.strictObject({
  name: schemas.text(1, 50),
  tags: z.array(z.string().max(20)).max(10).optional(),
  meta: z.strictObject({ note: z.string().max(50) }).optional(),
});

const routes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/items/:itemId",
    summary: "One item",
    params: z.object({ itemId: z.string().max(64) }),
    query: z.strictObject({ q: z.string().max(50).optional() }),
    responses: { 200: { description: "The item" } },
    handler: ({ params, query }) => ({ status: 200, body: { id: params.itemId, q: query.q ?? null } }),
  }),
  defineRoute({
    method: "patch",
    path: "/items/:itemId",
    summary: "Change an item",
    access: "public",
    params: z.object({ itemId: z.string().max(64) }),
    body: itemBody,
    responses: { 200: { description: "Changed" } },
    handler: ({ params, body }) => ({ status: 200, body: { id: params.itemId, ...body } }),
  }),
  defineRoute({
    method: "post",
    path: "/items",
    summary: "Create an item",
    access: "public",
    headers: z.object({ "idempotency-key": schemas.idempotencyKey.optional() }),
    body: itemBody,
    responses: { 201: { description: "Created" } },
    handler: ({ body }) => {
      created.push(body);
      return { status: 201, body };
    },
  }),
  defineRoute({
    method: "get",
    path: "/database-restarting",
    summary: "Fails like pg when PostgreSQL shuts down",
    responses: { 200: { description: "never" } },
    handler: () => {
      throw Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01", severity: "FATAL" });
    },
  }),
  defineRoute({
    method: "get",
    path: "/bug",
    summary: "Fails like a bug",
    responses: { 200: { description: "never" } },
    handler: () => {
      throw new Error('relation "secret_table" does not exist at SELECT * FROM secret_table');
    },
  }),
  defineRoute({
    method: "post",
    path: "/fragile",
    summary: "A schema whose refinement assumes a typed field",
    access: "public",
    body: z.strictObject({ when: z.string().optional() }).refine((b) => (b.when as unknown as Date | undefined)?.getTime() !== 0),
    responses: { 200: { description: "ok" } },
    handler: () => ({ status: 200, body: {} }),
  }),
];

let server: RunningServer;

beforeAll(async () => {
  const app = createServiceApp({ service: "test", logger, routes, openApi: { title: "Test", version: "1.0.0" } });
  server = await listen(app, 0);
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  created.length = 0;
  logged.warn.length = 0;
  logged.error.length = 0;
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** Raw HTTP, so the path and the body bytes go out exactly as written (fetch would normalise them). */
function send(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body;
  const headers: Record<string, string> = { ...(body ? { "content-length": String(body.length) } : {}), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = { "content-type": "application/json" };
const postJson = (path: string, value: unknown, headers: Record<string, string> = {}) =>
  send("POST", path, { headers: { ...json, ...headers }, body: JSON.stringify(value) });

function expectProblem(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({ status, code });
  expect(answer.headers["content-type"]).toContain("application/problem+json");
  expect(answer.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String), traceId: expect.any(String) });
}

const fieldsOf = (answer: Answer): string[] => (answer.body.errors as { field: string }[]).map((e) => e.field);

describe("bodies that cannot be decoded", () => {
  test("a gzip body is read; a body that is not the gzip it claims is a 400", async () => {
    const good = await send("POST", "/items", { headers: { ...json, "content-encoding": "gzip" }, body: gzipSync(JSON.stringify({ name: "zipped" })) });
    expect(good.status).toBe(201);
    const bad = await send("POST", "/items", { headers: { ...json, "content-encoding": "gzip" }, body: "this is not gzip" });
    expectProblem(bad, 400, "MALFORMED_REQUEST");
    const truncated = await send("POST", "/items", {
      headers: { ...json, "content-encoding": "gzip" },
      body: gzipSync(JSON.stringify({ name: "zipped" })).subarray(0, 12),
    });
    expectProblem(truncated, 400, "MALFORMED_REQUEST");
    expect(created).toEqual([{ name: "zipped" }]);
  });

  test("a body that is not the deflate it claims is a 400", async () => {
    expect(
      (await send("POST", "/items", { headers: { ...json, "content-encoding": "deflate" }, body: deflateSync(JSON.stringify({ name: "d" })) })).status,
    ).toBe(201);
    expectProblem(await send("POST", "/items", { headers: { ...json, "content-encoding": "deflate" }, body: "\u0001\u0002 nope" }), 400, "MALFORMED_REQUEST");
    expectProblem(await send("POST", "/items", { headers: { ...json, "content-encoding": "br" }, body: "not brotli at all" }), 400, "MALFORMED_REQUEST");
  });

  test.each(["compress", "x-unknown", "gzip, gzip"])("Content-Encoding %s is a 415", async (encoding) => {
    expectProblem(
      await send("POST", "/items", { headers: { ...json, "content-encoding": encoding }, body: JSON.stringify({ name: "n" }) }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  test("a charset other than UTF is a 415", async () => {
    expectProblem(
      await send("POST", "/items", { headers: { "content-type": "application/json; charset=latin1" }, body: '{"name":"n"}' }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectProblem(
      await send("POST", "/items", { headers: { "content-type": "application/json; charset=us-ascii" }, body: '{"name":"n"}' }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expect(created).toEqual([]);
  });

  test("invalid JSON is a 400 naming the body; over 64 KiB (also after decompression) is a 413", async () => {
    const invalid = await send("POST", "/items", { headers: json, body: '{"name": ' });
    expectProblem(invalid, 400, "VALIDATION_FAILED");
    expect(fieldsOf(invalid)).toEqual(["body"]);
    expectProblem(await postJson("/items", { name: "x".repeat(70_000) }), 413, "PAYLOAD_TOO_LARGE");
    const bomb = gzipSync(JSON.stringify({ name: "n", pad: " ".repeat(1_000_000) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expectProblem(await send("POST", "/items", { headers: { ...json, "content-encoding": "gzip" }, body: bomb }), 413, "PAYLOAD_TOO_LARGE");
  });
});

describe("415 and missing bodies", () => {
  test("a body that is not JSON on a route that takes one is a 415, and nothing is created", async () => {
    expectProblem(await send("POST", "/items", { headers: { "content-type": "text/plain" }, body: '{"name":"n"}' }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectProblem(
      await send("POST", "/items", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=n" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectProblem(await send("POST", "/items", { body: '{"name":"n"}' }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect((await send("POST", "/items", { headers: { "content-type": "application/merge-patch+json" }, body: '{"name":"n"}' })).status).toBe(201);
    expect(created).toEqual([{ name: "n" }]);
  });

  test("a route that takes a body without one is a 400 naming what is missing", async () => {
    // An empty JSON body parses as {}: the required fields are what is missing.
    const empty = await send("POST", "/items", { headers: { ...json, "content-length": "0" } });
    expectProblem(empty, 400, "VALIDATION_FAILED");
    expect(fieldsOf(empty)).toEqual(["body.name"]);
    // No body and no type is the body missing.
    const none = await send("POST", "/items", { headers: { "content-length": "0" } });
    expectProblem(none, 400, "VALIDATION_FAILED");
    expect(none.body.errors).toEqual([{ field: "body", message: "required: a JSON body" }]);
  });

  test("an empty body declared as something other than JSON is a 415, not a missing body", async () => {
    const before = created.length;
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]) {
      expectProblem(await send("POST", "/items", { headers: { "content-type": type, "content-length": "0" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    expect(created).toHaveLength(before);
  });

  test("a body sent to a route that takes none is a 400; an empty one is no body", async () => {
    expectProblem(await send("GET", "/items/a", { headers: json, body: '{"anything": 1}' }), 400, "MALFORMED_REQUEST");
    expectProblem(await send("GET", "/items/a", { headers: { "content-type": "text/plain" }, body: "hello" }), 400, "MALFORMED_REQUEST");
    expect((await send("GET", "/items/a", { headers: { "content-length": "0" } })).status).toBe(200);
  });
});

describe("paths", () => {
  test.each(["%ff", "%E0%A4%A", "a%", "%ed%a0%80"])("bad percent-encoding in a path parameter (%s) is a 400 naming it", async (raw) => {
    const answer = await send("GET", `/items/${raw}`);
    expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(fieldsOf(answer)).toEqual(["path.itemId"]);
    expectProblem(await send("PATCH", `/items/${raw}`, { headers: json, body: '{"name":"n"}' }), 400, "VALIDATION_FAILED");
  });

  test("bad percent-encoding in a path no route has is a 404", async () => {
    expectProblem(await send("GET", "/nothing/%ff"), 404, "NOT_FOUND");
  });

  test("a known path with a method it does not take is a 405 with Allow; an unknown path stays a 404", async () => {
    const remove = await send("DELETE", "/items/a");
    expectProblem(remove, 405, "METHOD_NOT_ALLOWED");
    expect(remove.headers.allow).toBe("GET, HEAD, OPTIONS, PATCH");
    const put = await send("PUT", "/items", { headers: json, body: '{"name":"n"}' });
    expectProblem(put, 405, "METHOD_NOT_ALLOWED");
    expect(put.headers.allow).toBe("OPTIONS, POST");
    const options = await send("OPTIONS", "/items");
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe("OPTIONS, POST");
    const health = await send("POST", "/healthz");
    expectProblem(health, 405, "METHOD_NOT_ALLOWED");
    expect(health.headers.allow).toBe("GET, HEAD, OPTIONS");
    expectProblem(await send("DELETE", "/nothing"), 404, "NOT_FOUND");
    expect(created).toEqual([]);
  });
});

describe("control characters and unpaired surrogates", () => {
  test.each([
    ["NUL", "a\u0000b"],
    ["a lone high surrogate", "\ud800"],
    ["a lone low surrogate", "x\udc00"],
    ["a tab", "a\tb"],
    ["a C1 control", "a\u0085b"],
    ["DEL", "a\u007fb"],
  ])("%s in a body field is a 400 naming the field, wherever it is", async (_label, value) => {
    const top = await postJson("/items", { name: value });
    expectProblem(top, 400, "VALIDATION_FAILED");
    expect(fieldsOf(top)).toEqual(["body.name"]);
    expect(fieldsOf(await postJson("/items", { name: "ok", tags: ["fine", value] }))).toEqual(["body.tags.1"]);
    expect(fieldsOf(await postJson("/items", { name: "ok", meta: { note: value } }))).toEqual(["body.meta.note"]);
    expect(fieldsOf(await postJson("/items", { name: "ok", [`k${value}`]: 1 }))).toHaveLength(1);
    expect(created).toEqual([]);
  });

  test("JSON escapes and raw bytes are the same to the rule", async () => {
    expectProblem(await send("POST", "/items", { headers: json, body: '{"name":"\\ud800"}' }), 400, "VALIDATION_FAILED");
    expectProblem(await send("POST", "/items", { headers: json, body: '{"name":"a\\u0000b"}' }), 400, "VALIDATION_FAILED");
    // Well-formed text of any script, including pairs of surrogates (emoji), is fine.
    expect((await postJson("/items", { name: "제주 감귤 🍊 café" })).status).toBe(201);
  });

  test("in the query and in path parameters", async () => {
    const query = await send("GET", "/items/a?q=a%00b");
    expectProblem(query, 400, "VALIDATION_FAILED");
    expect(fieldsOf(query)).toEqual(["query.q"]);
    expect(fieldsOf(await send("GET", "/items/a?q=%1F"))).toEqual(["query.q"]);
    const param = await send("GET", "/items/a%00b");
    expectProblem(param, 400, "VALIDATION_FAILED");
    expect(fieldsOf(param)).toEqual(["path.itemId"]);
    expect(fieldsOf(await send("GET", "/items/%0A"))).toEqual(["path.itemId"]);
  });

  test("in a header the route declares (obs-text bytes arrive as latin-1, C1 controls included)", async () => {
    const answer = await send("POST", "/items", { headers: { ...json, "idempotency-key": "key\u0085" }, body: '{"name":"n"}' });
    expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(fieldsOf(answer)).toEqual(["header.idempotency-key"]);
    // Headers a route does not declare are not its input.
    expect((await send("GET", "/items/a", { headers: { "x-anything": "v\u0085" } })).status).toBe(200);
  });

  test("schemas.text documents the rule in the OpenAPI document", () => {
    const document = openApiDocument({ title: "t", version: "1" }, routes) as any;
    const name = document.paths["/items"].post.requestBody.content["application/json"].schema.properties.name;
    expect(name).toMatchObject({ type: "string", minLength: 1, maxLength: 50, pattern: expect.any(String) });
    expect(name.description).toContain("control characters");
    // The pattern means the same compiled with or without the Unicode flag, as validators differ.
    for (const flags of ["", "u"]) {
      const pattern = new RegExp(name.pattern as string, flags);
      for (const fine of ["제주 감귤 🍊 café", "../../etc/passwd", "p{Cc}", ""]) expect(pattern.test(fine)).toBe(true);
      for (const bad of ["a\u0000b", "\ud800", "x\udc00", "a\tb", "a\u0085b", "a\u007fb", "\udc00\ud800"]) expect(pattern.test(bad)).toBe(false);
    }
  });
});

describe("JSON that is nested deep or long", () => {
  test("nesting too deep for any request is a 400, however deep", async () => {
    const moderate = await send("POST", "/items", { headers: json, body: `{"name":"n","meta":${"[".repeat(40)}${"]".repeat(40)}}` });
    expectProblem(moderate, 400, "VALIDATION_FAILED");
    for (const depth of [10_000, 30_000]) {
      const answer = await send("POST", "/items", { headers: json, body: `${"[".repeat(depth)}${"]".repeat(depth)}` });
      expectProblem(answer, 400, "VALIDATION_FAILED");
      const objects = await send("POST", "/items", { headers: json, body: `${'{"a":'.repeat(depth / 5)}1${"}".repeat(depth / 5)}` });
      expectProblem(objects, 400, "VALIDATION_FAILED");
    }
    expect(logged.error).toEqual([]);
  });

  test("an array longer than the schema allows is a 400, not work", async () => {
    const answer = await postJson("/items", { name: "n", tags: Array.from({ length: 10_000 }, () => "t") });
    expectProblem(answer, 400, "VALIDATION_FAILED");
  });
});

describe("faults that are not the client's", () => {
  test("a dependency that is away is a 503 with Retry-After, logged as a warning", async () => {
    const answer = await send("GET", "/database-restarting");
    expectProblem(answer, 503, "SERVICE_UNAVAILABLE");
    expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
    expect(logged.warn).toHaveLength(1);
    expect(logged.error).toEqual([]);
  });

  test("anything else is a 500 that tells the client nothing of the cause, logged as an error", async () => {
    const answer = await send("GET", "/bug");
    expectProblem(answer, 500, "INTERNAL_ERROR");
    expect(JSON.stringify(answer.body)).not.toMatch(/secret_table|SELECT|relation|stack/i);
    expect(answer.headers["retry-after"]).toBeUndefined();
    expect(logged.error).toHaveLength(1);
  });

  test("a schema that throws on odd input still answers 400, and is logged as an error to fix", async () => {
    expect((await postJson("/fragile", {})).status).toBe(200);
    const answer = await postJson("/fragile", { when: "x" });
    expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(fieldsOf(answer)).toEqual(["body"]);
    expect(logged.error).toHaveLength(1);
  });
});
