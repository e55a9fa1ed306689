/**
 * Runs the integration tests in a real, offline VS Code (code-server + headless Chromium):
 *   1. in-host: the mocha suites of dist/test/integration.js inside the extension host;
 *   2. UI scenarios: test/integration/ui/*.ui.ts driving the workbench and the chat webview.
 * Everything is torn down at the end, always. Logs: artifacts/logs/, screenshots: artifacts/screenshots/.
 *
 *   node --import tsx test/harness/runIntegration.ts [--grep text] [--only host|ui]
 *        [--setting key=json]... [--env KEY=VALUE]... [--report file.json]
 *
 * `--grep` keeps suite and scenario files whose name contains the text. Exit code 0 only when
 * every selected test passed and the host reported back in time.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { HARNESS_IN_HOST_RUN_TIMEOUT_MS, HARNESS_UI_SCENARIO_TIMEOUT_MS, HARNESS_UI_WAIT_MS } from '../../src/core/limits';
import type { InHostTestResult } from '../integration/index';
import { launchChromium, recordConsole, workbenchUrl } from './browser';
import { startCodeServer, type CodeServer } from './codeServer';
import { installEchoExtension } from './echoExtension';
import { installHost, type HostPaths } from './hostInstall';
import { WorkbenchUi, type ServerNeeds, type UiScenario } from './ui';
import { prepareWindow, type PreparedWindow, type WindowContents } from './windowContents';

export interface IntegrationOptions {
  grep?: string;
  only?: 'host' | 'ui';
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface TestOutcome {
  kind: 'host' | 'ui';
  file: string;
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface IntegrationReport {
  passed: number;
  failed: number;
  tests: TestOutcome[];
  /** Problems outside single tests: a run that never reported back, a server that did not start. */
  errors: string[];
}

const repoRoot = path.resolve(__dirname, '../..');
const artifactsDir = path.join(repoRoot, 'artifacts');
const logsDir = path.join(artifactsDir, 'logs');
const testBundle = path.join(repoRoot, 'dist/test/integration.js');

/** MEMGPT_IN_HOST_TIMEOUT_MS overrides the limit (debugging a slow host, or proving the time-out). */
function inHostTimeoutMs(): number {
  const override = Number(process.env.MEMGPT_IN_HOST_TIMEOUT_MS);
  return Number.isFinite(override) && override > 0 ? override : HARNESS_IN_HOST_RUN_TIMEOUT_MS;
}

function matches(file: string, grep: string | undefined): boolean {
  return !grep || file.toLowerCase().includes(grep.toLowerCase());
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One code-server with its scratch folders, and a workspace copy so tests never dirty the repo. */
interface Session {
  server: CodeServer;
  userDataDir: string;
  workspace: string;
  /** The session's scratch folder (windows with their own contents are laid out in it). */
  dir: string;
  /** Windows laid out so far (each gets a folder of its own). */
  windows: number;
}

async function openSession(host: HostPaths, scratch: string, name: string, needs: ServerNeeds, base: IntegrationOptions): Promise<Session> {
  const dir = path.join(scratch, name);
  const workspace = path.join(dir, 'workspace');
  cpSync(path.join(repoRoot, 'sample-workspace'), workspace, { recursive: true });
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  await installEchoExtension(repoRoot, extensionsDir);
  const server = await startCodeServer({
    host,
    stateDir: path.join(dir, 'state'),
    userDataDir,
    extensionsDir,
    logFile: path.join(logsDir, `code-server-${name}.log`),
    settings: { ...base.settings, ...needs.settings },
    env: { ...base.env, ...needs.env },
    disableWorkspaceTrust: !needs.workspaceTrust,
  });
  return { server, userDataDir, workspace, dir, windows: 0 };
}

async function runInHost(browser: Browser, session: Session, resultFile: string): Promise<IntegrationReport> {
  const report: IntegrationReport = { passed: 0, failed: 0, tests: [], errors: [] };
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  recordConsole(page, path.join(logsDir, 'host-console.log'), 'in-host');
  let settle: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (settle = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => settle(Number(code)));
  const started = Date.now();
  await page.goto(
    workbenchUrl(session.server.url, { folder: session.workspace, extensionDevelopmentPaths: [repoRoot], extensionTestsPath: testBundle }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), inHostTimeoutMs())));
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  await page.screenshot({ path: path.join(artifactsDir, 'screenshots', 'in-host-end.png') }).catch(() => undefined);
  await context.close();

  let result: InHostTestResult | undefined;
  if (existsSync(resultFile)) result = JSON.parse(readFileSync(resultFile, 'utf8')) as InHostTestResult;
  for (const t of result?.tests ?? []) {
    report.tests.push({
      kind: 'host',
      file: t.file,
      title: t.title,
      state: t.state,
      durationMs: t.durationMs,
      ...(t.error ? { error: t.error } : {}),
    });
  }
  report.passed = result?.passed ?? 0;
  report.failed = result?.failed ?? 0;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (outcome === 'timeout') {
    report.errors.push(
      `The in-host test run never reported back within ${inHostTimeoutMs() / 1000} s (hung test or extension host crash). ` +
        `See artifacts/logs/host-console.log and artifacts/screenshots/in-host-end.png.`,
    );
  } else if (outcome !== 0 && report.failed === 0) {
    report.errors.push(
      `The in-host test run exited with code ${outcome} after ${seconds} s without a test failure: see artifacts/logs/host-console.log.`,
    );
  } else if (!result) {
    report.errors.push(`The in-host test run exited with code ${outcome} but wrote no result file: see artifacts/logs/host-console.log.`);
  }
  return report;
}

