// Child processes: servers the benchmark talks to (runlog, echo ceilings) and
// isolated repetitions. Every child this module starts is killed on exit.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = resolve(benchDir, "..");
export const profileDir = join(benchDir, ".profiles");

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of children) c.kill("SIGKILL");
    });
  }
}

export interface NodeChildOptions {
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Adds --cpu-prof into bench/.profiles. */
  readonly cpuProfile?: boolean;
  /** Run the script through tsx (default); false for compiled JavaScript. */
  readonly tsx?: boolean;
}

export interface ServerProcessOptions extends NodeChildOptions {
  /** Forward the child's stderr, prefixed with its name. */
  readonly verbose?: boolean;
  readonly timeoutMs?: number;
  /**
   * Write everything the child prints (stdout and stderr, from its start) to
   * `<outputDir>/<name>-<pid>.log`, e.g. for `--trace-gc`.
   */
  readonly outputDir?: string;
}

function nodeArgv(script: string, args: readonly string[], options: NodeChildOptions): string[] {
  const argv = [...(options.nodeArgs ?? [])];
  if (options.cpuProfile) {
    mkdirSync(profileDir, { recursive: true });
    argv.push("--cpu-prof", "--cpu-prof-dir", profileDir);
  }
  if (options.tsx !== false) argv.push("--import", "tsx");
  argv.push(script, ...args);
  return argv;
}

export interface ServerProcess<I> {
  readonly info: I;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

const readyPrefix = "@@ready ";

/**
 * Starts `node --import tsx <script> ...args` and waits for it to print one line
 * `@@ready <json>`; resolves with that JSON. The child's other output is
 * forwarded to stderr prefixed with its name, when `verbose`.
 */
export async function startServerProcess<I>(
  name: string,
  script: string,
  args: readonly string[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess<I>> {
  const child = spawn(process.execPath, nodeArgv(script, args, options), {
    cwd: repoDir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);
  if (options.outputDir !== undefined) {
    mkdirSync(options.outputDir, { recursive: true });
    const log = createWriteStream(join(options.outputDir, `${name}-${child.pid}.log`));
    child.stdout!.on("data", (chunk: Buffer | string) => log.write(chunk));
    child.stderr!.on("data", (chunk: Buffer | string) => log.write(chunk));
    child.once("exit", () => log.end());
  }
  let stderrTail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    if (options.verbose) process.stderr.write(`[${name}] ${chunk}`);
  });
  const info = await new Promise<I>((resolveReady, reject) => {
    let buffer = "";
    const timer = setTimeout(() => {
      reject(new Error(`${name}: not ready after ${options.timeoutMs ?? 60_000} ms\n${stderrTail}`));
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60_000);
    child.stdout!.setEncoding("utf8");
    const onData = (chunk: string): void => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith(readyPrefix)) {
          clearTimeout(timer);
          child.stdout!.off("data", onData);
          child.stdout!.resume();
          resolveReady(JSON.parse(line.slice(readyPrefix.length)) as I);
          return;
        }
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before ready (code ${code}, signal ${signal})\n${stderrTail}`));
    });
  });
  return {
    info,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill("SIGTERM");
  });
}

/** Called by a server script when it listens. */
export function announceReady(info: unknown): void {
  process.stdout.write(`${readyPrefix}${JSON.stringify(info)}\n`);
}

const resultPrefix = "@@bench-result ";

/** Runs a node child to completion and returns the JSON it printed as `@@bench-result <json>`. */
export async function runChildForResult<R>(
  script: string,
  args: readonly string[],
  options: NodeChildOptions = {},
): Promise<R> {
  const child = spawn(process.execPath, nodeArgv(script, args, options), {
    cwd: repoDir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  track(child);
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const line = out.split("\n").find((l) => l.startsWith(resultPrefix));
  if (code !== 0 || line === undefined) throw new Error(`child ${args.join(" ")} failed (exit ${code}): ${out.slice(-2000)}`);
  return JSON.parse(line.slice(resultPrefix.length)) as R;
}

export function printChildResult(result: unknown): void {
  process.stdout.write(`\n${resultPrefix}${JSON.stringify(result)}\n`);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return ticks / clockTicksPerSecond;
  } catch {
    return Number.NaN;
  }
}

const clockTicksPerSecond = 100;
