import { randomBytes } from "node:crypto";
import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { avroSchemas, checkAllEventSchemas, checkCompatibility, registerEventSchema, subjectOf, topicOf, type EventName } from "../src/index.ts";

const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081/apis/ccompat/v7";
const registry = new SchemaRegistry({ host: registryUrl });

const v1 = {
  type: "record",
  name: "CompatProbe",
  namespace: "shop.test",
  fields: [
    { name: "eventId", type: "string" },
    { name: "amount", type: "long" },
  ],
};

async function registerV1(): Promise<string> {
  const subject = `compat-${randomBytes(4).toString("hex")}-value`;
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
  return subject;
}

test("a field added with a default is a compatible change", async () => {
  const subject = await registerV1();
  const verdict = await checkCompatibility(registryUrl, subject, { ...v1, fields: [...v1.fields, { name: "note", type: "string", default: "" }] });
  expect(verdict.compatible).toBe(true);
});

test("a field added without a default is rejected (old records could not be read)", async () => {
  const subject = await registerV1();
  const verdict = await checkCompatibility(registryUrl, subject, { ...v1, fields: [...v1.fields, { name: "currency", type: "string" }] });
  expect(verdict.compatible).toBe(false);
});

test("a changed field type is rejected", async () => {
  const subject = await registerV1();
  const verdict = await checkCompatibility(registryUrl, subject, { ...v1, fields: [v1.fields[0], { name: "amount", type: "string" }] });
  expect(verdict.compatible).toBe(false);
});

test("the registry refuses to register an incompatible version", async () => {
  const subject = await registerV1();
  await expect(
    registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ ...v1, fields: [v1.fields[0], { name: "amount", type: "string" }] }) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    ),
  ).rejects.toThrow();
});

test("the repository's schemas pass the check against a fresh environment, and against themselves once registered", async () => {
  const prefix = `compat${randomBytes(4).toString("hex")}.`;
  expect((await checkAllEventSchemas(registryUrl, prefix)).every((v) => v.compatible)).toBe(true);
  for (const name of Object.keys(avroSchemas) as EventName[]) await registerEventSchema(registry, name, prefix);
  const verdicts = await checkAllEventSchemas(registryUrl, prefix);
  expect(verdicts.filter((v) => !v.compatible || v.messages.includes("new subject"))).toEqual([]);
  // Once registered, dropping a required field's type change is caught for the real subjects too.
  const changed = { ...avroSchemas.OrderPlaced, fields: avroSchemas.OrderPlaced.fields.map((f) => (f.name === "totalAmount" ? { ...f, type: "string" } : f)) };
  expect((await checkCompatibility(registryUrl, subjectOf(topicOf("OrderPlaced", prefix)), changed)).compatible).toBe(false);
});

test("replicas starting together register a new subject at once: every one of them gets the schema id", async () => {
  for (let round = 0; round < 3; round++) {
    const prefix = `race${randomBytes(4).toString("hex")}.`;
    // Separate clients, as separate processes have: no shared cache.
    const ids = await Promise.all(Array.from({ length: 6 }, () => registerEventSchema(new SchemaRegistry({ host: registryUrl }), "OrderPlaced", prefix)));
    expect(new Set(ids).size).toBe(1);
  }
});
