// Regenerates docs/asyncapi.json from the Avro schemas (a test fails when it is out of date).
import { writeFileSync } from "node:fs";
import { asyncApiDocument } from "../asyncapi.ts";

const target = new URL("../../../../docs/asyncapi.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
