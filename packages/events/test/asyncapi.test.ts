import { readFileSync } from "node:fs";
import { asyncApiDocument, eventNames, topicOf } from "../src/index.ts";

test("docs/asyncapi.json is the document generated from the schemas (run the write-asyncapi CLI after a change)", () => {
  const committed = JSON.parse(readFileSync(new URL("../../../docs/asyncapi.json", import.meta.url), "utf8"));
  expect(committed).toEqual(asyncApiDocument());
});

test("every event has a channel on its topic with a send and a receive operation", () => {
  const doc = asyncApiDocument() as { channels: Record<string, { address: string }>; operations: Record<string, { action: string }> };
  for (const event of eventNames) {
    expect(doc.channels[event]!.address).toBe(topicOf(event));
    expect(doc.operations[`publish${event}`]!.action).toBe("send");
    expect(doc.operations[`consume${event}`]!.action).toBe("receive");
  }
});
