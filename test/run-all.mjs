// `npm test`: the one runner of the repository.
//
//   npm test                                   install what is missing, then every step
//   npm test -- --only unit                    one step (comma-separated for several)
//   npm test -- --only unit --grep recall      only test files whose path contains "recall"
//   npm test -- --only integration --grep chat one in-host suite / UI scenario file
//
// Steps: install (npm ci if node_modules or tools/lint is stale; the offline VS Code host), lint
// (ESLint), format (Prettier --check; `npm run format` fixes), typecheck, build,
// unit (test/unit/**/*.test.ts), webview (test/webview/**/*.test.ts, headless Chromium),
// integration (test/harness/runIntegration.ts: in-host mocha + UI scenarios in code-server).
// Prints per-step times and ends with the line "N passed, N failed" (tests, plus one per check
// step: typecheck, build); exits non-zero on any failure, a time-out included.
// Logs: artifacts/logs/ (unit.log, webview.log, the harness's logs); screenshots: artifacts/screenshots/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies, ensureHost, ensureLintDependencies } from './harness/bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const logs = path.join(root, 'artifacts', 'logs');
const STEPS = ['lint', 'format', 'typecheck', 'build', 'unit', 'webview', 'integration'];
/** src/core/limits.ts, loaded once dependencies are installed. */
let limits;

function usage(problem) {
  console.error(`${problem}\nUsage: npm test -- [--only ${STEPS.join('|')}[,…]] [--grep text]`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { only: null, grep: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only' || a === '--grep') {
      const v = argv[++i];
      if (!v) usage(`${a} needs a value.`);
      if (a === '--grep') opts.grep = v;
      else {
        opts.only = v.split(',').map((s) => s.trim());
        const unknown = opts.only.filter((s) => !STEPS.includes(s));
        if (unknown.length) usage(`Unknown step "${unknown.join(', ')}".`);
      }
    } else if (a.startsWith('--only=') || a.startsWith('--grep=')) {
      // --only=x is --only x: split it in place and read it again.
      argv.splice(i + 1, 0, a.slice(7));
      argv[i] = a.slice(0, 6);
      i--;
    } else usage(`Unknown argument "${a}".`);
  }
  return opts;
}

