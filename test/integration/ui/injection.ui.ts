/**
 * The injection corpus in the REAL workbench: the real agent, on a scripted model server, streams
 * the 38 cases of test/webview/support/injectionCorpus.ts as send_message texts, plus live canaries
 * (a flag, a title change, requests to a listener on 127.0.0.1 started here); a workspace whose files
 * have hostile NAMES (markup, `javascript:`, quotes, backticks) and hostile contents comes back in
 * list_files, read_file, archival and conversation search results, a core-memory edit and the
 * model's monologue, and the model cites the files as `path:line` and as links.
 * Then every link in the chat is clicked. Proof that nothing ran: no dialog ever opened, no canary
 * changed in any frame, the listener heard nothing, no on* attribute or javascript:/data: URL in the
 * chat frame, no page or navigation, only workspace files opened in editors, and the webview kept
 * its CSP (meta, default-src 'none', nonce-only scripts). One dedicated code-server.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import { FUNCTION_ARGUMENTS_MAX_CHARS, MAX_FUNCTION_CALLS_PER_RESPONSE } from '../../../src/core/limits';
import type { ServerNeeds, UiScenario, WorkbenchUi } from '../../harness/ui';
import { reply, sendMessage, toolCall, toolCalls, type FakeOpenAIServer, type TurnScript } from '../../fixtures/fakeOpenAIServer';
import { CANARY, curlPipeShInstructions, MARKDOWN_CORPUS } from '../../webview/support/injectionCorpus';
import { activeTabLabel, assertThat, completeReply, replies, say, scriptedModel, until } from './agentChatSupport';

/** Hostile names the file system takes (no slash), each with hostile contents the agent will read. */
const IMG_FILE = '<img src=x onerror=alert(1)>.ts';
const JS_FILE = 'javascript:alert(1).md';
const QUOTE_FILE = '" onmouseover="alert(1)" x=".ts';
const BACKTICK_FILE = '`${alert(1)}` onfocus=alert(1) autofocus.md';
const HALF_CITABLE_FILE = 'onerror=alert.ts';
const HOSTILE_FILES = [IMG_FILE, JS_FILE, QUOTE_FILE, BACKTICK_FILE, HALF_CITABLE_FILE];
const MARKER = 'quokka marmalade';

function hostileContents(name: string): string {
  return [
    `// ${MARKER}: ${name}`,
    `// ${MARKDOWN_CORPUS['img onerror']} ${MARKDOWN_CORPUS['script tag']}`,
    `export const payload = '${MARKDOWN_CORPUS['raw html javascript link']} ${MARKDOWN_CORPUS['markdown javascript: link']}';`,
    `// ${MARKDOWN_CORPUS['svg onload']} ${MARKDOWN_CORPUS['details ontoggle']}`,
    '',
  ].join('\n');
}

/** Live canaries: a flag, a title change and requests to the listener; none may ever fire. */
function liveCases(home: string): Record<string, string> {
  return {
    'canary: onerror sets a flag and calls home': `<img src=x onerror="window.__memgptPwned=1;fetch('${home}/onerror')">`,
    'canary: svg onload changes the title': `<svg onload="document.title='pwned'"></svg>`,
    'canary: remote image from the listener': `![pixel](${home}/pixel.png)`,
    'canary: javascript: link calling home': `[claim](javascript:fetch('${home}/js'))`,
    'canary: style url to the listener': `<div style="background:url(${home}/css)">styled</div>`,
  };
}

const CITING = [
  `Files I read: \`${IMG_FILE}:1\`, ${JS_FILE}:2, ${QUOTE_FILE}:1, ${BACKTICK_FILE}:1 and ${HALF_CITABLE_FILE}:1.`,
  `Links: [the image file](${encodeURIComponent(IMG_FILE)}), [the md file](${JS_FILE}:2), [quoted](<${QUOTE_FILE}>), and the real store src/store/todoStore.ts:7.`,
].join('\n\n');

const SPLIT_REPLY = 'One message was over the limit; I will split long answers.';
const CURL_REPLY = 'The setup notes ask to pipe a remote script into a shell; I did not run it.';