async function loadScenarios(grep: string | undefined): Promise<{ file: string; scenario: UiScenario }[]> {
  const dir = path.join(repoRoot, 'test/integration/ui');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ui.ts') && matches(f, grep))
        .sort()
    : [];
  const out: { file: string; scenario: UiScenario }[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { scenarios?: UiScenario[] };
    if (!Array.isArray(mod.scenarios))
      throw new Error(`${file} exports no \`scenarios\` array (see the comment at the top of test/harness/ui.ts).`);
    for (const scenario of mod.scenarios) out.push({ file, scenario });
  }
  return out;
}

async function runScenario(browser: Browser, session: Session, file: string, scenario: UiScenario): Promise<TestOutcome> {
  const started = Date.now();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(HARNESS_UI_WAIT_MS);
  recordConsole(page, path.join(logsDir, 'ui-console.log'), scenario.title);
  const layout = (contents: WindowContents): PreparedWindow =>
    prepareWindow(repoRoot, path.join(session.dir, `window-${++session.windows}`), contents);
  const first: PreparedWindow = scenario.workspace
    ? layout(scenario.workspace)
    : { target: { folder: session.workspace }, folders: [{ name: path.basename(session.workspace), path: session.workspace }] };
  const open = async (window: PreparedWindow): Promise<void> => {
    await page.goto(workbenchUrl(session.server.url, { ...window.target, extensionDevelopmentPaths: [repoRoot] }));
  };
  const ui = new WorkbenchUi(page, first, session.userDataDir, artifactsDir, async (contents) => {
    const next = layout(contents);
    await open(next);
    return next;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await open(first);
    await Promise.race([
      scenario.run(ui),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`UI scenario timed out after ${HARNESS_UI_SCENARIO_TIMEOUT_MS / 1000} s.`)),
          HARNESS_UI_SCENARIO_TIMEOUT_MS,
        );
      }),
    ]);
    return { kind: 'ui', file, title: scenario.title, state: 'passed', durationMs: Date.now() - started };
  } catch (e) {
    await ui.screenshot(`failed-${scenario.title}`).catch(() => undefined);
    return { kind: 'ui', file, title: scenario.title, state: 'failed', durationMs: Date.now() - started, error: errorText(e) };
  } finally {
    clearTimeout(timer);
    await context.close().catch(() => undefined);
  }
}

function inHostSuiteFiles(grep: string | undefined): string[] {
  const dir = path.join(repoRoot, 'test/integration/suite');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.ts') && matches(f, grep)) : [];
}

