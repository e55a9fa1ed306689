// The chat webview in real headless Chromium: streaming, cards, citations, Stop, history, setup.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RecallRecord } from '../../src/core/interfaces/recallStore';
import { READY_STATE, startWebviewHarness, type WebviewHarness } from './support/webviewPage';

let harness: WebviewHarness;
before(async () => {
  harness = await startWebviewHarness();
});
after(async () => {
  await harness?.close();
});

function userRecord(seq: number, text: string): RecallRecord {
  return {
    id: `rec-${seq}`,
    seq,
    time: '2026-11-20T10:00:00Z',
    agentId: 'agent-1',
    kind: 'user',
    message: { role: 'user', content: text },
  };
}
function replyRecord(seq: number, text: string): RecallRecord {
  return {
    id: `rec-${seq}`,
    seq,
    time: '2026-11-20T10:00:01Z',
    agentId: 'agent-1',
    kind: 'assistant',
    message: {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: `call-${seq}`, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } },
      ],
    },
  };
}

describe('chat webview', () => {
  test('streams send_message text incrementally and completes it', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    await p.fill('textarea', 'How does auth work?');
    await p.press('textarea', 'Enter');
    const sent = await chat.waitForPosted((m) => m.type === 'send');
    assert.deepEqual(sent, { type: 'send', payload: { text: 'How does auth work?' } });
    assert.equal(await p.inputValue('textarea'), '', 'the input is emptied after sending');
    assert.equal(await p.locator('.msg.user').textContent(), 'How does auth work?');
    assert.equal(await p.isVisible('.stop-button'), true, 'Stop is offered while the turn runs');

    await chat.event({ type: 'step_started', stepId: 's1', step: 1 });
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'send_message', arguments: '' });
    const seen: string[] = [];
    for (const delta of ['Auth ', 'lives in ', '`src/auth.ts:12-30`', '.']) {
      await chat.event({ type: 'message_delta', stepId: 's1', callId: 'c1', delta });
      seen.push(delta);
      // What markdown shows of the text so far: the backticks become a code span.
      const expected = seen.join('').replace(/`/g, '').trim();
      await p.waitForFunction((want) => (document.querySelector('.msg.assistant .msg-body')?.textContent ?? '').trim() === want, expected, {
        timeout: 5000,
      });
      assert.equal(await p.locator('.msg.assistant').count(), 1, 'one message grows; no new one per delta');
      assert.equal(await p.getAttribute('.msg.assistant', 'aria-busy'), 'true');
    }
    await chat.event({ type: 'message_complete', stepId: 's1', callId: 'c1', text: 'Auth lives in `src/auth.ts:12-30`.' });
    await chat.event({ type: 'turn_finished', reason: 'done' });
    await p.waitForSelector('.msg.assistant.complete');
    await p.click('.msg.assistant a.citation');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'openCitation'), {
      type: 'openCitation',
      payload: { path: 'src/auth.ts', startLine: 12, endLine: 30 },
    });
    assert.equal(await p.getAttribute('.msg.assistant', 'aria-busy'), null);
    assert.equal(await p.isVisible('.send-button'), true, 'Send comes back after the turn');
    await p.close();
  });

  test('Shift+Enter makes a new line; Enter on an empty input sends nothing', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    await p.press('textarea', 'Enter');
    await p.type('textarea', 'line one');
    await p.keyboard.down('Shift');
    await p.keyboard.press('Enter');
    await p.keyboard.up('Shift');
    await p.type('textarea', 'line two');
    assert.equal(await p.inputValue('textarea'), 'line one\nline two');
    assert.equal((await chat.posted()).filter((m) => m.type === 'send').length, 0);
    await p.press('textarea', 'Enter');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'send'), { type: 'send', payload: { text: 'line one\nline two' } });
    await p.close();
  });

  test('a function card shows a readable summary and expands to arguments and result', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    const args = JSON.stringify({ label: 'human', content: 'Prefers tabs over spaces', request_heartbeat: true });
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'f1', name: 'core_memory_append', arguments: args });
    await p.waitForSelector('.card.status-running');
    assert.match((await p.locator('.card-title').textContent()) ?? '', /Remembered about you: “Prefers tabs over spaces”/);
    assert.equal(await p.getAttribute('.card-header', 'aria-expanded'), 'false');
    assert.equal(await p.isVisible('.card-body'), false);
    await chat.event({
      type: 'function_call_finished',
      stepId: 's1',
      callId: 'f1',
      name: 'core_memory_append',
      arguments: args,
      status: 'OK',
      result: JSON.stringify({ status: 'OK', message: 'Appended to human (58/2000 chars)', time: 'now' }),
    });
    await p.waitForSelector('.card.status-OK');
    await p.click('.card-header');
    assert.equal(await p.getAttribute('.card-header', 'aria-expanded'), 'true');
    assert.equal(await p.isVisible('.card-body'), true);
    const body = (await p.locator('.card-body').textContent()) ?? '';
    assert.match(body, /core_memory_append/);
    assert.match(body, /"label": "human"/);
    assert.match(body, /Appended to human \(58\/2000 chars\)/);
    // Expanded stays expanded when the card is redrawn; the keyboard toggles it too.
    await p.focus('.card-header');
    await p.keyboard.press('Enter');
    assert.equal(await p.isVisible('.card-body'), false);
    await p.close();
  });

  test('citation links post openCitation with the path and lines; external links ask the host', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    const text = 'See src/core/agent.ts:42 and `lib/util.py:10-20`, [the docs](https://example.com/docs) and [cfg](config/app.json#L5-L9).';
    await chat.event({ type: 'message_complete', stepId: 's1', callId: 'c1', text });
    await p.waitForSelector('a.citation');
    const labels = await p.locator('a.citation').allTextContents();
    assert.deepEqual(labels, ['src/core/agent.ts:42', 'lib/util.py:10-20', 'cfg']);
    await p.locator('a.citation', { hasText: 'lib/util.py:10-20' }).click();
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'openCitation'), {
      type: 'openCitation',
      payload: { path: 'lib/util.py', startLine: 10, endLine: 20 },
    });
    await p.locator('a.citation', { hasText: 'src/core/agent.ts:42' }).click();
    await chat.waitForPosted(
      (m) =>
        m.type === 'openCitation' &&
        m.payload.startLine === 42 &&
        m.payload.path === 'src/core/agent.ts' &&
        m.payload.endLine === undefined,
    );
    await p.locator('a.citation', { hasText: 'cfg' }).click();
    await chat.waitForPosted(
      (m) => m.type === 'openCitation' && m.payload.path === 'config/app.json' && m.payload.startLine === 5 && m.payload.endLine === 9,
    );
    await p.click('a.external-link');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'openExternal'), {
      type: 'openExternal',
      payload: { url: 'https://example.com/docs' },
    });
    assert.equal(p.url().startsWith(harness.origin), true, 'the page did not navigate');
    await p.close();
  });

  test('code blocks are highlighted and offer Copy and Insert at cursor', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    const code = 'export function add(a: number, b: number): number {\n  return a + b; // sum\n}';
    await chat.event({ type: 'message_complete', stepId: 's1', callId: 'c1', text: `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\n` });
    await p.waitForSelector('.code-block .hljs-keyword');
    assert.equal(await p.locator('.code-lang').textContent(), 'ts');
    await p.click('.code-block button[aria-label="Insert at cursor"]');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'insertAtCursor'), { type: 'insertAtCursor', payload: { code } });
    await p.click('.code-block button[aria-label="Copy code"]');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'copyToClipboard'), { type: 'copyToClipboard', payload: { text: code } });
    await p.close();
  });

  test('Stop posts stop at once and keeps the partial answer, marked', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    await p.fill('textarea', 'Explain everything');
    await p.press('textarea', 'Enter');
    await chat.event({ type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'send_message', arguments: '' });
    await chat.event({ type: 'message_delta', stepId: 's1', callId: 'c1', delta: 'First part of a long ' });
    await p.waitForSelector('.msg.assistant.streaming');
    await p.click('.stop-button');
    await chat.waitForPosted((m) => m.type === 'stop');
    await p.waitForSelector('.msg.assistant.partial .partial-note');
    // A delta already in flight when Stop was pressed does not grow the kept answer.
    await chat.event({ type: 'message_delta', stepId: 's1', callId: 'c1', delta: 'answer that keeps going' });
    await chat.event({ type: 'turn_finished', reason: 'cancelled' });
    await p.waitForTimeout(50);
    assert.equal((await p.locator('.msg.assistant .msg-body').textContent())?.trim(), 'First part of a long');
    assert.match((await p.locator('.partial-note').textContent()) ?? '', /Stopped/);
    assert.equal(await p.isVisible('.send-button'), true);
    await p.close();
  });

  test('Escape in the input stops a running turn', async () => {
    const chat = await harness.open();
    await chat.boot();
    await chat.page.fill('textarea', 'go');
    await chat.page.press('textarea', 'Enter');
    await chat.page.press('textarea', 'Escape');
    await chat.waitForPosted((m) => m.type === 'stop');
    await chat.page.close();
  });

  test('errors show with Retry, which posts retry once', async () => {
    const chat = await harness.open();
    await chat.boot();
    const p = chat.page;
    await chat.event({
      type: 'error',
      message: 'The model server at http://127.0.0.1:11434/v1 refused the connection. Is Ollama running?',
      recoverable: true,
    });
    await p.waitForSelector('.error-item[role="alert"]');
    await p.click('.error-item button');
    await chat.waitForPosted((m) => m.type === 'retry');
    await p.waitForSelector('.error-item button', { state: 'detached' });
    assert.equal((await chat.posted()).filter((m) => m.type === 'retry').length, 1, 'Retry is offered once');
    await p.close();
  });

  test('restores history on load and loads older pages at the top, keeping the reading position', async () => {
    const chat = await harness.open();
    const p = chat.page;
    const newest: RecallRecord[] = [];
    for (let i = 0; i < 20; i++)
      newest.push(i % 2 === 0 ? userRecord(100 + i, `question ${i}`) : replyRecord(100 + i, `answer ${i}\n\nwith a second paragraph`));
    await chat.post({ type: 'state', payload: READY_STATE });
    const first = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'history');
    assert.equal(first.type === 'request' && first.payload.method === 'history' && first.payload.params.beforeSeq, null);
    const firstId = await chat.answer('history', { records: newest, hasMore: true });
    await p.waitForSelector('.msg.user >> text=question 0');
    assert.equal(await p.locator('.msg').count(), 20);
    assert.equal(await p.isVisible('.load-older'), true);
    // Scrolled to the newest message after restore.
    const atBottom = await p.$eval('.log', (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 5);
    assert.equal(atBottom, true);

    const older = [userRecord(98, 'the oldest question'), replyRecord(99, 'the oldest answer')];
    await p.$eval('.log', (el) => el.scrollTo(0, 0));
    const req = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'history' && m.payload.id > firstId);
    assert.equal(req.type === 'request' && req.payload.method === 'history' && req.payload.params.beforeSeq, 100);
    const anchor = await p.locator('.msg.user >> text=question 0').boundingBox();
    await chat.answer('history', { records: older, hasMore: false }, firstId);
    await p.waitForSelector('.msg.user >> text=the oldest question');
    const texts = await p.locator('.msg').allTextContents();
    assert.equal(texts[0], 'the oldest question', 'older messages go on top');
    assert.equal(texts.length, 22);
    const moved = await p.locator('.msg.user >> text=question 0').boundingBox();
    assert.ok(anchor && moved && Math.abs(anchor.y - moved.y) < 5, `the message being read stays in place (${anchor?.y} → ${moved?.y})`);
    assert.equal(await p.isVisible('.load-older'), false, 'no more pages');
    await p.close();
  });

  test('a restored draft that is already in the conversation was sent (state saved late): it is dropped; an unsent one stays', async () => {
    const sent = await harness.open('dark', undefined, { draft: 'Tell me about the store' });
    assert.equal(await sent.page.inputValue('textarea.composer-input'), 'Tell me about the store');
    await sent.post({ type: 'state', payload: READY_STATE });
    await sent.answer('history', {
      records: [userRecord(1, 'Tell me about the store'), replyRecord(2, 'It keeps todos.')],
      hasMore: false,
    });
    await sent.page.waitForSelector('.msg.user >> text=Tell me about the store');
    await sent.page.waitForFunction(() => (document.querySelector('textarea.composer-input') as HTMLTextAreaElement).value === '');
    await sent.page.close();

    const unsent = await harness.open('dark', undefined, { draft: 'an idea I have not sent' });
    await unsent.post({ type: 'state', payload: READY_STATE });
    await unsent.answer('history', {
      records: [userRecord(1, 'Tell me about the store'), replyRecord(2, 'It keeps todos.')],
      hasMore: false,
    });
    await unsent.page.waitForSelector('.msg.user >> text=Tell me about the store');
    assert.equal(await unsent.page.inputValue('textarea.composer-input'), 'an idea I have not sent');
    await unsent.page.close();
  });

  test('an event recorded while the history loads is shown once, not live and again from the page', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({ type: 'state', payload: READY_STATE });
    await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'history');
    // A file opened at start: the agent records it and emits it live before the page arrives.
    const opened = JSON.stringify({
      type: 'file_opened',
      path: 'src/a.ts',
      message: '[This is an automated system message hidden from the user] opened',
      time: 'x',
    });
    await chat.event({ type: 'system_event', kind: 'file_opened', text: 'Opened src/a.ts' });
    await p.waitForSelector('.chip[data-event="file_opened"]');
    const openedRecord: RecallRecord = { ...userRecord(3, ''), kind: 'system_event', message: { role: 'user', content: opened } };
    await chat.answer('history', { records: [userRecord(1, 'hello'), replyRecord(2, 'hi'), openedRecord], hasMore: false });
    await p.waitForSelector('.msg.user >> text=hello');
    assert.deepEqual(await p.locator('.chip').allTextContents(), ['Opened src/a.ts']);
    // A later live event with the same text is a new one, and shows.
    await chat.event({ type: 'system_event', kind: 'file_opened', text: 'Opened src/a.ts' });
    await p.waitForFunction(() => document.querySelectorAll('.chip').length === 2);
    await p.close();
  });

  test('Clear view empties the conversation and tells the host; memory is not touched', async () => {
    const chat = await harness.open();
    await chat.boot([userRecord(1, 'hello'), replyRecord(2, 'hi')]);
    const p = chat.page;
    await p.waitForSelector('.msg.user');
    await p.click('button[aria-label^="Clear view"]');
    // It asks first; Clear in the question clears.
    await p.click('.clear-confirm button >> text=Clear');
    await chat.waitForPosted((m) => m.type === 'clearView');
    assert.equal(await p.locator('.msg').count(), 0);
    await p.close();
  });

  test('the meter shows usage and opens core memory; the agent picker appears with several agents', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.boot([], false, {
      ...READY_STATE,
      agents: [
        { id: 'agent-1', name: 'MemGPT' },
        { id: 'agent-2', name: 'Reviewer' },
      ],
    });
    await chat.event({
      type: 'context_usage',
      usage: {
        windowTokens: 8192,
        systemTokens: 1100,
        coreMemoryTokens: 400,
        functionsTokens: 900,
        summaryTokens: 300,
        messagesTokens: 3500,
        usedTokens: 6200,
        pressure: 'warned',
        recallCount: 128,
        archivalCount: 3412,
      },
    });
    await p.waitForSelector('.meter[data-pressure="warned"]');
    assert.equal(await p.locator('.meter-label').textContent(), '6.2k / 8.2k');
    const label = (await p.getAttribute('.meter', 'aria-label')) ?? '';
    assert.match(label, /6,200 of 8,192 tokens \(76%\)/);
    assert.match(label, /Core memory 400/);
    assert.match(label, /Recall: 128 messages, archival: 3412 passages/);
    const widths = await p.$$eval('.meter-part', (els) => els.map((e) => (e as HTMLElement).style.width));
    assert.deepEqual(
      widths.map((w) => Math.round(parseFloat(w))),
      [24, 5, 4, 43],
    );
    await p.click('.meter');
    await chat.waitForPosted((m) => m.type === 'showCoreMemory');
    assert.equal(await p.isVisible('.agent-picker'), true);
    await p.selectOption('.agent-picker', 'agent-2');
    assert.deepEqual(await chat.waitForPosted((m) => m.type === 'switchAgent'), { type: 'switchAgent', payload: { agentId: 'agent-2' } });
    const report = await chat.safetyReport();
    assert.deepEqual(report.violations, [], 'setting bar widths through CSSOM is allowed by the CSP');
    await p.close();
  });

  test('with no backend the view says the agent is not running and sends nothing', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({
      type: 'state',
      payload: {
        ...READY_STATE,
        backend: 'none',
        notice: 'The MemGPT agent is not running in this window.',
        agents: [],
        activeAgentId: null,
      },
    });
    await p.waitForSelector('.notice:not([hidden])');
    assert.match((await p.locator('.notice').textContent()) ?? '', /not running/);
    assert.equal(await p.isDisabled('textarea'), true);
    assert.equal((await chat.posted()).filter((m) => m.type === 'request').length, 0);
    await p.close();
  });

  test('setup card: key, local servers and base URL flows post validated requests and show the errors', async () => {
    const chat = await harness.open();
    const p = chat.page;
    await chat.post({ type: 'state', payload: { ...READY_STATE, setup: { configured: false, hasApiKey: false } } });
    await chat.answer('history', { records: [], hasMore: false });
    await p.waitForSelector('.setup-card');
    assert.equal(await p.isDisabled('textarea'), true, 'no chatting before a model is configured');

    // An empty key is caught in the view, without a request.
    await p.click('text=Save key');
    assert.match((await p.locator('.setup-section').nth(0).locator('.setup-result').textContent()) ?? '', /Paste your OpenAI API key/);
    await p.fill('#setup-key', 'sk-wrong');
    await p.click('text=Save key');
    const keyReq = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'saveApiKey');
    assert.deepEqual(keyReq.type === 'request' && keyReq.payload.params, { key: 'sk-wrong' });
    await chat.answer('saveApiKey', {
      ok: false,
      message: 'OpenAI rejected the key (401 Incorrect API key). Copy it again from platform.openai.com/api-keys.',
    });
    await p.waitForSelector('.setup-result.failed[role="alert"] >> text=OpenAI rejected the key');

    // Local servers.
    await p.click('text=Look for Ollama / LM Studio');
    await chat.answer('probeLocalServers', [
      { name: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1', models: ['llama3.1', 'qwen2.5-coder'] },
    ]);
    await p.waitForSelector('.server >> text=Ollama');
    await p.selectOption('.server select', 'qwen2.5-coder');
    await p.click('.server button');
    const useReq = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'useServer');
    assert.deepEqual(useReq.type === 'request' && useReq.payload.params, { baseUrl: 'http://127.0.0.1:11434/v1', model: 'qwen2.5-coder' });
    const useId = await chat.answer('useServer', {
      ok: false,
      message: 'The model "qwen2.5-coder" is not installed. Run `ollama pull qwen2.5-coder`.',
    });

    // Base URL: a bad URL is explained without a request; a good one is sent.
    await p.fill('#setup-url', 'localhost:1234');
    await p.click('button:text-is("Connect")');
    assert.match((await p.locator('.setup-section').nth(2).locator('.setup-result').textContent()) ?? '', /not a URL|Only http/);
    await p.fill('#setup-url', 'http://127.0.0.1:1234/v1');
    await p.press('#setup-url', 'Enter');
    const urlReq = await chat.waitForPosted((m) => m.type === 'request' && m.payload.method === 'useServer' && m.payload.id > useId);
    assert.deepEqual(urlReq.type === 'request' && urlReq.payload.params, { baseUrl: 'http://127.0.0.1:1234/v1' });
    await chat.answer('useServer', { ok: true, message: 'Connected to LM Studio at http://127.0.0.1:1234/v1 (model: qwen2.5-7b).' }, useId);
    await p.waitForSelector('.setup-result.ok >> text=Connected to LM Studio');
    // The host then reports a configured setup: the card goes, the input opens.
    await chat.post({ type: 'state', payload: READY_STATE });
    await p.waitForSelector('.setup-card', { state: 'detached' });
    assert.equal(await p.isDisabled('textarea'), false);
    await p.close();
  });
});
