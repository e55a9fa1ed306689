import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextWindowFor,
  isExactTokenizer,
  isKnownModel,
  normaliseModelName,
  tokenizerEncodingFor,
} from '../../../src/core/llm/knownModels';
import { DEFAULT_CONTEXT_WINDOW_TOKENS, MIN_CONTEXT_WINDOW_TOKENS } from '../../../src/core/limits';

test('OpenAI models, snapshots included, resolve to their family', () => {
  assert.equal(contextWindowFor('gpt-4o'), 128_000);
  assert.equal(contextWindowFor('gpt-4o-mini-2024-07-18'), 128_000);
  assert.equal(contextWindowFor('gpt-4.1-mini'), 1_047_576);
  assert.equal(contextWindowFor('gpt-4'), 8_192);
  assert.equal(contextWindowFor('gpt-4-turbo-2024-04-09'), 128_000, 'longest prefix wins over gpt-4');
  assert.equal(contextWindowFor('gpt-4-32k'), 32_768);
  assert.equal(contextWindowFor('gpt-3.5-turbo'), 16_385);
  assert.equal(contextWindowFor('o1-mini'), 128_000);
  assert.equal(contextWindowFor('o3-mini'), 200_000);
  assert.equal(contextWindowFor('o4-mini'), 200_000);
});

test('local model names with tags and vendor paths resolve by prefix', () => {
  assert.equal(contextWindowFor('llama3.1:8b'), 131_072);
  assert.equal(contextWindowFor('llama3:latest'), 8_192, 'llama3 is not llama3.1');
  assert.equal(contextWindowFor('qwen2.5-coder:7b'), 32_768);
  assert.equal(contextWindowFor('lmstudio-community/Qwen2.5-7B-Instruct-GGUF'), 32_768);
  assert.equal(contextWindowFor('mistral-nemo:12b'), 131_072);
  assert.equal(contextWindowFor('mistral:7b'), 32_768);
  assert.equal(contextWindowFor('deepseek-coder-v2:16b'), 163_840);
  assert.equal(contextWindowFor('deepseek-coder:6.7b'), 16_384);
  assert.equal(contextWindowFor('phi3:mini'), 4_096);
  assert.equal(contextWindowFor('gemma2:9b'), 8_192);
  assert.equal(normaliseModelName(' OpenAI/GPT-4o '), 'gpt-4o');
});

test('unknown models default, overrides win, nothing goes below the minimum', () => {
  assert.equal(isKnownModel('my-finetune'), false);
  assert.equal(contextWindowFor('my-finetune'), DEFAULT_CONTEXT_WINDOW_TOKENS);
  assert.equal(contextWindowFor('gpt-4o', 16_000), 16_000);
  assert.equal(contextWindowFor('gpt-4o', 0), 128_000, '0 means "use the table"');
  assert.equal(contextWindowFor('gpt-4o', Number.NaN), 128_000);
  assert.equal(contextWindowFor('gpt-4o', 100), MIN_CONTEXT_WINDOW_TOKENS);
});

test('tokenizer encoding: o200k for the 4o/4.1/o-series families, cl100k otherwise', () => {
  for (const m of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o1', 'o3-mini', 'o4-mini', 'gpt-5-mini', 'gpt-oss-20b']) {
    assert.equal(tokenizerEncodingFor(m), 'o200k_base', m);
  }
  for (const m of ['gpt-4', 'gpt-3.5-turbo', 'gpt-4-turbo', 'llama3.1:8b', 'unknown']) {
    assert.equal(tokenizerEncodingFor(m), 'cl100k_base', m);
  }
  assert.equal(isExactTokenizer('gpt-4o'), true);
  assert.equal(isExactTokenizer('qwen2.5-coder:7b'), false);
  assert.equal(isExactTokenizer('unknown'), false);
});
