// The chat as a demanding first user meets it, in real headless Chromium: each test failed before its fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RecallRecord } from '../../src/core/interfaces/recallStore';
import type { ContextUsage } from '../../src/core/agent/events';
import { READY_STATE, startWebviewHarness, type WebviewHarness } from './support/webviewPage';

let harness: WebviewHarness;
before(async () => {
  harness = await startWebviewHarness();
});
after(async () => {
  await harness?.close();
});

const base = { time: '2026-11-20T10:00:00Z', agentId: 'agent-1' };
const user = (seq: number, text: string): RecallRecord => ({
  ...base,
  id: `rec-${seq}`,
  seq,
  kind: 'user',
  message: { role: 'user', content: text },
});
const reply = (seq: number, callId: string, text: string): RecallRecord => ({
  ...base,
  id: `rec-${seq}`,
  seq,
  kind: 'assistant',
  message: {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: callId, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } }],
  },
});
const USAGE: ContextUsage = {
  windowTokens: 8192,
  systemTokens: 1150,
  functionsTokens: 870,
  coreMemoryTokens: 420,
  summaryTokens: 0,
  messagesTokens: 900,
  usedTokens: 3340,
  pressure: 'ok',
  recallCount: 4,
  archivalCount: 12,
};

describe('chat polish', () => {
  test('a click that did not work says why where the user is looking', async () => {
    const chat = await harness.open();
    await chat.boot([user(1, 'give me code'), reply(2, 'c1', '```ts\nconst a = 1;\n```')]);
    const p = chat.page;
    await p.click('button[aria-label="Insert at cursor"]');
    await chat.waitForPosted((m) => m.type === 'insertAtCursor');
    await chat.post({
      type: 'actionFailed',
      payload: { message: 'No editor is open to insert into. Open a file, place the cursor, and click Insert again.' },
    });
    const note = p.locator('.action-note[role="alert"]');
    await note.waitFor({ state: 'visible' });
    assert.match((await note.textContent()) ?? '', /No editor is open to insert into/);
    await p.click('.action-note button[aria-label="Dismiss"]');
    await note.waitFor({ state: 'hidden' });
    await p.close();
  });

  test('a failed turn comes back after a reload, with Retry while it is the last thing', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({ type: 'state', payload: READY_STATE });
    const message = 'The model server at http://127.0.0.1:11434/v1 refused the connection. Is Ollama running?';
    await chat.answer('history', {
      records: [user(1, 'first'), reply(2, 'c1', 'ok'), user(3, 'why do sessions expire?')],
      hasMore: false,
      outcomes: [{ afterSeq: 3, kind: 'error', message, recoverable: true }],
      newestSeq: 3,
    });
    await p.waitForSelector('.error-item');
    assert.equal(await p.locator('.error-text').textContent(), message);
    const order = await p.$$eval('.items > *', (els) => els.map((e) => e.className.split(' ')[0]));
    assert.deepEqual(order, ['msg', 'msg', 'msg', 'error-item'], 'the error sits after the question it answers');
    await p.click('.error-item button >> text=Retry');
    await chat.waitForPosted((m) => m.type === 'retry');
    await p.close();
  });

  test('a greeting of the login turn after a failed question is shown as MemGPT’s own and leaves Retry on the question', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({ type: 'state', payload: READY_STATE });
    const greeting = 'Welcome back! Shall we look at the session timeout again?';
    const login: RecallRecord = {
      ...base,
      id: 'rec-2',
      seq: 2,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'login', message: 'x' }) },
      automatic: true,
    };
    await chat.answer('history', {
      records: [user(1, 'why do sessions expire?'), login, { ...reply(3, 'c1', greeting), automatic: true }],
      hasMore: false,
      outcomes: [{ afterSeq: 1, kind: 'error', message: 'The model server refused the connection.', recoverable: true }],
      newestSeq: 3,
    });
    const own = p.locator('article.msg.automatic');
    await own.waitFor({ state: 'visible' });
    assert.match((await own.textContent()) ?? '', /On its own.*Welcome back!/s);
    assert.equal(await p.locator('article.msg.assistant').count(), 0, 'not shown as an answer');
    assert.equal(await p.locator('.error-item button >> text=Retry').count(), 1, 'Retry stays on the unanswered question');
    await p.click('.error-item button >> text=Retry');
    await chat.waitForPosted((m) => m.type === 'retry');
    await p.close();
  });

  test('live, an automatic turn’s reply is quiet and the welcome stays until the user starts', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.boot([]);
    await p.locator('.welcome').waitFor({ state: 'visible' });
    await chat.event({ type: 'step_started', stepId: 's1', step: 1, automatic: true });
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'send_message', arguments: '' });
    await chat.event({ type: 'message_complete', stepId: 's1', callId: 'c1', text: 'Hello again.' });
    await chat.event({ type: 'turn_finished', reason: 'done' });
    await p.locator('article.msg.automatic >> text=Hello again.').waitFor({ state: 'visible' });
    assert.ok(await p.locator('.welcome').isVisible(), 'the welcome stays');
    assert.equal(await p.locator('article.msg.assistant').count(), 0);
    assert.equal(
      await p.locator('.sr-only[role="status"]').textContent(),
      'MemGPT wrote on its own, not in reply to you.',
      'not announced as an answer',
    );
    await p.close();
  });

  test('first run: a welcome with prompts and pointers, no login chip, and the prompts work', async () => {
    const chat = await harness.open('dark', { width: 300, height: 800 });
    const p = chat.page;
    await chat.post({ type: 'state', payload: READY_STATE });
    await chat.event({ type: 'system_event', kind: 'login', text: 'The user logged in.' });
    await chat.answer('history', { records: [], hasMore: false });
    const welcome = p.locator('.welcome');
    await welcome.waitFor({ state: 'visible' });
    assert.equal(await p.locator('.chip').count(), 0, 'the login is not shown');
    assert.equal(await p.locator('.welcome-prompt').count(), 3);
    assert.deepEqual(await p.locator('.welcome-tool').allTextContents(), ['Remember Selection', 'Search Memory', 'Core memory']);
    await p.click('.welcome-tool[data-tool="searchMemory"]');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'openTool'), { type: 'openTool', payload: { tool: 'searchMemory' } });
    const prompt = (await p.locator('.welcome-prompt').first().textContent()) ?? '';
    await p.locator('.welcome-prompt').first().click();
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'send'), { type: 'send', payload: { text: prompt } });
    await welcome.waitFor({ state: 'hidden' });
    await p.close();
  });

  test('cards: whole titles on hover and when open, repeated calls grouped, a search that found nothing is not red, one toolbar row at 240 px', async () => {
    const chat = await harness.open('light', { width: 240, height: 800 });
    const p = chat.page;
    await chat.boot([], false, { ...READY_STATE, usage: USAGE, agents: [{ id: 'agent-1', name: 'MemGPT' }] });
    const toolbarRows = await p.evaluate(() => {
      const tops = new Set(
        Array.from(document.querySelectorAll('.toolbar > *:not([hidden])')).map((e) =>
          Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2),
        ),
      );
      return tops.size;
    });
    assert.equal(toolbarRows, 1, 'the meter and Clear view share one row');
    await p.fill('textarea', 'my name is Ada');
    await p.press('textarea', 'Enter');
    const remember = JSON.stringify({
      label: 'human',
      content: 'Name: Ada. Prefers early returns and small functions in TypeScript.',
      request_heartbeat: true,
    });
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'core_memory_append', arguments: remember });
    await chat.event({
      type: 'function_call_finished',
      stepId: 's1',
      callId: 'c1',
      name: 'core_memory_append',
      arguments: remember,
      status: 'OK',
      result: '{"status":"OK","message":"ok"}',
    });
    const search = JSON.stringify({ query: 'Ada', page: 1, request_heartbeat: true });
    for (const step of ['s2', 's3', 's4']) {
      await chat.event({ type: 'function_call_started', stepId: step, callId: 'call_0', name: 'conversation_search', arguments: search });
      await chat.event({
        type: 'function_call_finished',
        stepId: step,
        callId: 'call_0',
        name: 'conversation_search',
        arguments: search,
        status: 'Failed',
        result: JSON.stringify({ status: 'Failed', message: 'Page 1 does not exist: there are 2 results on 1 page(s), numbered 0 to 0.' }),
      });
    }
    await p.waitForSelector('.card[data-function="conversation_search"] .card-count');
    const card = p.locator('.card[data-function="core_memory_append"]');
    const title = 'Remembered about you: “Name: Ada. Prefers early returns and small functions in TypeScript.”';
    assert.equal(await card.locator('.card-header').getAttribute('title'), title);
    assert.equal(
      await card.locator('.card-title').evaluate((e) => e.scrollWidth > e.clientWidth),
      true,
      'the header line is cut at 240 px…',
    );
    await card.locator('.card-header').click();
    assert.equal(await card.locator('.card-full-title').textContent(), title, '…and whole when open');
    assert.equal(await p.locator('.card[data-function="conversation_search"]').count(), 1);
    assert.equal(await p.locator('.card[data-function="conversation_search"] .card-count').textContent(), '×3');
    assert.equal(await p.locator('.card.status-Failed').count(), 0, 'nothing found is not a failure');
    assert.equal(await p.locator('.card[data-function="conversation_search"]').getAttribute('class'), 'card status-empty');
    await p.close();
  });

  test('a Search Memory hit scrolls the chat to the message, loading older pages to reach it', async () => {
    const chat = await harness.open();
    const p = chat.page;
    const newest = Array.from({ length: 20 }, (_, i) => user(41 + i, `newer message ${i}`));
    await chat.boot(newest, true);
    await chat.post({ type: 'revealMessage', payload: { recordId: 'rec-7', seq: 7 } });
    const older = await chat.waitForPosted(
      (m) => m.type === 'request' && m.payload.method === 'history' && m.payload.params.beforeSeq === 41,
    );
    assert.ok(older);
    await chat.answer(
      'history',
      { records: Array.from({ length: 40 }, (_, i) => user(1 + i, i === 6 ? 'my name is Ada' : `old ${i}`)), hasMore: false },
      1,
    );
    const target = p.locator('.msg.revealed');
    await target.waitFor({ state: 'visible' });
    assert.equal(await target.textContent(), 'my name is Ada');
    assert.equal(
      await target.evaluate((e) => {
        const r = e.getBoundingClientRect();
        const log = document.querySelector('.log')!.getBoundingClientRect();
        return r.top >= log.top && r.bottom <= log.bottom;
      }),
      true,
      'the message is in view',
    );
    await p.close();
  });

  test('the meter keeps the figures of the same agent when a restarted runtime has none yet', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.boot([], false, { ...READY_STATE, usage: USAGE });
    await p.waitForFunction(() => document.querySelector('.meter-label')?.textContent?.includes('/'));
    await chat.post({ type: 'state', payload: { ...READY_STATE, usage: null } });
    await p.waitForTimeout(100);
    assert.match((await p.locator('.meter-label').textContent()) ?? '', /3\.3k \/ 8\.2k/);
    // Another agent: its own (unmeasured) figures.
    await chat.post({
      type: 'state',
      payload: { ...READY_STATE, activeAgentId: 'agent-2', agents: [...READY_STATE.agents, { id: 'agent-2', name: 'Other' }], usage: null },
    });
    await p.waitForFunction(() => document.querySelector('.meter-label')?.textContent === 'Memory');
    await p.close();
  });

  test('the composer has no scrollbar when empty; Clear view asks; a cut citation stays text; an error breaks between words', async () => {
    const chat = await harness.open('dark', { width: 300, height: 800 });
    const p = chat.page;
    await chat.boot([user(1, 'hello'), reply(2, 'c1', 'hi')]);
    const overflow = await p.locator('textarea.composer-input').evaluate((e) => e.scrollHeight - e.clientHeight);
    assert.ok(overflow <= 0, `the empty composer overflows by ${overflow}px`);
    await p.click('button[aria-label^="Clear view"]');
    await p.click('.clear-confirm button >> text=Cancel');
    assert.equal(await p.locator('.msg').count(), 2, 'Cancel keeps the view');
    assert.equal(
      (await chat.posted()).some((m) => m.type === 'clearView'),
      false,
    );

    await p.fill('textarea', 'where do sessions expire?');
    await p.press('textarea', 'Enter');
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'c2', name: 'send_message', arguments: '' });
    await chat.event({
      type: 'message_delta',
      stepId: 's1',
      callId: 'c2',
      delta: 'They expire in src/api/client.ts:17 and in src/auth/session.ts:4',
    });
    await p.click('.stop-button');
    await chat.waitForPosted((m) => m.type === 'stop');
    await p.waitForSelector('.msg.assistant.partial');
    const links = await p.locator('.msg.assistant.partial a.citation').allTextContents();
    assert.deepEqual(links, ['src/api/client.ts:17'], 'the reference cut by the stop is not a link');
    assert.equal(await p.locator('.msg.assistant.partial .cut-citation').textContent(), 'src/auth/session.ts:4');

    await chat.event({
      type: 'error',
      message: 'The model server at http://127.0.0.1:11434/v1 did not answer within 60 s. Is it running?',
      recoverable: true,
    });
    await p.waitForSelector('.error-item');
    const urlLines = await p.locator('.error-text').evaluate((el) => {
      // Wherever the URL's characters are (one text node or a wrapper), their line boxes are counted.
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const tops = new Set<number>();
      const url = 'http://127.0.0.1:11434/v1';
      let full = '';
      const nodes: { node: Text; start: number }[] = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        nodes.push({ node: n as Text, start: full.length });
        full += (n as Text).data;
      }
      const from = full.indexOf(url);
      for (let i = from; i < from + url.length; i++) {
        const owner = nodes.filter((x) => x.start <= i).at(-1)!;
        const range = document.createRange();
        range.setStart(owner.node, i - owner.start);
        range.setEnd(owner.node, i - owner.start + 1);
        for (const r of Array.from(range.getClientRects())) if (r.width > 0) tops.add(Math.round(r.top));
      }
      return tops.size;
    });
    assert.equal(urlLines, 1, 'the URL stays on one line');
    await p.close();
  });

  test('a server that reuses call ids does not overwrite an earlier answer on screen', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.boot();
    for (const [turn, text] of [
      ['s1', 'First answer.'],
      ['s2', 'Second answer.'],
    ] as const) {
      await p.fill('textarea', `question ${turn}`);
      await p.press('textarea', 'Enter');
      await chat.event({ type: 'function_call_started', stepId: turn, callId: 'call_0', name: 'send_message', arguments: '' });
      await chat.event({ type: 'message_delta', stepId: turn, callId: 'call_0', delta: text });
      await chat.event({ type: 'message_complete', stepId: turn, callId: 'call_0', text });
      await chat.event({ type: 'turn_finished', reason: 'done' });
    }
    await p.waitForFunction(() => document.querySelectorAll('.msg.assistant.complete').length === 2);
    assert.deepEqual(await p.locator('.msg.assistant').allTextContents(), ['First answer.', 'Second answer.']);
    await p.close();
  });
  test('while the model is retried the chat says so, and the failure replaces that line when the tries run out', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    await chat.event({ type: 'step_started', stepId: 's1', step: 1 });
    await chat.event({
      type: 'model_wait',
      stepId: 's1',
      kind: 'retrying',
      text: 'The model server at http://127.0.0.1:11434/v1 answered 503; trying again in 2 s (retry 1 of 3).',
    });
    const status = p.locator('.model-wait[role="status"]');
    await status.waitFor({ state: 'visible' });
    assert.match((await status.textContent()) ?? '', /trying again in 2 s \(retry 1 of 3\)/);
    await chat.event({
      type: 'error',
      message: 'The model server at http://127.0.0.1:11434/v1 answered 503 three times.',
      recoverable: true,
    });
    await p.waitForSelector('.error-item[role="alert"]');
    await status.waitFor({ state: 'hidden' });
    await p.close();
  });
});