/** Every file under `dir` ending with `suffix`, sorted, as repo-relative paths (Node 20 has no --test globs). */
function collect(dir, suffix) {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => path.relative(root, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/**
 * Runs a command with live output; resolves with its exit code. The command runs in its own process
 * group, and the whole group is killed when it outlives the step's time limit (limits.ts
 * HARNESS_STEP_TIMEOUT_MS): node --test reported a test file as timed out but kept waiting for that
 * file's process, which a browser it had started kept alive, and the run never ended.
 */
function exec(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env }, detached: true });
    const limitMs = limits?.HARNESS_STEP_TIMEOUT_MS ?? 30 * 60_000;
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(
        `\n${path.basename(command)} ${args
          .filter((a) => !a.startsWith('-'))
          .slice(0, 3)
          .join(' ')} ran past ${limitMs / 60_000} min: stopping it.`,
      );
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5_000).unref();
    }, limitMs);
    // Ctrl-C on `npm test` stops the group too (it no longer shares our process group).
    const onSignal = () => {
      killGroup('SIGTERM');
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    child.on('error', (e) => {
      clearTimeout(timer);
      console.error(`Could not start ${command}: ${e.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Whatever the command left behind (a browser, a server) goes with it.
      killGroup('SIGKILL');
      resolve(timedOut ? 124 : (code ?? (signal ? 128 : 1)));
    });
  });
}

/** node --test over files: dots live, TAP for the counts, spec (with failures) in artifacts/logs/<name>.log. */
async function nodeTests(name, files, env) {
  if (files.length === 0) return { passed: 0, failed: 0, note: 'no test files' };
  const tap = path.join(logs, `${name}.tap`);
  const spec = path.join(logs, `${name}.log`);
  const code = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      // Three reporters on one stream trip Node's default listener limit; the warning is noise.
      '--disable-warning=MaxListenersExceededWarning',
      `--test-timeout=${limits.HARNESS_NODE_TEST_TIMEOUT_MS}`,
      '--test-reporter=dot',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      '--test-reporter=spec',
      `--test-reporter-destination=${spec}`,
      ...files,
    ],
    env,
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  // The TAP summary ends with "# pass N", "# fail N", "# cancelled N".
  const count = (key) => Number([...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  if (code !== 0 && failed === 0) failed = 1; // the runner itself failed (crash, bad flag)
  const skipped = count('skipped') + count('todo');
  return { passed, failed, note: `${files.length} files${skipped ? `, ${skipped} skipped` : ''}; details: ${path.relative(root, spec)}` };
}

async function integration(grep) {
  const report = path.join(logs, 'integration-report.json');
  const args = ['--import', 'tsx', 'test/harness/runIntegration.ts', '--report', report];
  if (grep) args.push('--grep', grep);
  const code = await exec(process.execPath, args);
  let passed = 0;
  let failed = 0;
  let errors = [];
  let tests = [];
  if (existsSync(report)) ({ passed, failed, errors, tests } = JSON.parse(readFileSync(report, 'utf8')));
  const skipped = tests.filter((t) => t.state === 'pending').length;
  // A run that never reported back, or a harness that crashed, is a failure even with no failed test.
  if (code !== 0 && failed === 0) failed = 1;
  const note = errors.length ? errors[0].split('\n')[0] : `${skipped ? `${skipped} skipped; ` : ''}logs: artifacts/logs/`;
  return { passed, failed, note };
}

function seconds(ms) {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s` : `${(ms / 1000).toFixed(1)} s`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const selected = (s) => !opts.only || opts.only.includes(s);
  const results = [];
  const startedAll = Date.now();

  const step = async (name, fn) => {
    console.log(`\n━━ ${name} ━━`);
    const started = Date.now();
    let r;
    try {
      r = await fn();
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      r = { passed: 0, failed: 1, note: 'crashed' };
    }
    results.push({ name, ms: Date.now() - started, ...r });
    return r;
  };
  const check = (code) => (code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 });

  mkdirSync(logs, { recursive: true });
  const install = await step('install', async () => {
    let did = ensureDependencies(root);
    if ((selected('lint') || selected('format')) && !opts.grep) did += `; ${ensureLintDependencies(root)}`;
    const needsHost = selected('webview') || selected('integration');
    const host = needsHost ? ensureHost(root) : null;
    console.log(did + (host ? '; offline VS Code host ready' : ''));
    return { passed: 0, failed: 0, note: did, host };
  });
  if (install.failed === 0) {
    // Limits live in one TypeScript file; tsx (installed above) reads it.
    const { tsImport } = await import('tsx/esm/api');
    limits = await tsImport('../src/core/limits.ts', import.meta.url);
    const lintBin = (pkg, bin) => path.join(root, 'tools', 'lint', 'node_modules', pkg, bin);
    if (selected('lint') && !opts.grep) {
      await step('lint', async () => check(await exec(process.execPath, [lintBin('eslint', 'bin/eslint.js'), '--max-warnings=0', '.'])));
    }
    if (selected('format') && !opts.grep) {
      await step('format', async () =>
        check(await exec(process.execPath, [lintBin('prettier', 'bin/prettier.cjs'), '--check', '--log-level=warn', '.'])),
      );
    }
    if (selected('typecheck') && !opts.grep) {
      await step('typecheck', async () => check(await exec(path.join(root, 'node_modules/.bin/tsc'), ['-p', '.', '--noEmit'])));
    }
    let built = true;
    if (selected('build') || selected('integration')) {
      built = (await step('build', async () => check(await exec(process.execPath, ['esbuild.mjs'])))).failed === 0;
    }
    const filter = (files) => (opts.grep ? files.filter((f) => f.toLowerCase().includes(opts.grep.toLowerCase())) : files);
    if (selected('unit')) await step('unit', () => nodeTests('unit', filter(collect('test/unit', '.test.ts'))));
    if (selected('webview')) {
      await step('webview', () =>
        nodeTests(
          'webview',
          filter(collect('test/webview', '.test.ts')),
          install.host?.chromium ? { CHROMIUM_PATH: install.host.chromium } : {},
        ),
      );
    }
    if (selected('integration')) {
      if (built) await step('integration', () => integration(opts.grep));
      else results.push({ name: 'integration', ms: 0, passed: 0, failed: 1, note: 'not run: the build failed' });
    }
  }

  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log('\n━━ summary ━━');
  for (const r of results) {
    const status = r.failed ? 'FAIL' : 'ok';
    const counts = r.name === 'install' ? '' : `${r.passed} passed, ${r.failed} failed`;
    console.log(`  ${r.name.padEnd(12)} ${status.padEnd(5)} ${seconds(r.ms).padStart(8)}   ${counts}${r.note ? `  (${r.note})` : ''}`);
  }
  console.log(`  total time ${seconds(Date.now() - startedAll)}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
