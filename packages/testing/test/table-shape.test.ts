import { diffTableShapes, type TableShape } from "../src/index.ts";

/** The outbox table as a fresh schema holds it after the canonical DDL. */
const outbox = (): TableShape => ({
  table: "outbox_events",
  columns: [
    { name: "id", type: "bigint", notNull: true, default: "nextval('outbox_events_id_seq'::regclass)", identity: "", generated: "", collation: null },
    { name: "event_id", type: "uuid", notNull: true, default: null, identity: "", generated: "", collation: null },
    { name: "headers", type: "jsonb", notNull: true, default: "'{}'::jsonb", identity: "", generated: "", collation: null },
  ],
  indexes: [
    { name: "outbox_events_event_id_key", definition: "CREATE UNIQUE INDEX outbox_events_event_id_key ON outbox_events USING btree (event_id)" },
    { name: "outbox_events_pkey", definition: "CREATE UNIQUE INDEX outbox_events_pkey ON outbox_events USING btree (id)" },
  ],
  constraints: [{ name: "outbox_events_pkey", kind: "p", definition: "PRIMARY KEY (id)" }],
  triggers: [],
});

const expected = () => ({ outbox_events: outbox() });

test("given two copies created alike, when compared, then there is no difference", () => {
  expect(diffTableShapes(expected(), expected())).toEqual([]);
});

test("given a copy whose column lost its default, when compared, then the column is reported", () => {
  const copy = outbox();
  copy.columns[2] = { ...copy.columns[2]!, default: null };
  expect(diffTableShapes(expected(), { outbox_events: copy })).toEqual([
    expect.stringMatching(/^outbox_events: column headers differs: .*"default":"'\{\}'::jsonb".*"default":null/),
  ]);
});

test("given a copy with a nullable column of another type, when compared, then both are in the report", () => {
  const copy = outbox();
  copy.columns[1] = { ...copy.columns[1]!, type: "text", notNull: false };
  const [line] = diffTableShapes(expected(), { outbox_events: copy });
  expect(line).toContain("column event_id differs");
  expect(line).toContain('"type":"text","notNull":false');
});

test("given a copy with the unique index as a unique constraint, when compared, then the extra constraint is reported", () => {
  const copy = outbox();
  copy.constraints.push({ name: "outbox_events_event_id_key", kind: "u", definition: "UNIQUE (event_id)" });
  expect(diffTableShapes(expected(), { outbox_events: copy })).toEqual([expect.stringContaining("constraint outbox_events_event_id_key is not expected")]);
});

test("given a copy missing an index and with an extra one, when compared, then both are reported", () => {
  const copy = outbox();
  copy.indexes = [
    copy.indexes[1]!,
    { name: "outbox_events_created_at_idx", definition: "CREATE INDEX outbox_events_created_at_idx ON outbox_events USING btree (created_at)" },
  ];
  expect(diffTableShapes(expected(), { outbox_events: copy })).toEqual([
    expect.stringContaining("index outbox_events_event_id_key is missing"),
    expect.stringContaining("index outbox_events_created_at_idx is not expected"),
  ]);
});

test("given a copy with the same columns in another order, when compared, then the order is reported", () => {
  const copy = outbox();
  copy.columns.reverse();
  expect(diffTableShapes(expected(), { outbox_events: copy })).toEqual([
    "outbox_events: column order differs: expected (id, event_id, headers), got (headers, event_id, id)",
  ]);
});

test("given a schema without the table, or with one not expected, when compared, then the table is reported", () => {
  expect(diffTableShapes(expected(), { outbox_events: null })).toEqual(["outbox_events: table is missing"]);
  expect(diffTableShapes({ outbox_events: null }, expected())).toEqual(["outbox_events: table is not expected"]);
});
