export { avroSchemas, type EventName } from "./schemas.ts";
export * from "./types.ts";
export { topicNames, topicOf, subjectOf, eventNames } from "./topics.ts";
export { SchemaRegistry, registerEventSchema, checkCompatibility, checkAllEventSchemas, type CompatibilityVerdict } from "./registry.ts";
export { asyncApiDocument, eventFlow } from "./asyncapi.ts";