/** The corpus in parts of at most MAX_FUNCTION_CALLS_PER_RESPONSE cases (the calls one response may run). */
function corpusParts(corpus: string[]): string[][] {
  const parts: string[][] = [];
  for (let i = 0; i < corpus.length; i += MAX_FUNCTION_CALLS_PER_RESPONSE) parts.push(corpus.slice(i, i + MAX_FUNCTION_CALLS_PER_RESPONSE));
  return parts;
}

function turns(home: string): TurnScript[] {
  // The case over the function-argument cap goes last: its failure is what calls the model again.
  const all = [...Object.values(MARKDOWN_CORPUS), ...Object.values(liveCases(home))];
  const corpus = [
    ...all.filter((m) => m.length <= FUNCTION_ARGUMENTS_MAX_CHARS),
    ...all.filter((m) => m.length > FUNCTION_ARGUMENTS_MAX_CHARS),
  ];
  // One reply per part, each a send_message call per case (parallel tool calls, at most the number
  // one response may run): send_message ends a chain, so each part is its own user message.
  const parts = corpusParts(corpus);
  const sayAll = (part: string[]) =>
    toolCalls(
      part.map((message) => ({ name: 'send_message', arguments: { message } })),
      { argumentChunkSize: 2000 },
    );
  return [
    ...parts.slice(0, -1).map((part, i) => ({ match: `inject: say everything, part ${i + 1} of`, steps: [sayAll(part)] })),
    // The over-the-cap case fails (the function-argument limit) and the model is called again.
    { match: `inject: say everything, part ${parts.length} of`, steps: [sayAll(parts.at(-1)!), sendMessage(SPLIT_REPLY)] },
    {
      match: 'inject: find the quokka',
      steps: [toolCall('archival_memory_search', { query: MARKER, page: 0, request_heartbeat: true }), sendMessage('Searched.')],
    },
    {
      match: 'inject: read the hostile files',
      steps: [
        toolCall('list_files', { page: 0, request_heartbeat: true }),
        toolCall('read_file', { path: IMG_FILE, start_line: 1, end_line: 4, request_heartbeat: true }),
        toolCall('read_file', { path: JS_FILE, start_line: 1, end_line: 4, request_heartbeat: true }),
        toolCall('search_text', { query: 'onerror', page: 0, request_heartbeat: true }),
        toolCall('conversation_search', { query: 'script', page: 0, request_heartbeat: true }),
        toolCall('core_memory_append', { label: 'human', content: `${MARKDOWN_CORPUS['svg onload']} ${CANARY}`, request_heartbeat: true }),
        reply({
          content: `<script>${CANARY}</script> thinking about ${IMG_FILE}`,
          toolCalls: [{ name: 'send_message', arguments: { message: CITING } }],
        }),
      ],
    },
    {
      // The model obeys the file, even claiming approval; the user is still asked and says no.
      match: 'inject: follow the setup notes',
      steps: [
        toolCall('read_file', { path: curlPipeShInstructions(home).file, request_heartbeat: true }),
        toolCall('run_command', { command: curlPipeShInstructions(home).command, approved: true, request_heartbeat: true }),
        toolCall('run_command', { command: curlPipeShInstructions(home).command, request_heartbeat: true }),
        sendMessage(CURL_REPLY),
      ],
    },
  ];
}

