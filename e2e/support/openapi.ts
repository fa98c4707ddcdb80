// Every answer the end-to-end tests get is checked against docs/openapi.json: the operation must
// document its status, and the body must match that status's schema (errors included, so a code
// the document does not list for that status fails the test). Statuses any path may answer
// (405, 414, 431; see the Problem schema) are checked against the Problem schema only.
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

type Json = Record<string, any>;

export const apiDocument = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8")) as Json;

const PATH_LEVEL_STATUSES = new Set([405, 414, 431]);
const METHODS = ["get", "put", "post", "delete", "patch"];

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(apiDocument, "openapi.json");

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const compiled = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let validate = compiled.get(ref);
  if (!validate) compiled.set(ref, (validate = ajv.compile({ $ref: `openapi.json#/${ref}` })));
  return validate;
}

const templates = Object.keys(apiDocument.paths as Json).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
}));

/** The document's path template for a request path (query string ignored), preferring literal segments (`/products/top`). */
export function templateOf(path: string): string | undefined {
  const bare = path.split("?")[0]!;
  const matches = templates.filter((t) => t.pattern.test(bare)).map((t) => t.template);
  return matches.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

export interface CheckedAnswer {
  method: string;
  /** Request path, `/api/v1/...`, with or without a query string. */
  path: string;
  status: number;
  contentType: string | null;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

/** What is wrong with `answer` according to the document; empty when it conforms. */
export function violationsOf(answer: CheckedAnswer): string[] {
  const method = answer.method.toLowerCase() === "head" ? "get" : answer.method.toLowerCase();
  const template = templateOf(answer.path);
  const where = `${answer.method} ${answer.path.split("?")[0]} → ${answer.status}`;
  if (!template) return answer.status === 404 ? [] : [`${where}: no path of the document matches`];
  const operation = METHODS.includes(method) ? (apiDocument.paths[template][method] as Json | undefined) : undefined;
  if (!operation || PATH_LEVEL_STATUSES.has(answer.status)) {
    if (!operation && answer.status !== 405) return [`${where}: the document has no ${method.toUpperCase()} ${template}, and the answer is not 405`];
    return answer.body === undefined || validatorFor("components/schemas/Problem")(answer.body)
      ? []
      : [`${where}: ${ajv.errorsText(validatorFor("components/schemas/Problem").errors)}`];
  }
  const response = operation.responses[String(answer.status)] as Json | undefined;
  if (!response) return [`${where}: status not documented for ${operation.operationId} (documented: ${Object.keys(operation.responses).join(", ")})`];
  if (answer.body === undefined) return response.content ? [`${where}: the document promises a body, none came`] : [];
  const mediaType = (answer.contentType ?? "").split(";")[0]!.trim();
  if (!response.content?.[mediaType])
    return [`${where}: media type ${mediaType || "(none)"} not documented (documented: ${Object.keys(response.content ?? {}).join(", ")})`];
  const validate = validatorFor(pointer("paths", template, method, "responses", String(answer.status), "content", mediaType, "schema"));
  return validate(answer.body) ? [] : [`${where}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 500)}`];
}

/** Throws when `answer` does not conform to the document. */
export function expectDocumented(answer: CheckedAnswer): void {
  const violations = violationsOf(answer);
  if (violations.length) throw new Error(`answer not as docs/openapi.json says:\n${violations.join("\n")}`);
}
