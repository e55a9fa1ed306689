/**
 * Runs the real chat webview bundle in Debian's headless Chromium, without VS Code: a page on
 * 127.0.0.1 rendered by the real `renderChatHtml` (so the real CSP applies), VS Code-like theme
 * variables, and a fake `acquireVsCodeApi` that records every message the webview posts.
 * Tests play the host by posting HostToWebview messages into the page.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { HostToWebview, ViewState, WebviewToHost } from '../../../src/protocol';
import { renderChatHtml } from '../../../src/webview/html';
import { THEMES, type ThemeName } from './themes';

const root = path.resolve(__dirname, '../../..');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds src/webview/main.ts exactly as esbuild.mjs does, into a private folder (tests run in parallel). */
export async function buildWebviewBundle(outDir: string, production = false): Promise<string> {
  const outfile = path.join(outDir, 'webview.js');
  await esbuild.build({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'inline',
    minify: production,
    entryPoints: [path.join(root, 'src/webview/main.ts')],
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

// Installed before the bundle (same nonce): the fake VS Code API, the canary every injection
// payload tries to set, and a recorder of CSP violations (each one is a blocked attempt).
const FAKE_VSCODE = `
window.__posted = [];
window.__pwned = 0;
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
});
window.alert = window.confirm = window.prompt = function () { window.__pwned += 1; };
// Saved webview state from a previous life of the view, as VS Code restores it (?state=<json>).
var __state = (function () { try { var s = new URLSearchParams(location.search).get('state'); return s ? JSON.parse(s) : undefined; } catch (e) { return undefined; } })();
window.acquireVsCodeApi = function () {
  return {
    postMessage: function (m) { window.__posted.push(JSON.parse(JSON.stringify(m))); },
    getState: function () { return __state; },
    setState: function (s) { __state = s; },
  };
};
`;

export interface WebviewHarness {
  origin: string;
  context: BrowserContext;
  /** A fresh page with the chat loaded in `theme` (it has posted `ready`). */
  /** `savedState`: what the view saved with setState before (VS Code hands it back on reload). */
  open(theme?: ThemeName, viewport?: { width: number; height: number }, savedState?: unknown): Promise<ChatPage>;
  close(): Promise<void>;
}

export async function startWebviewHarness(): Promise<WebviewHarness> {
  const work = mkdtempSync(path.join(tmpdir(), 'memgpt-webview-'));
  const bundle = await buildWebviewBundle(work);
  const codicons = path.join(root, 'node_modules/@vscode/codicons/dist');
  const files: Record<string, { file: string; type: string }> = {
    '/dist/webview.js': { file: bundle, type: 'text/javascript' },
    '/dist/codicon.css': { file: path.join(codicons, 'codicon.css'), type: 'text/css' },
    '/dist/codicon.ttf': { file: path.join(codicons, 'codicon.ttf'), type: 'font/ttf' },
    '/media/chat.css': { file: path.join(root, 'media/chat.css'), type: 'text/css' },
  };
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/') {
      const theme = (url.searchParams.get('theme') ?? 'dark') as ThemeName;
      let html = renderChatHtml({
        cspSource: origin,
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/media/chat.css`,
        codiconUri: `${origin}/dist/codicon.css`,
      });
      // The page makes its own nonce each render; the fake VS Code script borrows it.
      const nonce = /script-src 'nonce-([0-9a-f]+)'/.exec(html)?.[1] ?? '';
      // VS Code injects the theme variables and the body class itself; we do it with a stylesheet
      // (allowed by style-src) and a nonce'd script placed before the bundle.
      html = html.replace('</head>', `<link rel="stylesheet" href="${origin}/theme/${theme}.css">\n</head>`);
      html = html.replace('<body>', `<body class="${THEMES[theme].bodyClass}">`);
      html = html.replace('<script nonce', `<script nonce="${nonce}" src="${origin}/fake-vscode.js"></script>\n<script nonce`);
      return send(200, 'text/html; charset=utf-8', html);
    }
    if (url.pathname === '/fake-vscode.js') return send(200, 'text/javascript', FAKE_VSCODE);
    const themeMatch = /^\/theme\/(\w+)\.css$/.exec(url.pathname);
    if (themeMatch && themeMatch[1]! in THEMES) return send(200, 'text/css', THEMES[themeMatch[1] as ThemeName].css);
    const entry = files[url.pathname];
    if (entry) return send(200, entry.type, readFileSync(entry.file));
    // Anything else (an injected <img src>, a remote font) is recorded as a request the page made.
    requestsOutside.push(url.pathname);
    send(404, 'text/plain', 'not found');
  });
  const requestsOutside: string[] = [];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = path.join(work, 'profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 420, height: 760 },
  });
  return {
    origin,
    context,
    async open(theme: ThemeName = 'dark', viewport = { width: 420, height: 760 }, savedState?: unknown) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      const state = savedState === undefined ? '' : `&state=${encodeURIComponent(JSON.stringify(savedState))}`;
      await page.goto(`${origin}/?theme=${theme}${state}`);
      const chat = new ChatPage(page);
      await chat.waitForPosted((m) => m.type === 'ready');
      return chat;
    },
    async close() {
      await context.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export const READY_STATE: ViewState = {
  backend: 'ready',
  agents: [{ id: 'agent-1', name: 'MemGPT' }],
  activeAgentId: 'agent-1',
  setup: { configured: true, hasApiKey: true, baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1' },
  busy: false,
  usage: null,
};

/** One page of the chat, driven as the host would. */
export class ChatPage {
  constructor(readonly page: Page) {}

  async post(message: HostToWebview): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), message);
  }

  async event(event: AgentEvent): Promise<void> {
    await this.post({ type: 'agentEvent', payload: { event } });
  }

  async events(events: AgentEvent[]): Promise<void> {
    for (const e of events) await this.event(e);
  }

  async posted(): Promise<WebviewToHost[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);
  }

  async waitForPosted(predicate: (m: WebviewToHost) => boolean, timeoutMs = 5000): Promise<WebviewToHost> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.posted()).find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`the webview did not post the expected message; posted: ${JSON.stringify(await this.posted())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Answers the latest request of `method` (after `afterId`) with `result`, returns its id. */
  async answer(method: string, result: unknown, afterId = 0): Promise<number> {
    const req = await this.waitForPosted((m) => m.type === 'request' && m.payload.method === method && m.payload.id > afterId);
    if (req.type !== 'request') throw new Error('unreachable');
    await this.post({ type: 'response', payload: { id: req.payload.id, method: req.payload.method, ok: true, result } as never });
    return req.payload.id;
  }

  async fail(method: string, error: string, afterId = 0): Promise<number> {
    const req = await this.waitForPosted((m) => m.type === 'request' && m.payload.method === method && m.payload.id > afterId);
    if (req.type !== 'request') throw new Error('unreachable');
    await this.post({ type: 'response', payload: { id: req.payload.id, method: req.payload.method, ok: false, error } });
    return req.payload.id;
  }

  /** Sends a ready state and answers the first history request with `records`. */
  async boot(records: unknown[] = [], hasMore = false, state: ViewState = READY_STATE): Promise<void> {
    await this.post({ type: 'state', payload: state });
    await this.answer('history', { records, hasMore });
  }

  /** Everything that proves no injected script ran and no unsafe markup reached the DOM. */
  async safetyReport(): Promise<{ pwned: number; violations: unknown[]; problems: string[] }> {
    return this.page.evaluate(() => {
      const w = window as unknown as { __pwned: number; __cspViolations: unknown[] };
      const problems: string[] = [];
      const all = Array.from(document.querySelectorAll('*'));
      for (const el of all) {
        for (const a of Array.from(el.attributes)) {
          if (/^on/i.test(a.name)) problems.push(`${el.tagName} has ${a.name}`);
          // Our own CSSOM sizing (meter bars, the growing input) is the only style allowed.
          const ownSizing =
            (el.matches('.meter-part') && /^width: [\d.]+%;$/.test(a.value)) ||
            (el.matches('.composer-input') && /^height: [\d.]+px;$/.test(a.value));
          if (a.name === 'style' && !ownSizing) problems.push(`${el.tagName} has style="${a.value.slice(0, 60)}"`);
          if (/^\s*(javascript|data|vbscript):/i.test(a.value.replace(/[\u0000-\u0020]/g, '')) && /href|src|action|xlink/i.test(a.name)) {
            problems.push(`${el.tagName} ${a.name}=${a.value.slice(0, 40)}`);
          }
        }
      }
      const scripts = Array.from(document.querySelectorAll('script'));
      if (scripts.length !== 2) problems.push(`${scripts.length} script elements (expected the fake API and the bundle)`);
      for (const tag of [
        'iframe',
        'object',
        'embed',
        'img',
        'svg',
        'style',
        'form',
        'meta[http-equiv="refresh"]',
        'base',
        'link:not([rel="stylesheet"])',
      ]) {
        const n = document.querySelectorAll(`#app ${tag}`).length;
        if (n > 0) problems.push(`${n} <${tag}> inside the chat`);
      }
      for (const link of Array.from(document.querySelectorAll('link[rel="stylesheet"]'))) {
        const href = link.getAttribute('href') ?? '';
        if (!href.startsWith(location.origin)) problems.push(`foreign stylesheet ${href}`);
      }
      return { pwned: w.__pwned, violations: w.__cspViolations, problems };
    });
  }
}