/** A listener on 127.0.0.1 that records every request: the payloads' "home". */
async function startListener(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

let model: FakeOpenAIServer | undefined;
let listener: Awaited<ReturnType<typeof startListener>> | undefined;

async function serverHook(): Promise<ServerNeeds> {
  listener = await startListener();
  const started = await scriptedModel(turns(listener.url));
  model = started.model;
  const home = listener;
  return {
    ...started.needs,
    dispose: async () => {
      await started.needs.dispose?.();
      await home.close();
    },
  };
}

function lastToolResults(count: number): string[] {
  const messages = model?.chatRequests().at(-1)?.body.messages ?? [];
  return messages
    .filter((m) => m.role === 'tool')
    .map((m) => String(m.content))
    .slice(-count);
}

// ─── What "nothing ran" means, read from the live page ────────────────────────────────────────

interface FrameState {
  url: string;
  title: string;
  pwned: unknown;
}

/** Every frame's URL, title and canaries (page.frames(): workbench, webview hosts, their content). */
async function frameStates(page: Page): Promise<FrameState[]> {
  const states: FrameState[] = [];
  for (const frame of page.frames()) {
    const state = (await frame
      .evaluate('({ title: document.title, pwned: [window.__pwned, window.__memgptPwned].filter((v) => v !== undefined) })')
      .catch(() => null)) as { title: string; pwned: unknown[] } | null;
    if (state) states.push({ url: frame.url(), title: state.title, pwned: state.pwned.length > 0 ? state.pwned : undefined });
  }
  return states;
}

/** on* attributes, script-capable URLs and active elements anywhere in the chat frame's document. */
const UNSAFE_DOM = `(() => {
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (name.startsWith('on')) problems.push(el.tagName + ' ' + name);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc', 'poster', 'background'].includes(name) && /^(javascript|vbscript|data):/.test(value)) {
        problems.push(el.tagName + ' ' + name + '=' + value.slice(0, 60));
      }
    }
  }
  // VS Code's webview host opens the href of any anchor a user clicks: only '#' may be there.
  for (const a of document.querySelectorAll('a[href]')) {
    if (a.getAttribute('href') !== '#') problems.push('A href=' + a.getAttribute('href').slice(0, 60));
  }
  const items = document.querySelector('.items');
  for (const el of items ? items.querySelectorAll('script, iframe, frame, object, embed, form, base, meta, link, style, img, svg, math, input, button[formaction]') : []) {
    if (!el.closest('.card-header, .code-toolbar')) problems.push('element ' + el.tagName.toLowerCase());
  }
  return problems;
})()`;

/** The live frame's CSP meta and whether every script carries its nonce. */
const CSP_STATE = `(() => {
  const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
  const policy = meta ? meta.getAttribute('content') : null;
  const nonce = policy && /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy);
  const scripts = [...document.scripts].map((s) => ({ nonce: s.nonce || s.getAttribute('nonce') || '', inline: !s.src }));
  return { policy, nonce: nonce ? nonce[1] : null, scripts };
})()`;

/**
 * Webview → host messages, recorded in the webview's host frame: the content frame calls the host
 * frame's `__vscode_post_message__`, which passes `{ channel: 'onmessage', data }` on through a
 * MessagePort to the workbench; the port's postMessage is wrapped to keep a copy.
 */
const RECORD_POSTS = `(() => {
  window.__memgptPosts = [];
  const original = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (...args) {
    try {
      const s = JSON.stringify(args[0]);
      if (s && /"type":"open(Citation|External)"/.test(s)) window.__memgptPosts.push(s.slice(0, 4000));
    } catch {}
    return original.apply(this, args);
  };
  return true;
})()`;

function chatHostFrame(page: Page): Frame {
  const frame = page
    .frames()
    .find((f) => f.url().includes('extensionId=memgpt-vscode.memgpt-vscode') && f.url().includes('purpose=webviewView'));
  if (!frame)
    throw new Error(
      `The chat webview's host frame was not found among: ${page
        .frames()
        .map((f) => f.url().slice(0, 120))
        .join(' | ')}`,
    );
  return frame;
}

/** Paths that a webview → host message asked to open (openCitation), and external URLs (openExternal). */
function parsePosts(posts: string[]): { citations: string[]; external: string[] } {
  const citations: string[] = [];
  const external: string[] = [];
  for (const p of posts) {
    for (const m of p.matchAll(/"type":"openCitation","payload":\{"path":"((?:[^"\\]|\\.)*)"/g))
      citations.push(JSON.parse(`"${m[1]}"`) as string);
    for (const m of p.matchAll(/"type":"openExternal","payload":\{"url":"((?:[^"\\]|\\.)*)"/g))
      external.push(JSON.parse(`"${m[1]}"`) as string);
  }
  return { citations, external };
}

/** Relative paths of every file in the workspace copy. */
function workspaceFiles(root: string): Set<string> {
  const out = new Set<string>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.add(path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  }
  return out;
}

/** Labels of the open editor tabs (name first, e.g. "todoStore.ts, preview"). */
async function tabNames(page: Page): Promise<string[]> {
  const labels = await page.locator('.tabs-container .tab').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('aria-label') ?? ''));
  return labels.map((l) => l.replace(/, (preview|pinned|Editor Group \d+).*$/, '').trim());
}

