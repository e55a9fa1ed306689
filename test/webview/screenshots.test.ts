// A realistic conversation in light, dark and high-contrast themes, saved as artifacts to look at:
// a restored history, a streamed answer with code and citations, function cards, chips, the meter.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentEvent } from '../../src/core/agent/events';
import type { RecallRecord } from '../../src/core/interfaces/recallStore';
import type { ThemeName } from './support/themes';
import { READY_STATE, startWebviewHarness, type WebviewHarness } from './support/webviewPage';

const OUT = path.resolve(__dirname, '../../artifacts/screenshots');

const HISTORY: RecallRecord[] = [
  {
    id: 'h1',
    seq: 1,
    time: '2026-11-19T16:02:00Z',
    agentId: 'agent-1',
    kind: 'user',
    message: { role: 'user', content: 'I prefer early returns and small functions, by the way.' },
  },
  {
    id: 'h2',
    seq: 2,
    time: '2026-11-19T16:02:03Z',
    agentId: 'agent-1',
    kind: 'assistant',
    message: {
      role: 'assistant',
      content: 'The user states a style preference. Worth keeping in core memory.',
      tool_calls: [
        {
          id: 'h2a',
          type: 'function',
          function: {
            name: 'core_memory_append',
            arguments: JSON.stringify({ label: 'human', content: 'Prefers early returns and small functions.', request_heartbeat: true }),
          },
        },
      ],
    },
  },
  {
    id: 'h3',
    seq: 3,
    time: '2026-11-19T16:02:03Z',
    agentId: 'agent-1',
    kind: 'tool',
    message: {
      role: 'tool',
      tool_call_id: 'h2a',
      content: JSON.stringify({ status: 'OK', message: 'Appended to human (44/2000 chars).', time: '2026-11-19 04:02:03 PM' }),
    },
  },
  {
    id: 'h4',
    seq: 4,
    time: '2026-11-19T16:02:05Z',
    agentId: 'agent-1',
    kind: 'assistant',
    message: {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'h4a',
          type: 'function',
          function: {
            name: 'send_message',
            arguments: JSON.stringify({ message: 'Noted — I will keep suggestions to early returns and small functions.' }),
          },
        },
      ],
    },
  },
  {
    id: 'h5',
    seq: 5,
    time: '2026-11-20T09:14:00Z',
    agentId: 'agent-1',
    kind: 'system_event',
    message: { role: 'user', content: JSON.stringify({ type: 'file_saved', message: 'Saved src/auth/session.ts' }) },
  },
];

const ANSWER =
  'Sessions expire in `refresh()` (src/auth/session.ts:42-58): it compares `expiresAt` with the clock but never renews the token. ' +
  'Following your preference for early returns:\n\n' +
  '```ts\nexport function refresh(session: Session, now = Date.now()): Session {\n  if (session.expiresAt > now) return session;\n  // Renew instead of failing the next request.\n  return { ...session, token: renew(session.token), expiresAt: now + TTL_MS };\n}\n```\n\n' +
  'The caller in src/api/client.ts:17 already handles a new token.';

function turn(): AgentEvent[] {
  const search = JSON.stringify({ query: 'session expiry refresh token', page: 0, request_heartbeat: true });
  return [
    { type: 'step_started', stepId: 's1', step: 1 },
    {
      type: 'monologue',
      stepId: 's1',
      text: 'The user asks why sessions expire. Search the indexed workspace for the refresh logic first.',
    },
    { type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'archival_memory_search', arguments: search },
    {
      type: 'function_call_finished',
      stepId: 's1',
      callId: 'c1',
      name: 'archival_memory_search',
      arguments: search,
      status: 'OK',
      result: JSON.stringify({
        status: 'OK',
        message: 'Showing 3 of 12 results (page 0/3):\nsrc/auth/session.ts:42-58 …\nsrc/api/client.ts:10-30 …',
      }),
    },
    { type: 'system_event', kind: 'memory_pressure', text: 'Context at 76% of the window: the agent was asked to save what matters.' },
    { type: 'step_started', stepId: 's2', step: 2 },
    { type: 'function_call_started', stepId: 's2', callId: 'c2', name: 'send_message', arguments: '' },
  ];
}

let harness: WebviewHarness;
before(async () => {
  harness = await startWebviewHarness();
  mkdirSync(OUT, { recursive: true });
});
after(async () => {
  await harness?.close();
});

for (const [theme, file] of [
  ['light', 'webview-light.png'],
  ['dark', 'webview-dark.png'],
  ['hc', 'webview-hc.png'],
] as [ThemeName, string][]) {
  test(`screenshot: ${theme} theme`, async () => {
    const chat = await harness.open(theme, { width: 400, height: 900 });
    const p = chat.page;
    await chat.boot(HISTORY, true, { ...READY_STATE, busy: false });
    await chat.event({
      type: 'context_usage',
      usage: {
        windowTokens: 8192,
        systemTokens: 1150,
        functionsTokens: 870,
        coreMemoryTokens: 420,
        summaryTokens: 310,
        messagesTokens: 3480,
        usedTokens: 6230,
        pressure: 'warned',
        recallCount: 214,
        archivalCount: 3412,
      },
    });
    await p.fill('textarea', 'Why do sessions expire after an hour?');
    await p.press('textarea', 'Enter');
    await chat.events(turn());
    await p.click('.card.status-OK >> nth=-1 >> .card-header');
    // Stream most of the answer; the last sentence is still arriving when the picture is taken.
    const cut = ANSWER.indexOf('The caller');
    for (let i = 0; i < cut; i += 60)
      await chat.event({ type: 'message_delta', stepId: 's2', callId: 'c2', delta: ANSWER.slice(i, Math.min(cut, i + 60)) });
    await chat.event({ type: 'message_delta', stepId: 's2', callId: 'c2', delta: 'The caller in ' });
    await p.waitForSelector('.msg.assistant.streaming .hljs-keyword');
    await p.evaluate(() => document.fonts.ready);
    await p.waitForTimeout(150);
    const report = await chat.safetyReport();
    assert.deepEqual(report.violations, [], 'theme stylesheet, codicon font and CSSOM widths all pass the CSP');
    assert.equal(
      await p
        .locator('.codicon')
        .first()
        .evaluate((el) => getComputedStyle(el).fontFamily.includes('codicon')),
      true,
    );
    await p.screenshot({ path: path.join(OUT, file), fullPage: false });
    await p.close();
  });
}
