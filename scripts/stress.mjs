// `npm run stress`: the long reliability runs (test/stress/stress.ts): >= 200 SIGKILLs across
// recall, index and agent writes, two windows on one storage folder, provider faults in random
// order, 100,000 fuzzed tool calls. Prints a figures table, writes artifacts/stress/figures.json.
//   npm run stress                         the full run (about 5-10 minutes on 2 cores)
//   MEMGPT_STRESS_SCALE=0.1 npm run stress a quick run
//   MEMGPT_STRESS_ONLY=crash,fuzz          some phases only
//   MEMGPT_SEED=123                        replay a run (the seed is printed first)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const child = spawn(process.execPath, ['--import', 'tsx', 'test/stress/stress.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
child.on('error', (e) => {
  console.error(`stress: could not start node: ${e.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  const s = Math.round((Date.now() - started) / 1000);
  console.log(`stress: ${code === 0 ? 'passed' : 'FAILED'} in ${Math.floor(s / 60)}m ${s % 60}s`);
  process.exit(code ?? (signal ? 128 : 1));
});
