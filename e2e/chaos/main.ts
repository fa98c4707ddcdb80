// npm run chaos: trials over every fault kind (or CHAOS_FAULTS=broker-kill,…), each on a system of
// its own infrastructure; prints the table and exits 1 on any invariant violation.
import { FAULT_KINDS, formatTrials, runTrial, startChaosEnvironment, type FaultKind, type TrialResult } from "./chaos.ts";

const trials = Number(process.env.CHAOS_TRIALS ?? 20);
const faults = (process.env.CHAOS_FAULTS?.split(",") ?? FAULT_KINDS) as FaultKind[];
for (const fault of faults) if (!FAULT_KINDS.includes(fault)) throw new Error(`unknown fault ${fault}; one of ${FAULT_KINDS.join(", ")}`);
const orders = Number(process.env.CHAOS_ORDERS ?? 60);
const rate = Number(process.env.CHAOS_RATE ?? 20);
const faultForMs = Number(process.env.CHAOS_FAULT_MS ?? 10_000);

const results: TrialResult[] = [];
const env = await startChaosEnvironment();
// Interrupted (Ctrl-C, a timeout): the servers this run started go with it.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void env.stop().finally(() => process.exit(130)));
try {
  for (let i = 0; i < trials; i++) {
    const fault = faults[i % faults.length]!;
    const result = await runTrial(env, fault, { orders, rate, faultAfterMs: 1_000, faultForMs: fault === "redis-wipe" ? 1_000 : faultForMs });
    results.push(result);
    console.log(formatTrials([result]).split("\n")[2]);
  }
} finally {
  await env.stop();
}
console.log(`\n${formatTrials(results)}`);
const failing = results.filter((r) => r.audit.violations + r.unfinished + r.couponsOverIssued > 0);
for (const r of failing) console.log(`\n${r.fault}: ${JSON.stringify(r.audit.checks.filter((c) => c.violations > 0))}`);
process.exitCode = failing.length ? 1 : 0;
