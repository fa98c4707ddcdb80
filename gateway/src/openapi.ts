import { matchRoute } from "./routing.ts";

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

/**
 * One OpenAPI 3.1 document for the public API: each upstream's paths and component schemas, with
 * `bearerAuth` on every operation the gateway does not serve publicly (decided by the same route
 * table that enforces it).
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
        const isPublic = matchRoute(key.toUpperCase(), path)?.access === "public";
        merged[key] = { ...value, tags: value.tags ?? [name], security: isPublic ? [] : [{ bearerAuth: [] }] };
      }
      paths[path] = merged;
    }
    const components = document.components;
    // Services share schema names only for shared shapes (Problem), so the first copy stands for all.
    if (isObject(components) && isObject(components.schemas)) for (const [schemaName, schema] of Object.entries(components.schemas)) schemas[schemaName] ??= schema;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Shop API",
      version: "1.0.0",
      description: "Public API of the shop, served through the gateway. Send `Authorization: Bearer <JWT>` on every operation marked with a lock.",
    },
    paths,
    components: { schemas, securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
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
