/**
 * Start-up of the command line (issue 16, item 6): whole-process wall time of `memgpt --version`
 * and of `memgpt search` on a 1,000-file folder, against `node -e 0` and `grep -rn` on the same
 * folder, measured in the same run. The search must find the expected file, or it is a MISS
 * however fast it was. Target: search ≤ 2× `node -e 0`. Uses the built dist/cli.js
 * (run `npm run build` first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchPackage } from './benchCorpus';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const RUNS = 9;
const TARGET_RATIO = 2;

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

/** Median wall time of `cmd args` over RUNS runs; `check` sees the last stdout. */
function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, check?: (stdout: string) => boolean): { ms: number; ok: boolean } {
  const times: number[] = [];
  let ok = true;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    times.push(performance.now() - t);
    if (check) {
      ok = r.status === 0 && check(r.stdout);
      if (!ok)
        console.log(
          `  ${path.basename(cmd)} ${args.slice(1).join(' ')}: exit ${r.status}, answer not found in:\n${r.stdout.slice(0, 600)}${r.stderr.slice(0, 300)}`,
        );
    }
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(RUNS / 2)]!, ok };
}

function main(): void {
  if (!existsSync(CLI)) {
    console.error('dist/cli.js is missing: run `npm run build` first.');
    process.exit(1);
  }
  // A folder of over 1,000 files of real code: fastify's package (lib, tests, docs, types) beside lodash's.
  const folder = mkdtempSync(path.join(os.tmpdir(), 'startup-'));
  cpSync(fetchPackage('fastify', '4.28.1'), path.join(folder, 'fastify'), { recursive: true });
  cpSync(fetchPackage('lodash', '4.17.21'), path.join(folder, 'lodash'), { recursive: true });
  const files = countFiles(folder);
  const env = { ...process.env, MEMGPT_STATE_DIR: path.join(folder, '.state') };
  execFileSync(process.execPath, [CLI, 'index', folder], { env, stdio: 'ignore' });
  const bundleMb = statSync(CLI).size / 1e6;

  const node = time(process.execPath, ['-e', '0'], env);
  const version = time(process.execPath, [CLI, '--version'], env, (out) => out.startsWith('memgpt '));
  const search = time(process.execPath, [CLI, 'search', folder, 'how is a unique id generated for each request', '-k', '5'], env, (out) =>
    out.includes('fastify/lib/reqIdGenFactory.js'),
  );
  const grep = time('grep', ['-rn', 'reqIdGenFactory', folder], env, (out) => out.includes('reqIdGenFactory'));

  console.log(`${files} files; dist/cli.js ${bundleMb.toFixed(1)} MB; median of ${RUNS} runs`);
  console.log(`node -e 0           ${node.ms.toFixed(0).padStart(6)} ms`);
  console.log(`memgpt --version    ${version.ms.toFixed(0).padStart(6)} ms  ${(version.ms / node.ms).toFixed(2)}x node`);
  console.log(
    `memgpt search       ${search.ms.toFixed(0).padStart(6)} ms  ${(search.ms / node.ms).toFixed(2)}x node  (expected file found: ${search.ok ? 'yes' : 'no'})`,
  );
  console.log(`grep -rn            ${grep.ms.toFixed(0).padStart(6)} ms  ${(grep.ms / node.ms).toFixed(2)}x node`);
  const met = search.ok && version.ok && search.ms <= TARGET_RATIO * node.ms;
  console.log(`search ≤ ${TARGET_RATIO}× node -e 0 with the right answer: ${met ? 'MET' : 'MISS'}`);
  rmSync(folder, { recursive: true, force: true });
  process.exit(met ? 0 : 1);
}

main();
