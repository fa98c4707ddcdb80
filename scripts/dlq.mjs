// `npm run dlq -- <service> list|replay`
import { spawnSync } from "node:child_process";
import { root } from "./setup.mjs";

const result = spawnSync(process.execPath, ["--disable-warning=TimeoutNegativeWarning", "--import", "tsx", "tools/dlq/src/cli.ts", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