export async function runIntegration(options: IntegrationOptions = {}): Promise<IntegrationReport> {
  const total: IntegrationReport = { passed: 0, failed: 0, tests: [], errors: [] };
  rmSync(logsDir, { recursive: true, force: true });
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(path.join(artifactsDir, 'screenshots'), { recursive: true });
  const wantHost = options.only !== 'ui' && inHostSuiteFiles(options.grep).length > 0;
  const scenarios = options.only === 'host' ? [] : await loadScenarios(options.grep);
  if (!wantHost && scenarios.length === 0) return total;
  if (wantHost && !existsSync(testBundle)) {
    throw new Error(`${path.relative(repoRoot, testBundle)} is missing: build first (npm run build).`);
  }

  const host = installHost(repoRoot);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'memgpt-integration-'));
  const sessions: Session[] = [];
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(host.chromium);
    // The extension host inherits the server's environment: that is how the in-host bundle gets its
    // file filter and where to write its result.
    const resultFile = path.join(scratch, 'in-host-result.json');
    const inHostEnv = { MEMGPT_TEST_FILTER: options.grep ?? '', MEMGPT_TEST_RESULT_FILE: resultFile };
    const shared = await openSession(host, scratch, 'shared', { env: inHostEnv }, options);
    sessions.push(shared);
    const merge = (r: IntegrationReport) => {
      total.passed += r.passed;
      total.failed += r.failed;
      total.tests.push(...r.tests);
      total.errors.push(...r.errors);
    };
    if (wantHost) {
      merge(await runInHost(browser, shared, resultFile));
    }
    for (const [i, { file, scenario }] of scenarios.entries()) {
      let session = shared;
      let needs: ServerNeeds | undefined;
      try {
        if (scenario.server) {
          needs = await scenario.server();
          session = await openSession(host, scratch, `scenario-${i + 1}`, needs, options);
          sessions.push(session);
        }
        const outcome = await runScenario(browser, session, file, scenario);
        total.tests.push(outcome);
        if (outcome.state === 'passed') total.passed++;
        else total.failed++;
      } catch (e) {
        total.failed++;
        total.tests.push({ kind: 'ui', file, title: scenario.title, state: 'failed', durationMs: 0, error: errorText(e) });
      } finally {
        if (session !== shared) await session.server.stop();
        await needs?.dispose?.();
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    for (const s of sessions) await s.server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return total;
}

function parseArgs(argv: string[]): IntegrationOptions & { report?: string } {
  const o: IntegrationOptions & { report?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value.`);
      return v;
    };
    if (arg === '--grep') o.grep = value();
    else if (arg === '--only') {
      const v = value();
      if (v !== 'host' && v !== 'ui') throw new Error(`--only takes "host" or "ui", not "${v}".`);
      o.only = v;
    } else if (arg === '--report') o.report = value();
    else if (arg === '--setting' || arg === '--env') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`${arg} takes key=value, got "${v}".`);
      const key = v.slice(0, eq);
      const raw = v.slice(eq + 1);
      if (arg === '--env') o.env = { ...o.env, [key]: raw };
      else {
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // A bare string value.
        }
        o.settings = { ...o.settings, [key]: parsed };
      }
    } else
      throw new Error(
        `Unknown option ${arg}. Usage: runIntegration.ts [--grep text] [--only host|ui] [--setting k=json] [--env K=V] [--report file]`,
      );
  }
  return o;
}

function printReport(r: IntegrationReport): void {
  for (const t of r.tests) {
    const mark = t.state === 'passed' ? 'ok  ' : t.state === 'pending' ? 'skip' : 'FAIL';
    console.log(`  ${mark} [${t.kind}] ${t.title} (${(t.durationMs / 1000).toFixed(1)} s)`);
    if (t.error)
      console.log(
        t.error
          .split('\n')
          .slice(0, 12)
          .map((l) => `         ${l}`)
          .join('\n'),
      );
  }
  for (const e of r.errors) console.log(`  ERROR ${e}`);
  const skipped = r.tests.filter((t) => t.state === 'pending').length;
  const extra = [skipped ? `${skipped} skipped` : '', r.errors.length ? `${r.errors.length} run errors` : ''].filter(Boolean);
  console.log(`integration: ${r.passed} passed, ${r.failed} failed${extra.map((e) => `, ${e}`).join('')}`);
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  runIntegration(options)
    .then((report) => {
      printReport(report);
      if (options.report) writeFileSync(options.report, JSON.stringify(report, null, 2));
      process.exit(report.failed === 0 && report.errors.length === 0 ? 0 : 1);
    })
    .catch((e: unknown) => {
      const report: IntegrationReport = { passed: 0, failed: 0, tests: [], errors: [errorText(e)] };
      printReport(report);
      if (options.report) writeFileSync(options.report, JSON.stringify(report, null, 2));
      process.exit(1);
    });
}
