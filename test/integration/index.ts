/**
 * The in-host test entry: bundled into dist/test/integration.js and run by VS Code's extension host
 * (`extensionTestsPath`), which calls `run()` and reports its outcome to the harness.
 *
 * Suites are test/integration/suite/*.test.ts (mocha BDD: describe/it, `import * as vscode from
 * 'vscode'`); each file is found at build time, nothing to register. Environment set by the harness:
 *   MEMGPT_TEST_FILTER       only suite files whose name contains this (case-insensitive)
 *   MEMGPT_TEST_RESULT_FILE  where the JSON result (counts, failures) is written for the summary
 */
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';
import { integrationSuites } from 'virtual:integration-suites';
import { HARNESS_IN_HOST_TEST_TIMEOUT_MS } from '../../src/core/limits';

export interface InHostTestResult {
  passed: number;
  failed: number;
  pending: number;
  suites: string[];
  tests: { title: string; file: string; state: 'passed' | 'failed' | 'pending'; durationMs: number; error?: string }[];
}

/**
 * Under @vscode/test-cli (`.vscode-test.mjs`, desktop VS Code) its own runner requires this file as a
 * mocha spec with describe/it already global, and never calls run(): register every suite now.
 */
const underTestCli = typeof (globalThis as { describe?: unknown }).describe === 'function' && !process.env.MEMGPT_TEST_RESULT_FILE;
if (underTestCli) for (const suite of integrationSuites) suite.load();

function selectedSuites(filter: string | undefined) {
  const f = filter?.trim().toLowerCase();
  return integrationSuites.filter((s) => !f || s.file.toLowerCase().includes(f));
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: HARNESS_IN_HOST_TEST_TIMEOUT_MS, reporter: 'spec' });
  const suites = selectedSuites(process.env.MEMGPT_TEST_FILTER);
  // What mocha.loadFiles does for files on disk, for modules already in the bundle.
  for (const suite of suites) {
    mocha.suite.emit('pre-require', globalThis, suite.file, mocha);
    suite.load();
    mocha.suite.emit('require', undefined, suite.file, mocha);
    mocha.suite.emit('post-require', globalThis, suite.file, mocha);
  }

  const result: InHostTestResult = { passed: 0, failed: 0, pending: 0, suites: suites.map((s) => s.file), tests: [] };
  const fileOf = (t: Mocha.Runnable): string => {
    for (let s: Mocha.Suite | undefined = t.parent; s; s = s.parent) if (s.file) return s.file;
    return t.file ?? '';
  };
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => {
      result.passed++;
      result.tests.push({ title: t.fullTitle(), file: fileOf(t), state: 'passed', durationMs: t.duration ?? 0 });
    });
    runner.on('fail', (t, err: unknown) => {
      result.failed++;
      const error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
      result.tests.push({ title: t.fullTitle(), file: fileOf(t), state: 'failed', durationMs: t.duration ?? 0, error });
    });
    runner.on('pending', (t) => {
      result.pending++;
      result.tests.push({ title: t.fullTitle(), file: fileOf(t), state: 'pending', durationMs: 0 });
    });
  });

  const resultFile = process.env.MEMGPT_TEST_RESULT_FILE;
  if (resultFile) writeFileSync(resultFile, JSON.stringify(result, null, 2));
  if (result.failed > 0) throw new Error(`${result.failed} of ${result.passed + result.failed} in-host tests failed.`);
  if (result.passed === 0 && result.pending === 0) {
    throw new Error(`No in-host tests ran (filter "${process.env.MEMGPT_TEST_FILTER ?? ''}" matched no suite file).`);
  }
}