// ─── The scenario ─────────────────────────────────────────────────────────────────────────────

async function corpusInTheChat(chat: FrameLocator): Promise<void> {
  const cases = Object.keys(MARKDOWN_CORPUS).length + Object.keys(liveCases(listener!.url)).length;
  const parts = Math.ceil(cases / MAX_FUNCTION_CALLS_PER_RESPONSE);
  for (let part = 1; part <= parts; part++) {
    await say(chat, `inject: say everything, part ${part} of ${parts}`);
    if (part < parts) await completeReply(chat, Math.min(part * MAX_FUNCTION_CALLS_PER_RESPONSE, cases) - 1);
  }
  assertThat(
    (await completeReply(chat, cases)) === SPLIT_REPLY,
    'The turn should end with the reply to the failed over-long send_message.',
  );
  const shown = await replies(chat).count();
  assertThat(shown === cases + 1, `Every case should be its own reply: ${shown} of ${cases} + 1.`);
  const failed = (model?.chatRequests().at(-1)?.body.messages ?? []).filter(
    (m) => m.role === 'tool' && String(m.content).includes('"status":"Failed"'),
  );
  assertThat(
    failed.length === 1 && String(failed[0]!.content).includes('too long'),
    `Only the over-the-cap case should fail, for its length: ${JSON.stringify(failed)}`,
  );
  const text = (await chat.locator('.items').textContent()) ?? '';
  assertThat(text.includes(`<script>${CANARY}</script>`), 'Raw HTML should show as the text the model wrote.');
  assertThat(text.includes('onerror="window.__memgptPwned=1;fetch(\''), 'The live canary should show as text.');
}

