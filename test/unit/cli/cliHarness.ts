/**
 * Runs the built `memgpt` binary (dist/cli.js) as a child process, the way a user or a CI script
 * does. The bundle is rebuilt with `node esbuild.mjs` when it is missing or older than any source
 * file it was built from (read from its source map), once, under a lock, so test files running in
 * parallel never build at the same time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');
/** The command line itself; dist/cli.js only compiles it through V8's code cache (src/cli/launcher.ts). */
export const CLI_MAIN = path.join(REPO, 'dist', 'cliMain.js');

/** Newest mtime of the repository sources a bundle was built from, or Infinity when unknown. */
function newestSourceMtime(bundle: string): number {
  const map = `${bundle}.map`;
  if (!existsSync(map)) return Infinity;
  const sources = (JSON.parse(readFileSync(map, 'utf8')) as { sources?: string[] }).sources ?? [];
  let newest = 0;
  for (const s of sources) {
    // Virtual modules of build plugins ("namespace:name") have no file to compare.
    if (/^[\w-]+:/.test(s)) continue;
    const file = path.resolve(path.dirname(map), s);
    if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    // A source that disappeared means the bundle is stale.
    if (!existsSync(file)) return Infinity;
    newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  return [CLI, CLI_MAIN].every((bundle) => existsSync(bundle) && statSync(bundle).mtimeMs >= newestSourceMtime(bundle));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Makes sure dist/cli.js is current; returns a note about what happened (for t.diagnostic). */
export function ensureBuilt(): string {
  if (isFresh()) return 'dist/cli.js is up to date';
  const lock = path.join(tmpdir(), `memgpt-cli-build-${createHash('sha1').update(REPO).digest('hex').slice(0, 8)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building; a lock older than two minutes was left by a killed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the build lock ${lock}`);
      sleepSync(200);
    }
  }
  try {
    if (isFresh()) return 'dist/cli.js was built by another test file';
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    // Another bundle (extension, webview) failing to build must not fail the CLI tests if the CLI built.
    if (!isFresh())
      throw new Error(`node esbuild.mjs did not produce a current dist/cli.js (exit ${build.status}):\n${build.stderr}${build.stdout}`);
    return build.status === 0 ? 'built dist/cli.js with node esbuild.mjs' : `dist/cli.js built; other bundles failed:\n${build.stderr}`;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The environment a test run sees: nothing of the developer's keys, model or state folder. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(OPENAI_|MEMGPT_|XDG_STATE_HOME$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** The small source file most CLI tests index and ask about. */
export const BILLING_TS = 'export function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n';

/** A temporary root holding a `project` folder for a CLI test to index; removed with `rm -rf root`. */
export interface CliProject {
  root: string;
  folder: string;
}

/** Makes the temporary root and its `project` folder with `files` (relative path → text) written. */
export async function cliProject(prefix: string, files: Record<string, string> = {}): Promise<CliProject> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  for (const [relative, text] of Object.entries(files)) {
    const file = path.join(folder, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return { root, folder };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr has matched `pattern` (rejects on exit or after `ms`). */
  waitForStderr(pattern: RegExp, ms?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(
  args: readonly string[],
  options: { env: Record<string, string>; stdin?: string; keepStdinOpen?: boolean; timeoutMs?: number },
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) if (w.pattern.test(stderr)) w.resolve();
  });
  if (options.stdin !== undefined) child.stdin!.write(options.stdin);
  if (!options.keepStdinOpen) child.stdin!.end();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const done = new Promise<CliResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForStderr(pattern, ms = 30_000) {
      if (pattern.test(stderr)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}; stderr so far:\n${stderr}`)), ms);
        const entry = { pattern, resolve: () => (clearTimeout(timer), resolve()) };
        waiters.push(entry);
        void done.then((r) => {
          clearTimeout(timer);
          if (!pattern.test(r.stderr)) reject(new Error(`the CLI exited (${r.code}) before stderr matched ${pattern}:\n${r.stderr}`));
        });
      });
    },
  };
}

export function runCli(
  args: readonly string[],
  options: { env: Record<string, string>; stdin?: string; timeoutMs?: number },
): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Polls `condition` until it holds (tests wait for the child to reach a state, not for a fixed time). */
export async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
