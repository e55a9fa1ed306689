/**
 * Runs the crash-test children: each is bundled once with esbuild (so a child
 * starts in tens of milliseconds instead of paying for tsx), then spawned,
 * read line by line, and killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const bundles = new Map<string, string>();
let outDir: string | undefined;

export function bundledChild(name: 'appendChild' | 'atomicChild' | 'lockChild'): string {
  const cached = bundles.get(name);
  if (cached) return cached;
  outDir ??= mkdtempSync(path.join(tmpdir(), 'storage-children-'));
  const outfile = path.join(outDir, `${name}.js`);
  buildSync({ entryPoints: [path.join(__dirname, 'children', `${name}.ts`)], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'error' });
  bundles.set(name, outfile);
  return outfile;
}

export interface RunningChild {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export function startChild(script: string, args: string[]): RunningChild {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    waitForLine(test, timeoutMs = 10_000) {
      const found = lines.find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child printed no matching line in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          test,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
