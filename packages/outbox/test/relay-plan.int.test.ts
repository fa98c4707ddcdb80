// The outbox is a queue: right after autovacuum its statistics say "empty", while the rows
// relayed since lie dead in its pages. The relay's statements must read it through the primary
// key then too, not with a sequential scan of every dead row on every poll.
import pg from "pg";
import { createTestSchema, type TestSchema } from "@shop/testing";
import { outboxTablesDdl } from "../src/index.ts";
import { relayConnectionConfig, relayStatements } from "../src/relay.ts";

let db: TestSchema;
let relayConnection: pg.Client;

/** Every plan node type of a statement, as the relay's connection would run it. */
async function planNodes(statement: string, values: unknown[]): Promise<string[]> {
  const { rows } = await relayConnection.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement}`, values);
  const nodes: string[] = [];
  const walk = (node: PlanNode) => {
    nodes.push(node["Index Name"] ? `${node["Node Type"]} ${node["Index Name"]}` : node["Node Type"]);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(rows[0]!["QUERY PLAN"][0].Plan);
  return nodes;
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

beforeAll(async () => {
  db = await createTestSchema({ sql: outboxTablesDdl, label: "relayplan" });
  // Rows relayed, then autovacuum: no pages, no rows. This is when PostgreSQL plans the relay's
  // (prepared) statements again, and the plan it makes stays while dead rows pile up until the
  // next vacuum.
  await db.query(
    `INSERT INTO outbox_events (event_id, topic, key, payload) SELECT gen_random_uuid(), 't', 'k', jsonb_build_object('n', n) FROM generate_series(1, 500) AS n`,
  );
  await db.query("DELETE FROM outbox_events");
  await db.query("VACUUM outbox_events");
  relayConnection = new pg.Client(relayConnectionConfig(db.connection, db.schema));
  await relayConnection.connect();
});
afterAll(async () => {
  await relayConnection?.end();
  await db?.drop();
});

const table = () => `"${db.schema}".outbox_events`;

test("the relay reads the oldest rows through the primary key, not by scanning and sorting the table", async () => {
  const nodes = await planNodes(relayStatements(table()).read, [500]);
  expect(nodes).toContain("Index Scan outbox_events_pkey");
  expect(nodes).not.toContain("Seq Scan");
  expect(nodes).not.toContain("Sort");
});

test("the relay deletes what it published and reads the next rows through the primary key", async () => {
  const nodes = await planNodes(relayStatements(table()).deleteAndRead, [["1", "2", "3"], 500]);
  expect(nodes).toContain("Index Scan outbox_events_pkey");
  expect(nodes).not.toContain("Seq Scan");
});
