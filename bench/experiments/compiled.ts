// runlog compiled to JavaScript by tsc (no tsx at run time), for measuring what
// running the TypeScript sources through tsx costs a server: esbuild's keepNames
// helpers (__name) on every closure, the loader thread. Built into .tmp/build.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoDir } from "../lib/process.js";

export const buildDir = join(repoDir, ".tmp", "build");
let built: string | undefined;

/** Compiles src/, gen/ and bench/ (once per process); returns the compiled runlog server script. */
export function buildCompiled(): string {
  if (built !== undefined) return built;
  mkdirSync(buildDir, { recursive: true });
  const tsconfig = join(repoDir, ".tmp", "tsconfig.build.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: "../tsconfig.json",
      compilerOptions: { noEmit: false, outDir: "./build", rootDir: "..", sourceMap: false, declaration: false, incremental: false },
      include: ["../src", "../gen", "../bench"],
      exclude: ["../bench/experiments/**", "../bench/cases/**"],
    }),
  );
  try {
    execFileSync(process.execPath, [join(repoDir, "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], { cwd: repoDir, stdio: "pipe" });
  } catch (error) {
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    // Type errors elsewhere do not stop the emit; only a missing output does.
    if (!existsSync(join(buildDir, "bench", "servers", "runlog-server.js"))) throw new Error(`tsc build failed: ${out.slice(0, 500)}`);
  }
  built = join(buildDir, "bench", "servers", "runlog-server.js");
  return built;
}
