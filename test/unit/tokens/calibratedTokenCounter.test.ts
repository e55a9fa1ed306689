import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';
import { CalibratedTokenCounter } from '../../../src/core/tokens/calibratedTokenCounter';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import {
  LM_TOKEN_CALIBRATION_MIN_TOKENS,
  LM_TOKEN_CALIBRATION_WEIGHT,
  LM_TOKEN_RATIO_MAX,
  LM_TOKEN_RATIO_MIN,
} from '../../../src/core/limits';
import { ContextWindow } from '../../../src/core/agent/contextWindow';

const LONG: ChatMessage[] = [
  { role: 'system', content: 'You are MemGPT. '.repeat(200) },
  { role: 'user', content: 'Where is the invoice total computed? '.repeat(20) },
];

test('before any sample the estimate is gpt-tokenizer’s own and carries the foreign-tokenizer headroom', async () => {
  const inner = await createTokenCounter('some-editor-model');
  const counter = new CalibratedTokenCounter(inner);
  assert.equal(counter.exact, false);
  assert.equal(counter.ratio, 1);
  assert.equal(counter.countRequest(LONG, []), inner.countRequest(LONG, []));
  assert.equal(counter.countText('hello world'), inner.countText('hello world'));
});

test('a countTokens sample calibrates the synchronous counts, and the context window plans with them', async () => {
  const inner = await createTokenCounter('some-editor-model');
  const counter = new CalibratedTokenCounter(inner);
  const estimate = counter.estimateRequest(LONG, []);
  assert.ok(estimate >= LM_TOKEN_CALIBRATION_MIN_TOKENS);
  // The model's tokenizer makes 1.5 times as many tokens of this text.
  assert.equal(counter.observe(estimate, Math.round(estimate * 1.5)), true);
  assert.ok(Math.abs(counter.ratio - 1.5) < 0.01);
  assert.equal(counter.exact, true, 'calibrated counts need no extra headroom');
  assert.ok(Math.abs(counter.countRequest(LONG, []) - estimate * 1.5) <= 2);

  // The window the agent plans with sees the larger, calibrated count.
  const window = new ContextWindow({ windowTokens: 8192, counter, tools: [], instructions: 'x'.repeat(4000) });
  const plain = new ContextWindow({ windowTokens: 8192, counter: inner, tools: [], instructions: 'x'.repeat(4000) });
  assert.ok(window.requestTokens(0) > plain.requestTokens(0));

  // Later samples move the ratio by their weight, not all the way.
  counter.observe(estimate, estimate);
  assert.ok(Math.abs(counter.ratio - (1.5 * (1 - LM_TOKEN_CALIBRATION_WEIGHT) + LM_TOKEN_CALIBRATION_WEIGHT)) < 0.01);
  assert.equal(counter.samples, 2);
});

test('tiny, broken or wild samples do not corrupt the ratio', async () => {
  const counter = new CalibratedTokenCounter(await createTokenCounter('some-editor-model'));
  assert.equal(counter.observe(LM_TOKEN_CALIBRATION_MIN_TOKENS - 1, 10_000), false, 'too small to learn from');
  assert.equal(counter.observe(1000, 0), false);
  assert.equal(counter.observe(1000, Number.NaN), false);
  assert.equal(counter.samples, 0);
  assert.equal(counter.exact, false);
  counter.observe(1000, 1_000_000);
  assert.equal(counter.ratio, LM_TOKEN_RATIO_MAX);
  const other = new CalibratedTokenCounter(await createTokenCounter('some-editor-model'));
  other.observe(1000, 1);
  assert.equal(other.ratio, LM_TOKEN_RATIO_MIN);
});
