/**
 * Runs the crash-test children: each is bundled once with esbuild (so a child
 * starts in tens of milliseconds instead of paying for tsx), then spawned,
 * read line by line, and killed with SIGKILL.
 */
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
  buildSync({
    entryPoints: [path.join(__dirname, 'children', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'error',
  });
  bundles.set(name, outfile);
  return outfile;
}

export { startChild, type RunningChild } from '../../fixtures/childProcess';