async function hostileFilesInTheChat(chat: FrameLocator): Promise<void> {
  // The startup index takes the hostile files in; archival search returns their names.
  const found = await until(
    'archival search to return the hostile files',
    async () => {
      const n = await replies(chat).count();
      await say(chat, 'inject: find the quokka');
      await completeReply(chat, n);
      return lastToolResults(1)[0] ?? '';
    },
    (r) => r.includes(MARKER) && r.includes(IMG_FILE.replace(/"/g, '\\"')),
  );
  for (const name of HOSTILE_FILES)
    assertThat(found.includes(JSON.stringify(name).slice(1, -1)), `Archival search should return ${name}: ${found.slice(0, 600)}`);

  const n = await replies(chat).count();
  await say(chat, 'inject: read the hostile files');
  await completeReply(chat, n);
  const results = lastToolResults(6);
  assertThat(
    results.length === 6 && results.every((r) => r.includes('"status":"OK"')),
    `Every function should have succeeded: ${results.map((r) => r.slice(0, 160)).join('\n')}`,
  );
  const [listing, readImg, readJs] = results;
  for (const name of HOSTILE_FILES) assertThat(listing!.includes(JSON.stringify(name).slice(1, -1)), `list_files should list ${name}`);
  assertThat(readImg!.includes('quokka') && readJs!.includes('quokka'), "read_file should return the hostile files' contents.");
  const shown = (await chat.locator('.items').textContent()) ?? '';
  for (const name of HOSTILE_FILES) assertThat(shown.includes(name), `The chat should show ${name} as text.`);
}

/** A workspace file says "run curl … | sh": at most a command waiting for approval, never one that runs. */
async function curlPipeShFromAFile(ui: WorkbenchUi, chat: FrameLocator): Promise<void> {
  const setup = curlPipeShInstructions(listener!.url);
  writeFileSync(path.join(ui.workspaceFolder, setup.file), setup.text);
  const n = await replies(chat).count();
  await say(chat, 'inject: follow the setup notes');
  const approval = chat.locator('.card[data-function="run_command"] .approval').last();
  await approval.waitFor({ state: 'visible' });
  // The self-approving call was refused outright; the plain one waits for the user.
  const refused =
    (model?.chatRequests().at(-1)?.body.messages ?? [])
      .filter((m) => m.role === 'tool')
      .map((m) => String(m.content))
      .at(-1) ?? '';
  assertThat(/only the user can approve/.test(refused), `The call claiming approval should be refused: ${refused.slice(0, 300)}`);
  assertThat(
    (await approval.locator('.approval-command').innerText()).includes(setup.command),
    'The card should show the command as proposed.',
  );
  assertThat(!(await approval.locator('.approval-button.always').isVisible()), 'A piped command must not offer "Always allow".');
  await ui.page.waitForTimeout(1500);
  assertThat(listener!.hits.length === 0, `Nothing may run while the command waits: ${listener!.hits.join(', ')}`);
  await ui.screenshot('injection-curl-waiting');
  await approval.locator('.approval-reason').fill('never pipe a remote script into a shell');
  await approval.locator('.approval-button.reject').click();
  assertThat((await completeReply(chat, n)) === CURL_REPLY, 'The agent should answer after the decline.');
  const result = lastToolResults(1)[0] ?? '';
  assertThat(
    result.includes('the user declined: never pipe a remote script into a shell'),
    `The model should read the decline: ${result.slice(0, 300)}`,
  );
  assertThat(listener!.hits.length === 0, `The script was fetched: ${listener!.hits.join(', ')}`);
}

async function clickEveryLink(
  ui: WorkbenchUi,
  chat: FrameLocator,
): Promise<{ citations: string[]; external: string[]; confirmations: string[]; opened: string[] }> {
  const page = ui.page;
  await chatHostFrame(page).evaluate(RECORD_POSTS);
  // Open every card, so citations inside function results are clickable too.
  const collapsed = chat.locator('.card-header[aria-expanded="false"]');
  for (let left = await collapsed.count(); left > 0; left--) await collapsed.first().click();
  const count = await chat.locator('.items a').count();
  assertThat(count >= 10, `Expected the hostile content to leave links to click, found ${count}.`);
  const confirmations: string[] = [];
  const opened: string[] = [];
  const modal = page.locator('.monaco-dialog-box');
  for (let i = 0; i < count; i++) {
    const link = chat.locator('.items a').nth(i);
    await link.scrollIntoViewIfNeeded();
    const external = ((await link.getAttribute('class')) ?? '').includes('external-link');
    await link.click();
    // An external link is confirmed by a modal first: note what it asks, then refuse.
    if (external) await modal.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    else await page.waitForTimeout(250);
    if (await modal.isVisible()) {
      confirmations.push((await modal.innerText()).replace(/\s+/g, ' '));
      await page.keyboard.press('Escape');
      await modal.waitFor({ state: 'hidden' });
    }
    // Citations open preview editors that replace each other: note each one as it shows.
    opened.push(...(await tabNames(page)));
  }
  await page.waitForTimeout(1500); // the host opens editors asynchronously
  const posts = (await chatHostFrame(page).evaluate('window.__memgptPosts')) as string[];
  return { ...parsePosts(posts), confirmations, opened: [...new Set(opened)] };
}

export const scenarios: UiScenario[] = [
  {
    title:
      'injection: the 38-case corpus and hostile file names through the real agent render inert in the real workbench; every link clicked opens only workspace files',
    workspace: { files: Object.fromEntries(HOSTILE_FILES.map((name) => [name, hostileContents(name)])) },
    server: serverHook,
    async run(ui) {
      const page = ui.page;
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss().catch(() => undefined);
      });
      const popups: string[] = [];
      page.context().on('page', (p) => popups.push(p.url()));
      const workbenchUrl = page.url();
      for (const name of HOSTILE_FILES)
        assertThat(existsSync(path.join(ui.workspaceFolder, name)), `The file system should take the name ${name}.`);

      // The harness's settings route, proven here: the dark theme reaches the chat.
      const chat = await ui.openMemGptView();
      await ui.updateSettings({ 'workbench.colorTheme': 'Dark 2026' });
      await chat.locator('body.vscode-dark').waitFor({ state: 'attached' });
      const before = await frameStates(page);

      await corpusInTheChat(chat);
      await hostileFilesInTheChat(chat);
      await curlPipeShFromAFile(ui, chat);
      await ui.screenshot('injection-live');
      const { citations, external, confirmations, opened } = await clickEveryLink(ui, chat);

      // Nothing ran, anywhere.
      assertThat(dialogs.length === 0, `A dialog opened: ${dialogs.join(' | ')}`);
      assertThat(listener!.hits.length === 0, `The listener on 127.0.0.1 was reached: ${listener!.hits.join(', ')}`);
      const after = await frameStates(page);
      const pwned = after.filter((f) => f.pwned !== undefined);
      assertThat(pwned.length === 0, `A canary was set in: ${JSON.stringify(pwned)}`);
      // The workbench's own title follows the active editor; every other frame's must not move.
      for (const b of before.filter((f) => f.url !== workbenchUrl)) {
        const a = after.find((f) => f.url === b.url);
        assertThat(!a || a.title === b.title, `A frame's title changed: "${b.title}" → "${a?.title}" (${b.url.slice(0, 100)})`);
      }
      assertThat(!after.some((f) => /pwned/i.test(f.title)), 'No frame may be titled "pwned".');
      const unsafe = (await chat.locator('body').evaluate(UNSAFE_DOM)) as string[];
      assertThat(unsafe.length === 0, `Unsafe markup reached the chat frame: ${unsafe.slice(0, 20).join(', ')}`);

      // The CSP of the live frame: present, default-src 'none', scripts only by its nonce.
      const csp = (await chat.locator('body').evaluate(CSP_STATE)) as {
        policy: string | null;
        nonce: string | null;
        scripts: { nonce: string; inline: boolean }[];
      };
      assertThat(
        csp.policy !== null && csp.policy.includes("default-src 'none'"),
        `The chat frame should carry its CSP meta: ${csp.policy}`,
      );
      assertThat(csp.nonce !== null && csp.nonce.length >= 16, `The CSP should allow scripts by a nonce: ${csp.policy}`);
      assertThat(
        !/unsafe-inline|unsafe-eval|\*/.test(csp.policy.split(';').find((d) => d.trim().startsWith('script-src')) ?? ''),
        `script-src must stay nonce-only: ${csp.policy}`,
      );
      // The content frame's own scripts (the bundle) carry the nonce; VS Code's injected helper is inline in its host frame, not here.
      const ours = csp.scripts.filter((s) => !s.inline);
      assertThat(
        ours.length >= 1 && ours.every((s) => s.nonce === csp.nonce),
        `Every script in the chat frame should carry the nonce: ${JSON.stringify(csp.scripts)}`,
      );

      // Clicks: no page, no navigation, no external URL but http(s)/mailto, and only workspace files opened.
      assertThat(popups.length === 0, `A click opened a page: ${popups.join(', ')}`);
      assertThat(page.url() === workbenchUrl, `The workbench navigated to ${page.url()}`);
      for (const url of external) assertThat(/^(https?|mailto):/i.test(url), `A link asked the host to open ${url}`);
      assertThat(citations.includes(IMG_FILE), `The hostile file's citation should ask for the file itself: ${JSON.stringify(citations)}`);
      for (const c of confirmations)
        assertThat(
          /^Cancel Open Link Open this link from the MemGPT chat in your browser\? https?:\/\//.test(c),
          `An external link should be confirmed first: ${c}`,
        );
      assertThat(
        confirmations.length === external.length,
        `Every external link should have asked first (${confirmations.length} asked, ${external.length} requested).`,
      );
      const names = new Set([...workspaceFiles(ui.workspaceFolder)].map((f) => path.posix.basename(f)));
      assertThat(opened.length > 0, 'Clicking the citations should have opened workspace files.');
      for (const tab of opened)
        assertThat(names.has(tab), `An editor opened something that is not a workspace file: "${tab}" (opened: ${JSON.stringify(opened)})`);

      // The hostile file's citation (its read_file card) opens the file itself.
      await chat.locator('.card[data-function="read_file"] a.citation', { hasText: IMG_FILE }).first().click();
      await until(
        'the hostile file in the editor',
        () => activeTabLabel(page),
        (t) => t.startsWith(IMG_FILE),
      );
      await ui.screenshot('injection-live-clicked');
    },
  },
];
