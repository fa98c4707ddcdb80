// Requests generated from the gateway's OpenAPI document: for every operation and every one of its
// parameters and body fields, hostile values (wrong types, extremes, NUL, lone surrogates, huge and
// deeply nested values), path and query tricks, broken encodings and framing, and missing or wrong
// credentials. Everything is drawn from a seeded PRNG, so a seed names one exact set of requests.
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { SchemaJudge } from "./schema-judge.ts";

type Schema = Record<string, any>;

/** mulberry32: small, fast and the same on every machine. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
  };
}
export type Random = ReturnType<typeof seededRandom>;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: Schema;
}

export interface Operation {
  /** `METHOD /template`, as in the document. */
  key: string;
  method: string;
  template: string;
  parameters: Parameter[];
  body?: Schema;
  /** The document marks it with the bearer scheme. */
  secured: boolean;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

export function operationsOf(document: Schema): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries<Schema>(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation: Schema | undefined = item[method];
      if (!operation) continue;
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])]
        .filter((p: Schema) => ["path", "query", "header"].includes(p.in))
        .map((p: Schema) => ({ name: p.name, in: p.in, required: p.required === true, schema: p.schema ?? {} }));
      operations.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        parameters,
        body: operation.requestBody?.content?.["application/json"]?.schema,
        secured: Array.isArray(operation.security) && operation.security.length > 0,
      });
    }
  }
  return operations;
}

export type CredentialMode = "owner" | "none" | "other-user" | "garbage" | "expired" | "wrong-secret" | "alg-none";
const NON_OWNER_MODES: CredentialMode[] = ["none", "other-user", "garbage", "expired", "wrong-secret", "alg-none"];

export interface FuzzContext {
  judge: SchemaJudge;
  /** Values of path parameters and body fields by name that name real resources of the fuzz's own user. */
  known: Record<string, string>;
  /** A user id that is not the fuzz's user, for paths that name someone else. */
  otherUserId: string;
  /** `Authorization` for an operation and credential mode; undefined sends none. */
  authorization(operation: Operation, mode: CredentialMode): string | undefined;
}

export interface FuzzCase {
  id: number;
  operation: string;
  /** What was mutated: `credentials`, `path.userId`, `body.items.0.quantity`, `encoding`, … */
  target: string;
  mutation: string;
  credentials: CredentialMode;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  chunked?: boolean;
  /** A 2xx or 3xx answer is a failure: the input is invalid or the caller lacks the right. */
  mustReject: boolean;
}

type Draft = Omit<FuzzCase, "id">;
interface Candidate {
  target: string;
  build: () => Draft | undefined;
}

// --- hostile values -----------------------------------------------------------------------------

interface JsonMutation {
  label: string;
  value?: unknown;
  /** Sent verbatim in place of the value (numbers JSON.stringify cannot write, invalid JSON). */
  raw?: string;
}

const JSON_MUTATIONS: JsonMutation[] = [
  { label: "a numeric string", value: "1" },
  { label: "true", value: true },
  { label: "null", value: null },
  { label: "an empty array", value: [] },
  { label: "an empty object", value: {} },
  { label: "an empty string", value: "" },
  { label: "0", value: 0 },
  { label: "-1", value: -1 },
  { label: "1.5", value: 1.5 },
  { label: "2^53", value: 2 ** 53 },
  { label: "-2^53", value: -(2 ** 53) },
  { label: "Number.MAX_VALUE", value: Number.MAX_VALUE },
  { label: "raw 1e309", raw: "1e309" },
  { label: "raw -1e309", raw: "-1e309" },
  { label: "raw 30-digit integer", raw: "123456789012345678901234567890" },
  { label: "raw NaN", raw: "NaN" },
  { label: "raw Infinity", raw: "Infinity" },
  { label: "raw hex 0x10", raw: "0x10" },
  { label: "raw leading zero 01", raw: "01" },
  { label: "NUL inside", value: "a\u0000b" },
  { label: "only NUL", value: "\u0000" },
  { label: "lone high surrogate", value: "\ud800" },
  { label: "lone low surrogate", value: "x\udfffx" },
  { label: "10,000-character string", value: "a".repeat(10_000) },
  { label: "100,000-character string", value: "a".repeat(100_000) },
  { label: "path traversal", value: "../../../../etc/passwd" },
  { label: "SQL quote", value: "' OR '1'='1" },
  { label: "prototype pollution object", raw: '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}' },
  { label: "5,000-element array", value: Array.from({ length: 5_000 }, () => 1) },
  { label: "100,000-element array", value: Array.from({ length: 100_000 }, () => 1) },
  { label: "arrays nested 10,000 deep", raw: `${"[".repeat(10_000)}${"]".repeat(10_000)}` },
  { label: "objects nested 5,000 deep", raw: `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}` },
  { label: "a zero UUID", value: "00000000-0000-0000-0000-000000000000" },
  { label: "a date that is not one", value: "2026-02-30T25:61:00Z" },
  { label: "not a date", value: "not-a-date" },
];

