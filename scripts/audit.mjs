// `npm run audit`: the read-only invariant audit over every service's data (tools/audit).
import { spawnSync } from "node:child_process";
import { databaseUrl, root } from "./setup.mjs";

const env = { DATABASE_URL: databaseUrl("public"), ...process.env };
const result = spawnSync(process.execPath, ["--import", "tsx", "tools/audit/src/cli.ts", ...process.argv.slice(2)], { cwd: root, stdio: "inherit", env });
process.exit(result.status ?? 1);
