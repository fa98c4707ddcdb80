import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { avroSchemas, type EventName } from "./schemas.ts";
import { eventNames, subjectOf, topicOf } from "./topics.ts";

export { SchemaRegistry };

/**
 * Registers (or finds) the schema of an event under `<topic>-value` with BACKWARD compatibility.
 * Replicas starting together race on a new subject: one reads the subject's compatibility before
 * another has set it and refuses the registry's default, or both set it and one is told the rule
 * already exists. Such races settle within moments, so a failed registration is tried a few more
 * times (about 1.5 s in all) before its error counts; a truly incompatible schema fails the same way
 * every time.
 */
export async function registerEventSchema(registry: SchemaRegistry, event: EventName, topicPrefix = ""): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(avroSchemas[event]) },
        { subject: subjectOf(topicOf(event, topicPrefix)), compatibility: COMPATIBILITY.BACKWARD },
      );
      return id;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
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
