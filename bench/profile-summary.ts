// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions with the
// most self time, and self time per package / source area.
//
//   npx tsx bench/profile-summary.ts bench/.profiles/CPU.….cpuprofile [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "30" } }, allowPositionals: true });
if (positionals.length === 0) {
  console.error("usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N]");
  process.exit(1);
}

function area(url: string): string {
  if (url === "") return "(native / VM)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return url.split("/")[0]!.replace(/^node:internal.*/, "node:internal");
  const m = /\/(src|bench|gen)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]!.split("/").slice(0, -1).join("/") || "."}`;
  return url;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    total += us;
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(src|bench|gen)\//, "$1/");
    const key = `${functionName || "(anonymous)"}  ${short}${url ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const a = functionName.startsWith("(") ? functionName : area(url);
    if (functionName !== "(idle)") byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const idle = [...byFunction].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n${file}`);
  console.log(`wall ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (${((busy / total) * 100).toFixed(0)}%); percentages are of busy time\n`);
  console.log("self time by area:");
  for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${a}`);
  console.log(`\ntop ${values.top} functions by self time:`);
  for (const [k, us] of [...byFunction].filter(([k]) => !k.startsWith("(idle)")).sort((x, y) => y[1] - x[1]).slice(0, Number(values.top))) {
    console.log(`  ${pct(us)}  ${k}`);
  }
}
