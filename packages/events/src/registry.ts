import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { avroSchemas, type EventName } from "./schemas.ts";
import { eventNames, subjectOf, topicOf } from "./topics.ts";

export { SchemaRegistry };

/** Registers (or finds) the schema of an event under `<topic>-value` with BACKWARD compatibility. */
export async function registerEventSchema(registry: SchemaRegistry, event: EventName, topicPrefix = ""): Promise<number> {
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(avroSchemas[event]) },
    { subject: subjectOf(topicOf(event, topicPrefix)), compatibility: COMPATIBILITY.BACKWARD },
  );
  return id;
}

export interface CompatibilityVerdict {
  subject: string;
  compatible: boolean;
  messages: string[];
}

/**
 * Asks the registry whether `schema` may become the next version of `subject`.
 * A subject that does not exist yet accepts anything.
 */
export async function checkCompatibility(registryUrl: string, subject: string, schema: object): Promise<CompatibilityVerdict> {
  const response = await fetch(`${registryUrl}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, {
    method: "POST",
    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
    body: JSON.stringify({ schema: JSON.stringify(schema), schemaType: "AVRO" }),
  });
  if (response.status === 404) return { subject, compatible: true, messages: ["new subject"] };
  if (!response.ok) throw new Error(`registry answered ${response.status} for ${subject}: ${await response.text()}`);
  const body = (await response.json()) as { is_compatible: boolean; messages?: string[] };
  return { subject, compatible: body.is_compatible, messages: body.messages ?? [] };
}

/** Every event schema in this repository against what the registry holds. */
export async function checkAllEventSchemas(registryUrl: string, topicPrefix = ""): Promise<CompatibilityVerdict[]> {
  return Promise.all(eventNames.map((event) => checkCompatibility(registryUrl, subjectOf(topicOf(event, topicPrefix)), avroSchemas[event])));
}