/** Inserted verbatim as a path segment. */
const PATH_VALUES = [
  "%ff",
  "%2e%2e",
  "..",
  ".",
  "%2F",
  "a%2Fb",
  "%00",
  "%252e%252e",
  "%ed%a0%80",
  "%c0%af",
  "a".repeat(300),
  "%20",
  "%F0%9F%98%80",
  "%5C",
  "a;b=c",
  "*",
  "0",
  "-1",
  "9007199254740993",
  "__proto__",
  "constructor",
  "%",
  "%%32%65",
];

/** Inserted verbatim as a query value. */
const QUERY_VALUES = ["", "0", "-1", "1.5", "101", "1e309", "99999999999999999999", "%ff", "%00", "a".repeat(3_000), "%5B%5D", "null", "1%200", "%ed%a0%80"];

const HEADER_VALUES: Array<{ label: string; value: string | string[] }> = [
  { label: "empty", value: "" },
  { label: "256 characters", value: "a".repeat(256) },
  { label: "9,000 characters", value: "a".repeat(9_000) },
  { label: "latin-1 bytes", value: "\u00ff\u00fe" },
  { label: "sent twice", value: ["fuzz-a", "fuzz-b"] },
  { label: "wait=11", value: "wait=11" },
  { label: "wait=-1", value: "wait=-1" },
  { label: "wait=1e309", value: "wait=1e309" },
];

const garbage = (seedByte: number, length = 64) => Buffer.from(Array.from({ length }, (_, i) => (seedByte * 31 + i * 17) & 0xff));

// --- building requests --------------------------------------------------------------------------

const RAW = "\u0000fuzz-raw\u0000";
const RAW_JSON = JSON.stringify(RAW);

function setAt(target: any, path: (string | number)[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key];
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function bodyWith(base: unknown, path: (string | number)[], mutation: JsonMutation | "missing"): Buffer {
  const copy = structuredClone(base);
  if (mutation === "missing") {
    setAt(copy, path, undefined);
    return Buffer.from(JSON.stringify(copy));
  }
  setAt(copy, path, mutation.raw === undefined ? mutation.value : RAW);
  const text = JSON.stringify(copy);
  return Buffer.from(mutation.raw === undefined ? text : text.replace(RAW_JSON, mutation.raw));
}

/** Every field of a body schema, descending into objects and the first element of arrays of objects. */
function fieldsOf(judge: SchemaJudge, schema: Schema, root: Schema, path: (string | number)[] = []): Array<{ path: (string | number)[]; required: boolean }> {
  const s = judge.resolve(schema, root);
  const fields: Array<{ path: (string | number)[]; required: boolean }> = [];
  const required = new Set<string>(Array.isArray(s.required) ? s.required : []);
  for (const [name, property] of Object.entries<Schema>(s.properties ?? {})) {
    const fieldPath = [...path, name];
    fields.push({ path: fieldPath, required: required.has(name) });
    const resolved = judge.resolve(property, root);
    if (resolved.type === "object") fields.push(...fieldsOf(judge, resolved, root, fieldPath));
    if (resolved.type === "array" && resolved.items) {
      const items = judge.resolve(resolved.items, root);
      if (items.type === "object") fields.push(...fieldsOf(judge, items, root, [...fieldPath, 0]));
    }
  }
  return fields;
}

/** A minimal valid value for a schema, preferring the context's real resources by field name. */
function synthesize(judge: SchemaJudge, schema: Schema, root: Schema, known: Record<string, string>, name?: string): unknown {
  if (name !== undefined && known[name] !== undefined) return known[name];
  const s = judge.resolve(schema, root);
  const options: Schema[] | undefined = s.anyOf ?? s.oneOf;
  if (options) return synthesize(judge, options.find((o) => judge.resolve(o, root).type !== "null") ?? options[0]!, root, known, name);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "integer":
    case "number": {
      const low = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? Math.floor(s.exclusiveMinimum) + 1 : 1;
      const value = Math.max(low, 1);
      return typeof s.maximum === "number" ? Math.min(value, s.maximum) : value;
    }
    case "string": {
      if (s.format === "uuid") return "00000000-0000-4000-8000-000000000000";
      if (s.format === "date-time") return new Date(Date.now() + 86_400_000).toISOString();
      const candidates = ["fuzz", "a", "1", "fuzz-1"].map((c) => c.padEnd(s.minLength ?? 0, "z"));
      return candidates.find((c) => judge.isValid(s, c, root)) ?? candidates[0];
    }
    case "boolean":
      return true;
    case "array":
      return Array.from({ length: Math.max(s.minItems ?? 1, 1) }, () => synthesize(judge, s.items ?? {}, root, known));
    case "object": {
      const value: Record<string, unknown> = {};
      for (const key of s.required ?? []) value[key] = synthesize(judge, s.properties?.[key] ?? {}, root, known, key);
      return value;
    }
    default:
      return "fuzz";
  }
}

