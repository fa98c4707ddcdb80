import { readFileSync } from "node:fs";
import { publicApiDocument } from "../src/cli/api-document.ts";
import { apiOperations, matchRoute } from "../src/routing.ts";

type Json = Record<string, any>;

const committed = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8")) as Json;
const document = publicApiDocument() as Json;
const operations = Object.entries(document.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json).map(([method, op]) => ({ path, method, op: op as Json })),
);

/** Every node of the document with the JSON pointer-ish path to it. */
function* walk(node: unknown, at = "#"): Generator<[string, Json]> {
  if (typeof node !== "object" || node === null) return;
  if (!Array.isArray(node)) yield [at, node];
  for (const [key, value] of Object.entries(node)) if (!["example", "examples"].includes(key)) yield* walk(value, `${at}/${key}`);
}

test("docs/openapi.json is the document generated from the route definitions (run `npm run openapi:write` after a change)", () => {
  expect(committed).toEqual(document);
});

test("every operation has a unique operationId, a declared tag, a summary and realistic examples", () => {
  const ids = operations.map(({ op }) => op.operationId);
  expect(ids.filter((id) => typeof id !== "string")).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  const tags = new Set((document.tags as Json[]).map((t) => t.name));
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    expect({ where, tags: op.tags.filter((t: string) => !tags.has(t)), summary: typeof op.summary }).toEqual({ where, tags: [], summary: "string" });
    if (op.requestBody) expect({ where, example: op.requestBody.content["application/json"].example !== undefined }).toEqual({ where, example: true });
    for (const parameter of op.parameters ?? [])
      if (parameter.in !== "header" || parameter.required)
        expect({ where, parameter: parameter.name, example: parameter.example !== undefined }).toEqual({ where, parameter: parameter.name, example: true });
    for (const [status, response] of Object.entries(op.responses as Json)) {
      const json = response.content?.["application/json"];
      if (json) expect({ where, status, example: json.example !== undefined }).toEqual({ where, status, example: true });
      const problem = response.content?.["application/problem+json"];
      if (problem) {
        // Every code the status lists has an example of its own, with that status and code.
        const codes: string[] = problem.schema.allOf[1].properties.code.enum;
        expect({ where, status, examples: Object.keys(problem.examples) }).toEqual({ where, status, examples: codes });
        for (const code of codes) expect(problem.examples[code].value).toMatchObject({ status: Number(status), code, traceId: expect.any(String) });
      }
    }
  }
});

test("every operation lists the error statuses of the contract that apply to it", () => {
  const statusesOf = (operationId: string) => Object.keys(operations.find(({ op }) => op.operationId === operationId)!.op.responses);
  for (const { op } of operations) expect(statusesOf(op.operationId)).toEqual(expect.arrayContaining(["400", "503"]));
  expect(statusesOf("placeOrder")).toEqual(["201", "202", "400", "401", "403", "404", "409", "413", "415", "422", "429", "502", "503", "504"]);
  expect(statusesOf("issueCoupon")).toEqual(["201", "400", "401", "403", "404", "409", "413", "415", "429", "502", "503", "504"]);
  expect(statusesOf("listProducts")).toEqual(["200", "400", "429", "502", "503", "504"]);
  const codes = new Set(
    operations.flatMap(({ op }) => Object.values(op.responses as Json).flatMap((r) => Object.keys(r.content?.["application/problem+json"]?.examples ?? {}))),
  );
  for (const code of [
    "VALIDATION_FAILED",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "RATE_LIMITED",
    "IDEMPOTENCY_KEY_REUSED",
    "COUPON_SOLD_OUT",
    "COUPON_ALREADY_ISSUED",
    "COUPON_NOT_ACTIVE",
  ]) {
    expect(codes).toContain(code);
  }
});

test("the gateway's access decision and the document agree: a lock and a 401 exactly where a token is needed", () => {
  for (const { path, method, op } of operations) {
    const isPublic = matchRoute(method.toUpperCase(), path)?.access === "public";
    expect({ path, method, security: op.security, has401: "401" in op.responses }).toEqual({
      path,
      method,
      security: isPublic ? [] : [{ bearerAuth: [] }],
      has401: !isPublic,
    });
  }
});

test("the gateway's table of paths and methods (405 for the others) is the document's", () => {
  expect(apiOperations().sort()).toEqual(operations.map(({ path, method }) => `${method.toUpperCase()} ${path}`).sort());
});

test("formats and bounds: no integer carries zod's ±2^53 artefact, every timestamp is a date-time", () => {
  const found: string[] = [];
  for (const [at, node] of walk(document)) {
    if (Math.abs(node.minimum ?? 0) === Number.MAX_SAFE_INTEGER || Math.abs(node.maximum ?? 0) === Number.MAX_SAFE_INTEGER) found.push(`${at}: ±2^53 bound`);
    for (const [name, property] of Object.entries((node.properties ?? {}) as Json)) {
      const isTime = /At$/.test(name) || ((name === "from" || name === "to") && at.includes("TopSellers"));
      const formats = [property.format, ...(property.anyOf ?? []).map((p: Json) => p.format)];
      if (isTime && !formats.includes("date-time")) found.push(`${at}/properties/${name}: no date-time format`);
    }
  }
  expect(found).toEqual([]);
});

test("the document says how to get a local token and where it is served", () => {
  expect(document.components.securitySchemes.bearerAuth.description).toContain("npm run token -- minji");
  expect(document.servers.map((s: Json) => s.url)).toEqual(expect.arrayContaining(["http://127.0.0.1:8080", "http://127.0.0.1:4010"]));
});
