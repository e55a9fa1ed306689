/**
 * Debian's Chromium through playwright-core, and the workbench URL that loads this extension in
 * development mode (and, for in-host tests, a mocha test bundle) through the `payload` parameter.
 */
import { appendFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless, with a fresh profile (playwright makes a temp one per launch). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
}

export interface WorkbenchTarget {
  /** Absolute folder opened as the workspace. */
  folder?: string;
  /** Absolute `.code-workspace` file opened instead (multi-root). With neither, the window opens with no folder. */
  workspaceFile?: string;
  /** Absolute extension folders loaded in development mode (this repo first). */
  extensionDevelopmentPaths: string[];
  /** Absolute path of a built test bundle exporting `run()`: runs it in the extension host. */
  extensionTestsPath?: string;
}

/** `payload` paths are URIs of the remote (server) file system. */
export function workbenchUrl(serverUrl: string, target: WorkbenchTarget): string {
  const authority = new URL(serverUrl).host;
  const remote = (p: string) => `vscode-remote://${authority}${p}`;
  const payload: [string, string][] = target.extensionDevelopmentPaths.map((p) => ['extensionDevelopmentPath', remote(p)]);
  if (target.extensionTestsPath) payload.push(['extensionTestsPath', remote(target.extensionTestsPath)]);
  // `ew` (empty window) also stops code-server from redirecting to the folder it opened last.
  const opened: [string, string] =
    target.folder !== undefined
      ? ['folder', target.folder]
      : target.workspaceFile !== undefined
        ? ['workspace', target.workspaceFile]
        : ['ew', 'true'];
  const query = new URLSearchParams([opened, ['payload', JSON.stringify(payload)]]);
  return `${serverUrl}/?${query.toString()}`;
}

/**
 * Extension-host `console.*` reaches the page console as ('%c INFO', 'color: …', message, …):
 * drop the styling so the log reads like the original output.
 */
export function cleanConsoleText(text: string): string {
  return text
    .replace(/%c/g, '')
    .replace(/\s?(color|background|font-weight|font-size)\s*:[^;%]*;?/g, '')
    .replace(/^\s+/, '');
}

/** Joins console arguments, dropping the CSS argument that follows each %c. */
function formatStyled(parts: string[]): string {
  const [first = '', ...rest] = parts;
  const styles = (first.match(/%c/g) ?? []).length;
  return [first.replace(/%c/g, '').trim(), ...rest.slice(styles)].join(' ');
}

/** Appends the page's console and errors to `logFile`, one line each. */
export function recordConsole(page: Page, logFile: string, label: string): void {
  const write = (line: string) => appendFileSync(logFile, `[${new Date().toISOString()}] [${label}] ${line}\n`);
  page.on('console', (msg) => {
    // msg.text() keeps only the format string of styled logs: read the arguments themselves.
    void Promise.all(msg.args().map((a) => a.jsonValue().catch(() => '[unserializable]')))
      .then((args: unknown[]) => {
        const parts = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
        const text = parts.length > 0 ? formatStyled(parts) : msg.text();
        write(`${msg.type()}: ${text}`);
      })
      .catch(() => write(`${msg.type()}: ${cleanConsoleText(msg.text())}`));
  });
  page.on('pageerror', (err) => write(`pageerror: ${err.message}`));
}
