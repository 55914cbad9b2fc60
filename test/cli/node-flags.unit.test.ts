// The node flags `runlog serve` runs with (src/cli/node-flags.ts) are written
// in two more places that cannot import them: package.json's "start" script
// and bin/runlog.js's #! line. These keep the three in step.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serverNodeFlags } from "../../src/cli/node-flags.js";

const root = process.cwd();

describe("serverNodeFlags", () => {
  it("are the flags npm start passes to node", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`tsx ${serverNodeFlags.join(" ")} src/cli/main.ts serve`);
  });

  it("are the flags of bin/runlog.js's #! line", () => {
    const [shebang] = readFileSync(join(root, "bin", "runlog.js"), "utf8").split("\n");
    expect(shebang).toBe(`#!/usr/bin/env -S node ${serverNodeFlags.join(" ")}`);
  });

  it("include one V8 worker thread (adr/0009)", () => {
    expect(serverNodeFlags).toContain("--v8-pool-size=1");
  });
});
