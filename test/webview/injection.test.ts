// Hostile text in model output, function calls, file names, history and errors renders inert:
// no script runs (canary), nothing is even attempted (no CSP violation), no unsafe markup or
// links reach the DOM, no request leaves for anything but our own resources.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent } from '../../src/core/agent/events';
import type { RecallRecord } from '../../src/core/interfaces/recallStore';
import { isWebviewToHost } from '../../src/protocol';
import { CANARY, HOSTILE_FILE, MARKDOWN_CORPUS } from './support/injectionCorpus';
import { startWebviewHarness, type ChatPage, type WebviewHarness } from './support/webviewPage';

function hostileEvents(): AgentEvent[] {
  const events: AgentEvent[] = [];
  let n = 0;
  for (const text of Object.values(MARKDOWN_CORPUS)) {
    n += 1;
    events.push({ type: 'function_call_started', stepId: `s${n}`, callId: `c${n}`, name: 'send_message', arguments: '' });
    events.push({ type: 'message_delta', stepId: `s${n}`, callId: `c${n}`, delta: text.slice(0, Math.ceil(text.length / 2)) });
    events.push({ type: 'message_delta', stepId: `s${n}`, callId: `c${n}`, delta: text.slice(Math.ceil(text.length / 2)) });
    events.push({ type: 'message_complete', stepId: `s${n}`, callId: `c${n}`, text });
  }
  const args = JSON.stringify({ path: HOSTILE_FILE, start_line: 1, end_line: 5, label: '<script>alert(1)</script>' });
  events.push(
    { type: 'monologue', stepId: 'm1', text: `<script>${CANARY}</script> thinking about <img src=x onerror=alert(1)>` },
    { type: 'function_call_started', stepId: 'f', callId: 'f1', name: 'read_file', arguments: args },
    {
      type: 'function_call_finished',
      stepId: 'f',
      callId: 'f1',
      name: 'read_file',
      arguments: args,
      status: 'OK',
      result: JSON.stringify({ status: 'OK', message: `${HOSTILE_FILE}:1\n<script>alert(1)</script>\n<style>*{}</style>` }),
    },
    {
      type: 'function_call_finished',
      stepId: 'f',
      callId: 'f2',
      name: '<img src=x onerror=alert(1)>',
      arguments: '{"x": "<svg onload=alert(1)>"',
      status: 'Failed',
      result: '<script>alert(1)</script>',
    },
    { type: 'function_call_started', stepId: 'f', callId: 'f3', name: 'core_memory_append', arguments: args },
    { type: 'system_event', kind: 'file_saved', text: `Saved ${HOSTILE_FILE}` },
    { type: 'system_event', kind: 'selection_remembered', text: `Remembered ${HOSTILE_FILE}:3-9` },
    { type: 'error', message: `<img src=x onerror=alert(1)> failed at ${HOSTILE_FILE}:2`, recoverable: true },
  );
  return events;
}

function hostileHistory(): RecallRecord[] {
  const base = { time: '2026-11-20T10:00:00Z', agentId: 'agent-1' };
  return [
    { ...base, id: 'h1', seq: 1, kind: 'user', message: { role: 'user', content: `<script>${CANARY}</script> [x](javascript:alert(1))` } },
    {
      ...base,
      id: 'h2',
      seq: 2,
      kind: 'user',
      message: { role: 'user', content: JSON.stringify({ type: 'user_message', message: '<img src=x onerror=alert(1)>' }) },
    },
    {
      ...base,
      id: 'h3',
      seq: 3,
      kind: 'assistant',
      message: {
        role: 'assistant',
        content: '<svg onload=alert(1)>',
        tool_calls: [
          {
            id: 't1',
            type: 'function',
            function: { name: 'send_message', arguments: JSON.stringify({ message: MARKDOWN_CORPUS['img onerror'] }) },
          },
          {
            id: 't2',
            type: 'function',
            function: { name: 'archival_memory_search', arguments: JSON.stringify({ query: '<script>alert(1)</script>' }) },
          },
        ],
      },
    },
    {
      ...base,
      id: 'h4',
      seq: 4,
      kind: 'tool',
      message: { role: 'tool', tool_call_id: 't2', content: `{"status":"OK","message":"${HOSTILE_FILE.replace(/"/g, '\\"')}"}` },
    },
    {
      ...base,
      id: 'h5',
      seq: 5,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'file_saved', message: `Saved ${HOSTILE_FILE}` }) },
    },
    { ...base, id: 'h6', seq: 6, kind: 'summary', message: { role: 'system', content: '<script>alert(1)</script> summary' } },
  ];
}

