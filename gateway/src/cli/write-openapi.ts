// Regenerates docs/openapi.json from the services' route definitions (a test fails when it is out of date).
import { writeFileSync } from "node:fs";
import { publicApiDocument } from "./api-document.ts";

const target = new URL("../../../docs/openapi.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(publicApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
