// CPU time per process group, read from /proc (Linux), so a scenario can report the machine's CPU
// cost per operation by process: a figure that depends far less on what else the shared machine
// is doing than requests per second do.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** Which part of the system a process is: a service (by its working directory), PostgreSQL, Kafka, … */
function groupOf(pid: string): string | undefined {
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return undefined;
  }
  if (pid === String(process.pid)) return "load generator";
  if (command.includes("baseline-server.ts")) return "bare server";
  if (command.includes("src/main.ts") || command.includes("dist/main.js")) {
    try {
      // Only this checkout's processes: another checkout's system on the machine is not ours.
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return cwd.startsWith(`${process.cwd()}/`) ? cwd.split("/").pop() : undefined;
    } catch {
      return undefined;
    }
  }
  if (command.startsWith("postgres")) return "postgresql";
  if (command.includes("kafka.Kafka")) return "kafka";
  if (command.includes("quarkus") || command.includes("apicurio")) return "registry";
  if (command.startsWith("redis-server")) return "redis";
  return undefined;
}

/** A per-process counter summed by group (processes that ended since are not counted). */
function sumByGroup(read: (pid: string) => number): Map<string, number> {
  const totals = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return totals;
  }
  for (const pid of pids) {
    const group = groupOf(pid);
    if (!group) continue;
    try {
      totals.set(group, (totals.get(group) ?? 0) + read(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return totals;
}

/** CPU seconds used so far by each group. */
export function cpuSecondsByGroup(): Map<string, number> {
  return sumByGroup((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime: fields 14 and 15 of /proc/<pid>/stat, counted after the command name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  });
}

/**
 * write(2)-family system calls made so far by each group (`syscw` of /proc/<pid>/io): how Node,
 * Redis and Kafka write to sockets, so per request it counts round trips. PostgreSQL answers with
 * send(2), which this does not count; its figure is mostly WAL writes.
 */
export function writeCallsByGroup(): Map<string, number> {
  return sumByGroup((pid) => Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0));
}

/** Milliseconds of CPU per operation for each group between two readings, largest first. */
export function cpuPerOperation(before: Map<string, number>, after: Map<string, number>, operations: number): { group: string; msPerOperation: number }[] {
  return perOperation(before, after, operations).map(({ group, perOperation }) => ({ group, msPerOperation: perOperation * 1000 }));
}

/** How much of a counter each group used per operation between two readings, largest first. */
export function perOperation(before: Map<string, number>, after: Map<string, number>, operations: number): { group: string; perOperation: number }[] {
  if (operations === 0) return [];
  return [...after]
    .map(([group, total]) => ({ group, perOperation: (total - (before.get(group) ?? 0)) / operations }))
    .filter((row) => row.perOperation > 0)
    .sort((a, b) => b.perOperation - a.perOperation);
}

/** What each process spent per operation over a measured run. */
export interface CostsPerOperation {
  /** Machine CPU per operation by process (µs). */
  cpuMicrosPerRequest: { group: string; micros: number }[];
  /** write(2)-family system calls per operation by process: round trips, what a request costs on this VM. */
  writesPerRequest: { group: string; writes: number }[];
}

/** Reads the counters now; `per(n)` divides what was used since by `n` operations. */
export function startCostMeter(): { per(operations: number): CostsPerOperation } {
  const cpuAtStart = cpuSecondsByGroup();
  const writesAtStart = writeCallsByGroup();
  return {
    per: (operations) => ({
      cpuMicrosPerRequest: cpuPerOperation(cpuAtStart, cpuSecondsByGroup(), operations).map(({ group, msPerOperation }) => ({
        group,
        micros: Math.round(msPerOperation * 1000),
      })),
      writesPerRequest: perOperation(writesAtStart, writeCallsByGroup(), operations).map(({ group, perOperation: writes }) => ({ group, writes })),
    }),
  };
}

/** The report's cells for those costs. */
export function costCells(costs: CostsPerOperation): { "CPU µs/request (by process)": string; "writes/request": string } {
  return {
    "CPU µs/request (by process)": costs.cpuMicrosPerRequest
      .filter((c) => c.micros >= 5)
      .map((c) => `${c.group} ${c.micros}`)
      .join(", "),
    "writes/request": costs.writesPerRequest
      .filter((w) => w.writes >= 0.05)
      .map((w) => `${w.group} ${w.writes.toFixed(2)}`)
      .join(", "),
  };
}
