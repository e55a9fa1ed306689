/** The bundle keeps each tokenizer encoding in its own file (esbuild.mjs): the list must cover every encoding the source imports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

test('bundle: every gpt-tokenizer encoding imported by src/ is built apart as dist/tokenizer/<name>.js', () => {
  const repo = path.join(__dirname, '..', '..', '..');
  const build = readFileSync(path.join(repo, 'esbuild.mjs'), 'utf8');
  const listed = /TOKENIZER_ENCODINGS = \[([^\]]*)\]/
    .exec(build)![1]!
    .match(/'([a-z0-9_]+)'/g)!
    .map((s) => s.slice(1, -1));
  const source = readFileSync(path.join(repo, 'src', 'core', 'tokens', 'tokenCounter.ts'), 'utf8');
  const imported = [...source.matchAll(/gpt-tokenizer\/encoding\/([a-z0-9_]+)/g)].map((m) => m[1]!);
  assert.deepEqual([...new Set(imported)].sort(), [...listed].sort());
  assert.match(build, /filter: \/\^gpt-tokenizer\\\/encoding\\\/\(o200k_base\|cl100k_base\)\$\//, 'the resolver names the same two');
});
