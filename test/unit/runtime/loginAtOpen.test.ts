/**
 * The login at window open: it runs only when every fact allows it, and each fact alone holds it
 * back. The facts are what the editor gathers (settings, key store, trust, the runtime's state,
 * the newest recall records shaped as the agent writes them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loginWaitsFor, type LoginAtOpenFacts, type LoginWait } from '../../../src/core/runtime/loginAtOpen';
import { answer as answered, said } from '../events/recallRecords';

const LOCAL_SERVER = 'http://127.0.0.1:11434/v1';

/** A window where the login may run: a local server (no key needed), trusted, writable, last question answered. */
const ready: LoginAtOpenFacts = {
  settings: { baseUrl: LOCAL_SERVER },
  hasApiKey: false,
  trusted: true,
  readOnly: false,
  recentRecords: [said('hi'), answered('Hello.')],
};

/** Each fact that holds the login back, set alone on a ready window, in the order they are checked. */
const BLOCKERS: readonly { wait: LoginWait; apply: (f: LoginAtOpenFacts) => LoginAtOpenFacts }[] = [
  { wait: 'editor-models', apply: (f) => ({ ...f, settings: { ...f.settings, provider: 'vscode-lm' } }) },
  { wait: 'restricted', apply: (f) => ({ ...f, trusted: false }) },
  { wait: 'read-only', apply: (f) => ({ ...f, readOnly: true }) },
  // OpenAI itself (the empty base URL) without a key: no model to ask.
  { wait: 'no-model', apply: (f) => ({ ...f, settings: { ...f.settings, baseUrl: '' }, hasApiKey: false }) },
  { wait: 'unanswered', apply: (f) => ({ ...f, recentRecords: [...f.recentRecords, said('why?')] }) },
];

test('a ready window runs the login; so does one with no conversation yet', () => {
  assert.equal(loginWaitsFor(ready), null);
  assert.equal(loginWaitsFor({ ...ready, recentRecords: [] }), null);
});

test('each fact alone holds the login back, and says which', () => {
  for (const b of BLOCKERS) assert.equal(loginWaitsFor(b.apply(ready)), b.wait, b.wait);
});

test('every combination of the facts: the login runs only when none holds it back, else the first one checked names the wait', () => {
  for (let mask = 0; mask < 1 << BLOCKERS.length; mask++) {
    let facts = ready;
    let expected: LoginWait | null = null;
    BLOCKERS.forEach((b, i) => {
      if ((mask & (1 << i)) === 0) return;
      facts = b.apply(facts);
      expected ??= b.wait;
    });
    assert.equal(loginWaitsFor(facts), expected, `mask ${mask.toString(2)}`);
  }
});

test('a model is set up when a key is at hand or the server needs none', () => {
  // OpenAI itself needs a key; with one the login runs.
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: '' }, hasApiKey: true }), null);
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: 'https://api.openai.com/v1' } }), 'no-model');
  // Anthropic's own API needs a key too; a proxy in front of it may not.
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: '', provider: 'anthropic' } }), 'no-model');
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: '', provider: 'anthropic' }, hasApiKey: true }), null);
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: 'http://127.0.0.1:8080', provider: 'anthropic' } }), null);
  // The editor's models never run at open, key or not.
  assert.equal(loginWaitsFor({ ...ready, settings: { baseUrl: '', provider: 'vscode-lm' }, hasApiKey: true }), 'editor-models');
});

test('a question after the last answer holds it back; an answer after the question does not', () => {
  assert.equal(loginWaitsFor({ ...ready, recentRecords: [said('hi'), answered('Hello.'), said('why?')] }), 'unanswered');
  assert.equal(loginWaitsFor({ ...ready, recentRecords: [said('why?'), answered('Because.')] }), null);
});
