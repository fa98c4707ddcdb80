// CI check: every event schema in the repository must be BACKWARD compatible with the latest
// version the registry holds (what is deployed). Exits 1 and names the subject otherwise.
import { checkAllEventSchemas } from "../registry.ts";

const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081/apis/ccompat/v7";
const verdicts = await checkAllEventSchemas(registryUrl, process.env.TOPIC_PREFIX ?? "");
for (const v of verdicts) console.log(`${v.compatible ? "ok  " : "FAIL"} ${v.subject}${v.compatible ? "" : `: ${v.messages.join("; ")}`}`);
if (verdicts.some((v) => !v.compatible)) process.exit(1);