/** A body the operation must refuse whatever else the request gets right, or undefined when none can be made. */
function refusedBody(judge: SchemaJudge, schema: Schema | undefined, base: unknown): Buffer | undefined {
  if (!schema) return undefined;
  const s = judge.resolve(schema, schema);
  const tries: unknown[] = [];
  if (base && typeof base === "object" && !Array.isArray(base)) {
    if (s.additionalProperties === false) tries.push({ ...base, "fuzz-unknown-property": 1 });
    for (const key of s.required ?? []) {
      const copy: Record<string, unknown> = { ...(base as Record<string, unknown>) };
      delete copy[key];
      tries.push(copy);
    }
  }
  tries.push([]);
  for (const attempt of tries) {
    const body = Buffer.from(JSON.stringify(attempt));
    if (!judge.isValidBody(schema, body)) return body;
  }
  return undefined;
}

/** A header value meaning "send this header not at all" (to drop a required one, or the default content type). */
const OMIT = "\u0000omit";

/**
 * The cases for every operation: all candidates per target (credentials, each parameter, each body
 * field, the body as a whole, encodings, framing, methods), then drawn round-robin across targets
 * until `perOperation`, so that no parameter goes untested when the budget is small.
 */
export function fuzzCases(operations: Operation[], context: FuzzContext, random: Random, perOperation: number): FuzzCase[] {
  const { judge, known } = context;
  const documentedMethods = new Map<string, Set<string>>();
  for (const op of operations) (documentedMethods.get(op.template) ?? documentedMethods.set(op.template, new Set()).get(op.template)!).add(op.method);
  const cases: FuzzCase[] = [];
  let keyCounter = 0;

  for (const op of operations) {
    const writes = op.method !== "GET";
    const root = op.body ?? {};
    const baseBody = op.body ? synthesize(judge, op.body, root, known) : undefined;
    const baseBodyBytes = baseBody === undefined ? undefined : Buffer.from(JSON.stringify(baseBody));
    const invalidBody = writes ? refusedBody(judge, op.body, baseBody) : undefined;
    // A write needs a body it is sure to refuse, or a mutated path or header could make it succeed: skipped without one.
    if (writes && !invalidBody) continue;

    const pathParams = op.parameters.filter((p) => p.in === "path");
    const baseParams: Record<string, string> = {};
    for (const p of pathParams) baseParams[p.name] = String(synthesize(judge, p.schema, p.schema, known, p.name));
    /** The path with `values`; the base values are encoded, a mutated one (`raw`) goes in verbatim. */
    const pathFrom = (values: Record<string, string>, encodeAll = true) =>
      op.template.replace(/\{([^}]+)\}/g, (_, name: string) =>
        encodeAll || values[name] === baseParams[name] ? encodeURIComponent(values[name]!) : values[name]!,
      );
    const basePath = pathFrom(baseParams);
    const baseHeaders = (): Record<string, string | string[]> => {
      const headers: Record<string, string | string[]> = {};
      for (const p of op.parameters.filter((q) => q.in === "header" && q.required)) {
        headers[p.name] =
          p.name.toLowerCase() === "idempotency-key" ? `fuzz-key-${++keyCounter}` : String(synthesize(judge, p.schema, p.schema, known, p.name));
      }
      return headers;
    };

    const draft = (
      target: string,
      mutation: string,
      parts: Partial<Draft> & { auth?: CredentialMode; extraHeaders?: Record<string, string | string[]> },
    ): Draft => {
      const credentials = parts.auth ?? "owner";
      const headers: Record<string, string | string[]> = { ...baseHeaders(), ...parts.headers };
      const authorization = context.authorization(op, credentials);
      if (authorization !== undefined && headers.authorization === undefined) headers.authorization = authorization;
      if (parts.body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
      Object.assign(headers, parts.extraHeaders);
      for (const [name, value] of Object.entries(headers)) if (value === OMIT) delete headers[name];
      return {
        operation: op.key,
        target,
        mutation,
        credentials,
        method: parts.method ?? op.method,
        path: parts.path ?? basePath,
        headers,
        body: parts.body,
        chunked: parts.chunked,
        mustReject: parts.mustReject ?? (writes || (op.secured && credentials !== "owner")),
      };
    };
    const byTarget = new Map<string, Candidate[]>();
    const add = (target: string, build: () => Draft | undefined) => (byTarget.get(target) ?? byTarget.set(target, []).get(target)!).push({ target, build });

    // Credentials: a write gets its valid body here, so a missing check would show as a change.
    for (const mode of NON_OWNER_MODES) add("credentials", () => draft("credentials", mode, { auth: mode, body: baseBodyBytes, mustReject: op.secured }));
    add("credentials", () =>
      draft("credentials", "gateway identity headers without a token", {
        auth: "none",
        body: baseBodyBytes,
        extraHeaders: { "x-user-id": context.otherUserId, "x-user-roles": "admin" },
        mustReject: op.secured,
      }),
    );
    add("credentials", () => {
      const owner = context.authorization(op, "owner");
      if (!owner) return undefined;
      return draft("credentials", "two Authorization headers (valid, then garbage)", {
        headers: { authorization: [owner, "Bearer garbage"] },
        body: writes ? invalidBody : undefined,
        mustReject: true,
      });
    });
    add("credentials", () =>
      draft("credentials", "Basic scheme", {
        auth: "garbage",
        headers: { authorization: "Basic ZnV6ejpmdXp6" },
        body: writes ? invalidBody : undefined,
        mustReject: op.secured || writes,
      }),
    );

    // Path parameters, one at a time.
    for (const p of pathParams) {
      const values: Array<{ label: string; value: string; mustReject?: boolean }> = PATH_VALUES.map((v) => ({
        label: v.length > 40 ? `${v.length} characters` : v,
        value: v,
      }));
      // Someone else's resources with the owner's token: refused whatever the method (BOLA).
      if (p.name === "userId") values.push({ label: "another user", value: context.otherUserId, mustReject: true });
      for (const { label, value, mustReject } of values) {
        add(`path.${p.name}`, () =>
          draft(`path.${p.name}`, label, {
            path: pathFrom({ ...baseParams, [p.name]: value }, false),
            body: invalidBody,
            ...(mustReject ? { mustReject } : {}),
          }),
        );
      }
    }

    // The path as a whole.
    const rest = basePath.slice("/api/v1/".length);
    const pathTricks: Array<[string, string]> = [
      ["double slash", `/api/v1//${rest}`],
      ["trailing slash", `${basePath}/`],
      ["trailing /..", `${basePath}/..`],
      ["trailing /%2e%2e", `${basePath}/%2e%2e`],
      ["dot segment", `/api/v1/./${rest}`],
      ["dot-dot segment", `/api/v1/x/../${rest}`],
      ["encoded dot-dot segment", `/api/v1/x/%2e%2e/${rest}`],
      ["upper case", `/API/V1/${rest}`],
      ["encoded slashes", `/api/v1/${rest.replaceAll("/", "%2F")}`],
      ["matrix parameter", `${basePath};jsessionid=1`],
      ["backslash", `/api/v1\\${rest}`],
      ["absolute form", `http://169.254.169.254${basePath}`],
      ["NUL appended", `${basePath}%00`],
    ];
    if (op.template.includes("{userId}")) {
      pathTricks.push(["another user through ..", basePath.replace(`/users/${baseParams.userId}/`, `/users/${baseParams.userId}/../${context.otherUserId}/`)]);
      pathTricks.push([
        "another user through encoded ..",
        basePath.replace(`/users/${baseParams.userId}/`, `/users/${baseParams.userId}%2f..%2f${context.otherUserId}/`),
      ]);
    }
    for (const [label, path] of pathTricks)
      add("path", () => draft("path", label, { path, body: invalidBody, ...(label.startsWith("another user") ? { mustReject: true } : {}) }));

    // Query parameters, then the query string as a whole.
    for (const p of op.parameters.filter((q) => q.in === "query")) {
      for (const value of QUERY_VALUES)
        add(`query.${p.name}`, () =>
          draft(`query.${p.name}`, value.length > 40 ? `${value.length} characters` : JSON.stringify(value), {
            path: `${basePath}?${p.name}=${value}`,
            body: invalidBody,
          }),
        );
      add(`query.${p.name}`, () => draft(`query.${p.name}`, "repeated", { path: `${basePath}?${p.name}=1&${p.name}=2`, body: invalidBody }));
      add(`query.${p.name}`, () => draft(`query.${p.name}`, "array syntax", { path: `${basePath}?${p.name}[]=1`, body: invalidBody }));
      add(`query.${p.name}`, () => draft(`query.${p.name}`, "object syntax", { path: `${basePath}?${p.name}[a]=1`, body: invalidBody }));
    }
    for (const [label, query] of [
      ["unknown parameter", "fuzz=1"],
      ["__proto__", "__proto__[isAdmin]=1"],
      ["undecodable name", "%ff=1"],
      ["4,000-character query", `q=${"a".repeat(4_000)}`],
      ["10,000-character query", `q=${"a".repeat(10_000)}`],
    ]) {
      add("query", () => draft("query", label!, { path: `${basePath}?${query}`, body: invalidBody }));
    }

    // Header parameters.
    for (const p of op.parameters.filter((q) => q.in === "header")) {
      for (const { label, value } of HEADER_VALUES)
        add(`header.${p.name}`, () => draft(`header.${p.name}`, label, { headers: { [p.name]: value }, body: invalidBody }));
      if (p.required) add(`header.${p.name}`, () => draft(`header.${p.name}`, "missing", { headers: { [p.name]: OMIT }, body: invalidBody }));
    }

    if (op.body && baseBody !== undefined) {
      // Body fields, one at a time: sent to a write only when the value makes the body invalid.
      for (const field of fieldsOf(judge, op.body, root)) {
        const target = `body.${field.path.join(".")}`;
        const mutations: Array<JsonMutation | "missing"> = [...JSON_MUTATIONS, ...(field.required ? ["missing" as const] : [])];
        for (const mutation of mutations) {
          add(target, () => {
            const body = bodyWith(baseBody, field.path, mutation);
            if (writes && judge.isValidBody(op.body, body)) return undefined;
            return draft(target, mutation === "missing" ? "missing" : mutation.label, { body });
          });
        }
      }
      // The body as a whole.
      const valid = baseBodyBytes!.toString("utf8");
      const wholeBodies: Array<[string, Buffer]> = [
        ["an array", Buffer.from("[]")],
        ["a string", Buffer.from('"fuzz"')],
        ["null", Buffer.from("null")],
        ["a number", Buffer.from("1")],
        ["empty", Buffer.alloc(0)],
        ["truncated", Buffer.from(valid.slice(0, -1))],
        ["trailing garbage", Buffer.from(`${valid}xyz`)],
        ["single quotes", Buffer.from(valid.replaceAll('"', "'"))],
        ["a comment", Buffer.from(`/* fuzz */${valid}`)],
        ["__proto__ property", Buffer.from(`${valid.slice(0, -1)},"__proto__":{"isAdmin":true}}`)],
        ["an unknown property", Buffer.from(`${valid.slice(0, -1)},"isAdmin":true}`)],
        ["arrays nested 20,000 deep", Buffer.from(`${"[".repeat(20_000)}${"]".repeat(20_000)}`)],
        ["a 1 MiB string property", Buffer.from(JSON.stringify({ ...(baseBody as object), pad: "a".repeat(1 << 20) }))],
        ["invalid UTF-8 in a string", Buffer.concat([Buffer.from('{"fuzz-unknown-property":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')])],
        ["UTF-8-encoded lone surrogate", Buffer.concat([Buffer.from('{"fuzz-unknown-property":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])],
        ["invalid UTF-8 outside strings", Buffer.concat([Buffer.from("{"), Buffer.from([0xff, 0xfe]), Buffer.from("}")])],
        ["truncated multi-byte character", Buffer.concat([Buffer.from('{"fuzz-unknown-property":"'), Buffer.from([0xe2, 0x82])])],
        ["UTF-16 with a byte-order mark", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(invalidBody?.toString("utf8") ?? "{}", "utf16le")])],
      ];
      for (const [label, body] of wholeBodies) {
        add("body", () => {
          if (writes && judge.isValidBody(op.body, body)) return undefined;
          return draft("body", label, { body });
        });
      }

      // Media types: a write takes application/json only, even with an otherwise valid body
      // (a text/plain body is what a cross-site form can send without a preflight).
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=fuzz",
        "application/xml",
        OMIT,
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "application/jsonx",
      ]) {
        add("content-type", () => draft("content-type", type === OMIT ? "none" : type, { headers: { "content-type": type }, body: baseBodyBytes }));
      }
      // Encodings: none of these is a body the service can read.
      const encodings: Array<[string, string, Buffer]> = [
        ["gzip", "gzip with bytes that are not gzip", garbage(1)],
        ["deflate", "deflate with bytes that are not deflate", garbage(2)],
        ["br", "br with bytes that are not brotli", garbage(3)],
        ["GZIP", "upper-case GZIP with bytes that are not gzip", garbage(4)],
        ["gzip", "gzip truncated", gzipSync(baseBodyBytes!).subarray(0, 12)],
        ["gzip", "gzip of 10 MiB of zeros", gzipSync(Buffer.alloc(10 << 20))],
        ["deflate", "deflate of 10 MiB of spaces", deflateSync(Buffer.alloc(10 << 20, 0x20))],
        ["br", "brotli of an invalid body", brotliCompressSync(invalidBody ?? Buffer.from("[]"))],
        ["x-fuzz", "an unknown encoding", baseBodyBytes!],
        ["gzip, gzip", "gzip twice declared, once applied", gzipSync(baseBodyBytes!)],
        ["compress", "compress (unsupported)", baseBodyBytes!],
      ];
      for (const [encoding, label, body] of encodings) add("encoding", () => draft("encoding", label, { headers: { "content-encoding": encoding }, body }));
      add("framing", () => draft("framing", "chunked body", { body: invalidBody, chunked: true }));
    }

    if (!writes) {
      // A body on a GET is what request smuggling through a proxy looks like.
      add("framing", () => draft("framing", "GET with a Content-Length body", { body: Buffer.from("{}"), mustReject: true }));
      add("framing", () => draft("framing", "GET with a chunked body", { body: Buffer.from("{}"), chunked: true, mustReject: true }));
      add("encoding", () => draft("encoding", "GET with a gzip encoding and no body", { headers: { "content-encoding": "gzip" } }));
    }

    // Methods the document does not list for this path.
    const documented = documentedMethods.get(op.template)!;
    for (const method of ["PUT", "PATCH", "DELETE", "POST", "TRACE"].filter((m) => !documented.has(m))) {
      const body = method === "PUT" || method === "PATCH" || method === "POST" ? Buffer.from('{"fuzz-unknown-property":1}') : undefined;
      add("method", () => draft("method", method, { method, body, mustReject: true }));
    }

    // Draw round-robin across targets, each target's candidates in a seeded order.
    const targets = random.shuffle([...byTarget.keys()].sort());
    const queues = new Map(targets.map((t) => [t, random.shuffle([...byTarget.get(t)!])]));
    const drawn: Draft[] = [];
    while (drawn.length < perOperation && [...queues.values()].some((q) => q.length)) {
      for (const target of targets) {
        if (drawn.length >= perOperation) break;
        const queue = queues.get(target)!;
        while (queue.length) {
          const built = queue.shift()!.build();
          if (built) {
            drawn.push(built);
            break;
          }
        }
      }
    }
    // Some mutations go without the right credential too: validation must not run before authentication leaks anything.
    for (const item of drawn) {
      if (item.target === "credentials" || item.credentials !== "owner" || random.next() >= 0.15) continue;
      // The other user's token on a path naming the other user is that user's own request: nothing to refuse.
      if (item.mutation.startsWith("another user")) continue;
      const mode = random.pick(NON_OWNER_MODES);
      const authorization = context.authorization(op, mode);
      if (authorization === undefined) delete item.headers.authorization;
      else item.headers.authorization = authorization;
      item.credentials = mode;
      item.mustReject = item.mustReject || op.secured;
    }
    for (const item of drawn) cases.push({ id: cases.length + 1, ...item });
  }
  return cases;
}