let harness: WebviewHarness;
before(async () => {
  harness = await startWebviewHarness();
});
after(async () => {
  await harness?.close();
});

async function loadCorpus(chat: ChatPage): Promise<string[]> {
  const requests: string[] = [];
  chat.page.on('request', (r) => requests.push(r.url()));
  await chat.boot(hostileHistory());
  await chat.events(hostileEvents());
  await chat.page.waitForSelector('.error-item');
  await chat.page.waitForTimeout(100); // one frame for the coalesced redraws
  // Open every card and thought so their bodies are in the DOM and visible too.
  for (const header of await chat.page.$$('.card-header[aria-expanded="false"], .thinking-header[aria-expanded="false"]'))
    await header.click();
  return requests;
}

describe('injection corpus', () => {
  test(`${Object.keys(MARKDOWN_CORPUS).length} markdown attacks plus file names, cards, chips, errors and history render inert`, async () => {
    assert.ok(Object.keys(MARKDOWN_CORPUS).length >= 20);
    const chat = await harness.open();
    const requests = await loadCorpus(chat);
    const report = await chat.safetyReport();
    assert.equal(report.pwned, 0, 'no injected script ran');
    assert.deepEqual(report.violations, [], 'nothing reached the DOM that the CSP had to block');
    assert.deepEqual(report.problems, []);
    const foreign = requests.filter((u) => !u.startsWith(harness.origin));
    assert.deepEqual(foreign, [], 'no request left for another host');
    const ownPaths = new Set([
      '/',
      '/fake-vscode.js',
      '/dist/webview.js',
      '/dist/codicon.css',
      '/dist/codicon.ttf',
      '/media/chat.css',
      '/theme/dark.css',
    ]);
    assert.deepEqual(
      requests.map((u) => new URL(u).pathname).filter((p) => !ownPaths.has(p)),
      [],
      'no injected resource was fetched',
    );
    // Rendered inert, not silently dropped: the markup is visible as text.
    const text = (await chat.page.locator('.items').textContent()) ?? '';
    assert.ok(text.includes(`<script>${CANARY}</script>`), 'raw HTML shows as the text the model wrote');
    assert.ok(text.includes(HOSTILE_FILE), 'a hostile file name shows as text');
    await chat.page.close();
  });

  test('every link in the corpus is safe to click: only validated openCitation/openExternal messages, no navigation', async () => {
    const chat = await harness.open();
    await loadCorpus(chat);
    const before = (await chat.posted()).length;
    // A click on each (dispatched in the page: the same handlers and default action as a mouse click).
    const count = await chat.page.$$eval('.items a', (links) => {
      for (const a of links) (a as HTMLAnchorElement).click();
      return links.length;
    });
    assert.ok(count >= 5, `links clicked: ${count}`);
    await chat.page.waitForTimeout(50);
    const posted = (await chat.posted()).slice(before);
    assert.ok(posted.length > 0);
    for (const m of posted) {
      assert.ok(m.type === 'openCitation' || m.type === 'openExternal', `unexpected ${m.type}`);
      assert.ok(isWebviewToHost(m), `the host accepts ${JSON.stringify(m).slice(0, 200)}`);
      if (m.type === 'openExternal') assert.match(m.payload.url, /^(https?|mailto):/);
    }
    assert.equal(chat.page.url(), `${harness.origin}/?theme=dark`, 'the page never navigated');
    const report = await chat.safetyReport();
    assert.equal(report.pwned, 0);
    assert.deepEqual(report.violations, []);
    await chat.page.close();
  });

  test('control: the detectors do catch an attack that bypasses the renderer', async () => {
    const chat = await harness.open();
    await chat.boot();
    // Straight into the DOM, as a broken renderer would: the CSP must block the handler, and the
    // checks must see the attribute and the violation.
    await chat.page.evaluate((canary) => {
      const div = document.createElement('div');
      div.innerHTML = `<img src="/nope.png" onerror="${canary}"><a href="javascript:${canary}">x</a>`;
      document.querySelector('.items')!.append(div);
    }, CANARY);
    await chat.page.waitForFunction(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations.length > 0);
    const report = await chat.safetyReport();
    assert.equal(report.pwned, 0, 'the CSP blocked the inline handler');
    assert.ok(report.violations.length > 0, 'the violation was recorded');
    assert.ok(report.problems.some((p) => p.includes('onerror')));
    assert.ok(report.problems.some((p) => p.includes('javascript:')));
    // And the canary itself works.
    await chat.page.evaluate(() => window.alert('x'));
    assert.equal((await chat.safetyReport()).pwned, 1);
    await chat.page.close();
  });
});
