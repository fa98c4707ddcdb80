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

/** CPU seconds used so far by each group (processes that ended since are not counted). */
export function cpuSecondsByGroup(): Map<string, number> {
  const seconds = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return seconds;
  }
  for (const pid of pids) {
    const group = groupOf(pid);
    if (!group) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime: fields 14 and 15 of /proc/<pid>/stat, counted after the command name.
      const ticks = Number(fields[11]) + Number(fields[12]);
      seconds.set(group, (seconds.get(group) ?? 0) + ticks / TICKS_PER_SECOND);
    } catch {
      // the process ended meanwhile
    }
  }
  return seconds;
}

/** Milliseconds of CPU per operation for each group between two readings, largest first. */
export function cpuPerOperation(before: Map<string, number>, after: Map<string, number>, operations: number): { group: string; msPerOperation: number }[] {
  if (operations === 0) return [];
  return [...after]
    .map(([group, seconds]) => ({ group, msPerOperation: ((seconds - (before.get(group) ?? 0)) * 1000) / operations }))
    .filter((row) => row.msPerOperation > 0)
    .sort((a, b) => b.msPerOperation - a.msPerOperation);
}
