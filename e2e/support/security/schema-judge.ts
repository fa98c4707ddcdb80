// Decides whether a JSON value is valid for a schema of the gateway's OpenAPI document, so the fuzz
// knows which of its requests must be refused. Only the JSON Schema keywords the services' zod
// schemas produce are understood; anything else is taken as "could be valid", which only ever
// makes the fuzz send less to a write endpoint, never expect a refusal the API need not give.

type Schema = Record<string, any>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Text the API can never store faithfully: NUL (PostgreSQL text refuses it) and unpaired UTF-16
 * surrogates (not representable in UTF-8). The contract's "no client input gets a 5xx" leaves
 * two answers, a 400 or a silent change of the text; the fuzz expects the 400.
 */
export const isUnstorableText = (value: string): boolean => value.includes("\u0000") || LONE_SURROGATE.test(value);

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    // Too deep to compare (a fuzz value nested thousands of levels): certainly not a schema's constant.
    return false;
  }
}

/** No schema of this API nests deeper; a value that does is invalid (and would overflow the stack to check). */
const MAX_DEPTH = 64;

function matchesType(type: string, value: unknown): boolean {
  switch (type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

export class SchemaJudge {
  constructor(private readonly document: Schema) {}

  /** `#/components/...` and `#/$defs/...` references; an unknown one resolves to "anything". */
  resolve(schema: Schema | undefined, root?: Schema): Schema {
    let current = schema ?? {};
    for (let hops = 0; typeof current.$ref === "string" && hops < 16; hops++) {
      const ref: string = current.$ref;
      const base = ref.startsWith("#/$defs/") ? root : this.document;
      const target = ref
        .replace(/^#\//, "")
        .split("/")
        .reduce<any>((node, key) => (node === undefined ? undefined : node[key.replaceAll("~1", "/").replaceAll("~0", "~")]), base);
      current = target ?? {};
    }
    return current;
  }

  isValid(schema: Schema | undefined, value: unknown, root: Schema | undefined = schema, depth = 0): boolean {
    if (depth > MAX_DEPTH) return false;
    const s = this.resolve(schema, root);
    if (s.anyOf && !(s.anyOf as Schema[]).some((option) => this.isValid(option, value, root, depth + 1))) return false;
    if (s.oneOf && !(s.oneOf as Schema[]).some((option) => this.isValid(option, value, root, depth + 1))) return false;
    if (s.allOf && !(s.allOf as Schema[]).every((part) => this.isValid(part, value, root, depth + 1))) return false;
    if (s.not && this.isValid(s.not, value, root, depth + 1)) return false;
    if ("const" in s && !deepEqual(s.const, value)) return false;
    if (Array.isArray(s.enum) && !s.enum.some((option: unknown) => deepEqual(option, value))) return false;
    if (s.type !== undefined) {
      const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.some((type) => matchesType(type, value))) return false;
    }
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return false;
      if (typeof s.minimum === "number" && value < s.minimum) return false;
      if (typeof s.maximum === "number" && value > s.maximum) return false;
      if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum) return false;
      if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum) return false;
      if (typeof s.multipleOf === "number" && value % s.multipleOf !== 0) return false;
      // zod's int() refuses integers beyond 2^53 whatever the schema's bounds say.
      if (s.type === "integer" && !Number.isSafeInteger(value)) return false;
    }
    if (typeof value === "string") {
      if (isUnstorableText(value)) return false;
      if (typeof s.minLength === "number" && value.length < s.minLength) return false;
      if (typeof s.maxLength === "number" && value.length > s.maxLength) return false;
      if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(value)) return false;
      if (s.format === "uuid" && !UUID.test(value)) return false;
      if (s.format === "date-time" && (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) || Number.isNaN(Date.parse(value)))) return false;
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === "number" && value.length < s.minItems) return false;
      if (typeof s.maxItems === "number" && value.length > s.maxItems) return false;
      if (s.items && typeof s.items === "object" && !value.every((item) => this.isValid(s.items, item, root, depth + 1))) return false;
    }
    if (matchesType("object", value)) {
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      const properties: Schema = s.properties ?? {};
      if (Array.isArray(s.required) && !s.required.every((key: string) => Object.hasOwn(object, key))) return false;
      for (const key of keys) {
        if (Object.hasOwn(properties, key)) {
          if (!this.isValid(properties[key], object[key], root, depth + 1)) return false;
        } else if (s.additionalProperties === false) {
          return false;
        } else if (typeof s.additionalProperties === "object" && !this.isValid(s.additionalProperties, object[key], root, depth + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Whether a raw JSON body (bytes on the wire) is valid, decoded as the services decode it:
   * invalid UTF-8 becomes U+FFFD and a byte-order mark is dropped, so such a body may well be valid.
   */
  isValidBody(schema: Schema | undefined, body: Buffer): boolean {
    let parsed: unknown;
    try {
      const decoded = new TextDecoder("utf-8").decode(body);
      // An empty JSON body reaches the routes as {} (body-parser).
      parsed = decoded.length === 0 ? {} : JSON.parse(decoded);
    } catch {
      return false;
    }
    return this.isValid(schema, parsed);
  }
}

export { UUID };
