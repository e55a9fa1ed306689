/**
 * Starts the real VS Code server (code-server on Node 24) on 127.0.0.1 for tests and `npm start`.
 * Everything it writes (user data, extensions, XDG dirs) stays under the given folders; it runs in
 * its own process group, which `stop()` (or the end of this process) kills as a whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HARNESS_SERVER_READY_TIMEOUT_MS, HARNESS_STOP_GRACE_MS } from '../../src/core/limits';
import { freePort, portIsFree } from './freePort';
import type { HostPaths } from './hostInstall';
import { stopGroup, trackGroup } from './processGroups';

export interface CodeServerOptions {
  host: HostPaths;
  /** Scratch folder for config.yaml and XDG dirs. */
  stateDir: string;
  /** VS Code user data (settings, globalStorage, SecretStorage). Persistent for `npm start`, temporary in tests. */
  userDataDir: string;
  extensionsDir: string;
  /** Where the server's stdout/stderr go. */
  logFile: string;
  /** Preferred port; when taken (or absent) a free one is used. */
  port?: number;
  /** Merged over the defaults and the existing User/settings.json (e.g. `memgpt.baseUrl`). */
  settings?: Record<string, unknown>;
  /** Settings written only where the user has none. Default: QUIET_SETTINGS (tests). */
  defaultSettings?: Readonly<Record<string, unknown>>;
  /** Extra environment of the server and so of its extension host (e.g. OPENAI_API_KEY). */
  env?: Record<string, string>;
  /** False keeps workspace trust on (for restricted-mode tests). Default true. */
  disableWorkspaceTrust?: boolean;
  /** Extensions installed into `extensionsDir` before start (folders or .vsix). */
  installExtensions?: string[];
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Settings that keep the workbench quiet and offline. */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'security.workspace.trust.startupPrompt': 'never',
};

/** For `npm start`: offline and private, but otherwise the VS Code a user knows (git, trust prompt). */
export const PRODUCT_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  // With the editor's own AI features off, the secondary side bar would open empty beside the editor.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
};

/** Writes User/settings.json: `defaults`, then what is already there, then `extra`. */
export function writeUserSettings(
  userDataDir: string,
  extra: Record<string, unknown> = {},
  defaults: Readonly<Record<string, unknown>> = QUIET_SETTINGS,
): string {
  const userDir = path.join(userDataDir, 'User');
  mkdirSync(userDir, { recursive: true });
  const file = path.join(userDir, 'settings.json');
  let existing: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
  } catch {
    // Absent, or hand-edited with comments: our keys are written over a fresh object.
  }
  writeFileSync(file, JSON.stringify({ ...defaults, ...existing, ...extra }, null, 2) + '\n');
  return file;
}

function serverArgs(o: CodeServerOptions, port: number, configFile: string): string[] {
  const args = [
    o.host.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--config',
    configFile,
    '--user-data-dir',
    o.userDataDir,
    '--extensions-dir',
    o.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--reconnection-grace-time',
    '5',
    // Lets the workbench honour `payload` (extension development + tests) and report codeAutomationExit.
    '--vscode-option',
    'enable-smoke-test-driver',
  ];
  if (o.disableWorkspaceTrust !== false) args.push('--disable-workspace-trust');
  return args;
}

function serverEnv(o: CodeServerOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(o.stateDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(o.stateDir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(o.stateDir, 'xdg-cache'),
    // The Node 24 folder first, so helpers code-server spawns by name find the same Node.
    PATH: `${path.dirname(o.host.node24)}${path.delimiter}${process.env.PATH ?? ''}`,
    ...o.env,
  };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForHealth(url: string, exited: () => string | undefined, logFile: string): Promise<void> {
  const deadline = Date.now() + HARNESS_SERVER_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit) throw new Error(`code-server exited before it was ready (${exit}). Last lines of ${logFile}:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `code-server did not answer ${url}/healthz within ${HARNESS_SERVER_READY_TIMEOUT_MS / 1000} s. ` +
      `Last lines of ${logFile}:\n${tail(logFile)}`,
  );
}

function installExtension(o: CodeServerOptions, ext: string, configFile: string): void {
  const args = [
    o.host.codeServerEntry,
    '--config',
    configFile,
    '--user-data-dir',
    o.userDataDir,
    '--extensions-dir',
    o.extensionsDir,
    '--install-extension',
    ext,
    '--force',
  ];
  const r = spawnSync(o.host.node24, args, { env: serverEnv(o), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Installing ${ext} into code-server failed (exit ${r.status}): ${r.stderr || r.stdout}`);
}

export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  for (const dir of [o.stateDir, o.userDataDir, o.extensionsDir, path.dirname(o.logFile)]) mkdirSync(dir, { recursive: true });
  const configFile = path.join(o.stateDir, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  writeUserSettings(o.userDataDir, o.settings, o.defaultSettings);
  for (const ext of o.installExtensions ?? []) installExtension(o, ext, configFile);

  const port = o.port !== undefined && (await portIsFree(o.port)) ? o.port : await freePort();
  const log = openSync(o.logFile, 'a');
  const child = spawn(o.host.node24, serverArgs(o, port, configFile), {
    env: serverEnv(o),
    stdio: ['ignore', log, log],
    detached: true, // its own process group: stop() kills the helpers too
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`Could not spawn ${o.host.node24} for code-server.`);
  const pid = child.pid;
  trackGroup(pid);
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `exit code ${code}`));
  child.once('error', (e) => (exit = e.message));

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, () => exit, o.logFile);
  } catch (e) {
    await stopGroup(pid, HARNESS_STOP_GRACE_MS);
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    pid,
    stop: () => (stopped ??= stopGroup(pid, HARNESS_STOP_GRACE_MS)),
  };
}
