import { addProblemCases } from "@shop/http-kit";
import { matchRoute, type RouteMatch } from "./routing.ts";

export interface DocumentSource {
  name: string;
  baseUrl: string;
}

type JsonObject = Record<string, unknown>;
export type ApiDocument = JsonObject & { paths: Record<string, JsonObject>; "x-missing-services": string[] };

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

async function fetchDocument(source: DocumentSource, timeoutMs: number): Promise<JsonObject> {
  const response = await fetch(`${source.baseUrl}/openapi.json`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${source.name} answered ${response.status}`);
  const document: unknown = await response.json();
  if (!isObject(document) || !isObject(document.paths)) throw new Error(`${source.name} sent no OpenAPI paths`);
  return document;
}

const WRITE_METHODS = new Set(["post", "put", "patch", "delete"]);

const API_DESCRIPTION = `The shop's public API, served through the gateway. Money and quantities are integer KRW and units.

**Tokens.** Operations marked with a lock need \`Authorization: Bearer <JWT>\`. Locally, \`npm run token -- minji\` (from anywhere in the
repository) prints a 12-hour token for the user \`minji\`, and \`npm run token -- ops admin\` one with the admin role; in Swagger UI,
paste it into *Authorize* without the word Bearer. A user may only name themself as \`{userId}\`; admins may name anyone.

**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`code\`; each operation lists its statuses and their codes.
Any path answers a method it does not have with 405 \`METHOD_NOT_ALLOWED\` and an \`Allow\` header; a body that is not JSON is 415.
Invalid input is always a 4xx and changes nothing.

**Paging.** A list answers \`{items, nextCursor}\`; pass \`nextCursor\` unchanged as \`cursor\` for the next page (any other value is a 400).

**Retries.** \`POST …/orders\` requires, and \`POST …/balance/charges\` accepts, an \`Idempotency-Key\` (1-255 characters, kept 24 hours):
the same key with the same body returns the first answer again and has no further effect; with another body it is 422.

**Rate limits.** Writes are limited per user, requests without a valid token per client address: 429 with \`Retry-After\`.`;

const TAGS = [
  { name: "Wallet", description: "Balances, charges and the ledger" },
  { name: "Catalog", description: "Products with live stock, and the best sellers" },
  { name: "Catalog admin", description: "Product management (admin role)" },
  { name: "Coupons", description: "First-come-first-served coupon campaigns and the user's coupons" },
  { name: "Coupons admin", description: "Campaign management (admin role)" },
  { name: "Orders", description: "Orders, paid from the wallet by a saga" },
  { name: "Payments", description: "The payments of a user's orders" },
];

const SERVERS = [
  { url: "/", description: "The gateway that serves this document" },
  { url: "http://127.0.0.1:8080", description: "Local gateway (`npm start`)" },
  { url: "http://127.0.0.1:4010", description: "Mock answering with this document's examples (`npm run mock`)" },
];

const BEARER_AUTH = {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description:
    "A JWT whose `sub` is the user id; a `roles` array containing `admin` grants the admin operations. Locally: `npm run token -- minji` " +
    "(or `npm run token -- ops admin`) prints an HS256 token signed with `JWT_SECRET`, issuer `ecommerce-local`, audience `ecommerce-api`. " +
    "Tokens of an identity provider (RS256/ES256) are accepted when the gateway is given its JWKS URL.",
};

/** What the gateway itself may answer for an operation, besides what the service documents. */
function addGatewayProblems(responses: JsonObject, method: string, match: RouteMatch | undefined, upstream: string): void {
  const secured = match?.access !== "public";
  if (secured)
    addProblemCases(responses, 401, [{ code: "UNAUTHORIZED", example: { summary: "No Authorization header", detail: "a Bearer token is required" } }]);
  // Callers without a valid token are limited per address (on a secured route they were refused with 401 first); users on writes.
  if (!secured)
    addProblemCases(responses, 429, [
      { code: "RATE_LIMITED", example: { summary: "Too many requests from this address", detail: "too many requests from this client; slow down or sign in" } },
    ]);
  else if (match?.access === "user" && WRITE_METHODS.has(method))
    addProblemCases(responses, 429, [
      { code: "RATE_LIMITED", example: { summary: "Too many writes by this user", detail: "too many write requests; slow down" } },
    ]);
  addProblemCases(responses, 502, [
    { code: "BAD_GATEWAY", example: { summary: "The service is unreachable", detail: `the ${upstream} service could not be reached` } },
  ]);
  addProblemCases(responses, 503, [
    {
      code: "SERVICE_UNAVAILABLE",
      example: { summary: "The service is failing; requests are paused", detail: `the ${upstream} service is failing; requests are paused` },
    },
  ]);
  addProblemCases(responses, 504, [
    { code: "GATEWAY_TIMEOUT", example: { summary: "The service did not answer in time", detail: `the ${upstream} service did not answer in time` } },
  ]);
}

/**
 * One OpenAPI 3.1 document for the public API: each upstream's paths and component schemas, with
 * `bearerAuth` on every operation the gateway does not serve publicly (decided by the same route
 * table that enforces it) and the answers the gateway gives itself (401, 429, 502-504).
 */
export function mergeDocuments(documents: Array<{ name: string; document: JsonObject }>, missing: string[]): ApiDocument {
  const paths: Record<string, JsonObject> = {};
  const schemas: JsonObject = {};
  for (const { name, document } of documents) {
    for (const [path, item] of Object.entries(document.paths as JsonObject)) {
      if (!isObject(item)) continue;
      const merged: JsonObject = { ...paths[path] };
      for (const [key, value] of Object.entries(item)) {
        if (!HTTP_METHODS.has(key) || !isObject(value)) {
          merged[key] = value;
          continue;
        }
        const match = matchRoute(key.toUpperCase(), path);
        const responses = structuredClone(isObject(value.responses) ? value.responses : {});
        addGatewayProblems(responses, key, match, name);
        merged[key] = { ...value, tags: value.tags ?? [name], security: match?.access === "public" ? [] : [{ bearerAuth: [] }], responses };
      }
      paths[path] = merged;
    }
    const components = document.components;
    // Services share schema names only for shared shapes (Problem), so the first copy stands for all.
    if (isObject(components) && isObject(components.schemas))
      for (const [schemaName, schema] of Object.entries(components.schemas)) schemas[schemaName] ??= schema;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Shop API", version: "1.0.0", description: API_DESCRIPTION },
    servers: SERVERS,
    tags: TAGS,
    paths,
    components: { schemas, securitySchemes: { bearerAuth: BEARER_AUTH } },
    "x-missing-services": missing,
  };
}

/**
 * The merged document, rebuilt at most every `ttlMs`. Upstreams that do not answer are left out
 * and named in `x-missing-services`; concurrent callers share one rebuild.
 */
export function createDocumentProvider(sources: DocumentSource[], options: { ttlMs?: number; fetchTimeoutMs?: number } = {}): () => Promise<ApiDocument> {
  const ttlMs = options.ttlMs ?? 30_000;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 2000;
  let cached: { document: Promise<ApiDocument>; builtAt: number } | undefined;

  const build = async (): Promise<ApiDocument> => {
    const results = await Promise.allSettled(sources.map((source) => fetchDocument(source, fetchTimeoutMs)));
    const documents: Array<{ name: string; document: JsonObject }> = [];
    const missing: string[] = [];
    results.forEach((result, i) => {
      const { name } = sources[i]!;
      if (result.status === "fulfilled") documents.push({ name, document: result.value });
      else missing.push(name);
    });
    return mergeDocuments(documents, missing);
  };

  return () => {
    if (!cached || Date.now() - cached.builtAt > ttlMs) cached = { document: build(), builtAt: Date.now() };
    return cached.document;
  };
}
