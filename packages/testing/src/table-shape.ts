import type { TestSchema } from "./database.ts";

/** A table as PostgreSQL holds it, with nothing that names the schema it lives in. */
export interface TableShape {
  table: string;
  /** In column order; dropped columns left out. */
  columns: { name: string; type: string; notNull: boolean; default: string | null; identity: string; generated: string; collation: string | null }[];
  /** By name, with the definition PostgreSQL prints (`CREATE UNIQUE INDEX … USING btree (…)`). */
  indexes: { name: string; definition: string }[];
  /** Primary keys, uniques, checks, foreign keys, exclusions, by name. */
  constraints: { name: string; kind: string; definition: string }[];
  triggers: { name: string; definition: string }[];
}

const COLUMNS = `
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
         pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity::text AS identity, a.attgenerated::text AS generated,
         CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END AS collation
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const INDEXES = `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass ORDER BY c.relname`;

const CONSTRAINTS = `SELECT conname AS name, contype::text AS kind, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname`;

const TRIGGERS = `SELECT tgname AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`;

/**
 * Reads the given tables of a test schema from pg_catalog. Schema-qualified names in definitions
 * and defaults are unqualified, so tables of two schemas compare equal when they were created alike.
 * A table that does not exist comes back as null.
 */
export async function describeTables(db: Pick<TestSchema, "schema" | "query">, tables: readonly string[]): Promise<Record<string, TableShape | null>> {
  const unqualified = (text: string) => text.split(`"${db.schema}".`).join("").split(`${db.schema}.`).join("");
  const shapes: Record<string, TableShape | null> = {};
  for (const table of tables) {
    const relation = `"${db.schema}"."${table}"`;
    const [found] = await db.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [relation]);
    if (!found?.exists) {
      shapes[table] = null;
      continue;
    }
    const columns = await db.query<TableShape["columns"][number]>(COLUMNS, [relation]);
    const indexes = await db.query<TableShape["indexes"][number]>(INDEXES, [relation]);
    const constraints = await db.query<TableShape["constraints"][number]>(CONSTRAINTS, [relation]);
    const triggers = await db.query<TableShape["triggers"][number]>(TRIGGERS, [relation]);
    shapes[table] = {
      table,
      columns: columns.map((c) => ({ ...c, default: c.default === null ? null : unqualified(c.default) })),
      indexes: indexes.map((i) => ({ ...i, definition: unqualified(i.definition) })),
      constraints: constraints.map((c) => ({ ...c, definition: unqualified(c.definition) })),
      triggers: triggers.map((t) => ({ ...t, definition: unqualified(t.definition) })),
    };
  }
  return shapes;
}

const show = (value: unknown) => JSON.stringify(value);

/** Items keyed by name: what is missing, extra, or different in `actual`, one line each. */
function diffNamed<T extends { name: string }>(what: string, expected: T[], actual: T[]): string[] {
  const differences: string[] = [];
  const actualByName = new Map(actual.map((item) => [item.name, item]));
  for (const want of expected) {
    const got = actualByName.get(want.name);
    if (!got) differences.push(`${what} ${want.name} is missing (expected ${show(want)})`);
    else if (show(got) !== show(want)) differences.push(`${what} ${want.name} differs: expected ${show(want)}, got ${show(got)}`);
  }
  const expectedNames = new Set(expected.map((item) => item.name));
  for (const got of actual) if (!expectedNames.has(got.name)) differences.push(`${what} ${got.name} is not expected (${show(got)})`);
  return differences;
}

/**
 * Every way `actual` differs from `expected`, one readable line each (empty when they agree):
 * missing or extra tables, columns (type, nullability, default, identity, collation, position),
 * indexes, constraints and triggers.
 */
export function diffTableShapes(expected: Record<string, TableShape | null>, actual: Record<string, TableShape | null>): string[] {
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const want = expected[table] ?? null;
    const got = actual[table] ?? null;
    if (!want && !got) continue;
    if (!want) {
      differences.push(`${table}: table is not expected`);
      continue;
    }
    if (!got) {
      differences.push(`${table}: table is missing`);
      continue;
    }
    const lines = [
      ...diffNamed("column", want.columns, got.columns),
      ...diffNamed("index", want.indexes, got.indexes),
      ...diffNamed("constraint", want.constraints, got.constraints),
      ...diffNamed("trigger", want.triggers, got.triggers),
    ];
    const order = (shape: TableShape) => shape.columns.map((c) => c.name).join(", ");
    if (lines.length === 0 && order(want) !== order(got)) lines.push(`column order differs: expected (${order(want)}), got (${order(got)})`);
    differences.push(...lines.map((line) => `${table}: ${line}`));
  }
  return differences;
}
