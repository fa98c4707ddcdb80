// Summarises V8 CPU profiles (`.cpuprofile`, e.g. from `BENCH_CPU_PROFILE=order npm run bench`):
// self time by package / project file and the hottest functions.
//   npx tsx bench/profile-summary.ts [--skip=SECONDS] .infra/profiles/CPU.*.cpuprofile
// --skip leaves out the profile's first seconds (a service's start-up, module loading).
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: an npm package, a file of this project, node itself, or V8. */
function ownerOf(url: string): string {
  if (!url) return "(v8/native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node:" + url.slice(5).split("/")[0];
  const project = /\/(services\/[^/]+\/src\/[^?]+|packages\/[^/]+\/src\/[^?]+|gateway\/src\/[^?]+)/.exec(url);
  return project ? project[1]! : url.slice(-60);
}

const table = (title: string, totals: Map<string, number>, all: number, rows = 15) => {
  console.log(`  ${title}`);
  for (const [name, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`    ${((100 * us) / all).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
};

const skipArg = process.argv.find((a) => a.startsWith("--skip="));
const skipUs = skipArg ? Number(skipArg.slice("--skip=".length)) * 1e6 : 0;

for (const file of process.argv.slice(2).filter((a) => !a.startsWith("--"))) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** The nearest caller that is a package or a project file: who asked for a socket write. */
  const requesterOf = (id: number): string => {
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const owner = ownerOf(byId.get(at)!.callFrame.url);
      if (!owner.startsWith("node:") && !owner.startsWith("(")) return owner;
    }
    return "(node itself)";
  };
  const self = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= skipUs) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const socketWrites = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") continue;
    busy += us;
    const owner = frame.functionName === "(garbage collector)" ? "(gc)" : ownerOf(frame.url);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${ownerOf(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    if (/^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(frame.functionName) && !frame.url) {
      const requester = requesterOf(id);
      socketWrites.set(requester, (socketWrites.get(requester) ?? 0) + us);
    }
  }
  const wall = (profile.endTime - profile.startTime - skipUs) / 1e6;
  console.log(`\n${file}: ${wall.toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s on CPU (${((100 * busy) / 1e6 / wall).toFixed(0)} % of a core)`);
  table("self time by owner", byOwner, busy);
  table("hottest functions", byFunction, busy, 20);
  table("socket writes (writev, writeBuffer, write*String) by who asked for them", socketWrites, busy, 8);
}
