import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chunkText, estimateTokens, languageOf } from '../../../src/core/index/chunker';

function fn(name: string, bodyLines: number): string {
  const body = Array.from({ length: bodyLines }, (_, i) => `  const value${i} = compute${name}(input, ${i}) + offset;`).join('\n');
  return `export function ${name}(input: number): number {\n${body}\n  return 0;\n}`;
}

test('chunks cover every line, in order, with 1-based inclusive ranges matching the text', () => {
  const text = [fn('alpha', 30), fn('beta', 30), fn('gamma', 30), fn('delta', 30)].join('\n\n') + '\n';
  const lines = text.split('\n');
  const chunks = chunkText('src/x.ts', text);
  assert.ok(chunks.length >= 3, `got ${chunks.length} chunks`);
  assert.equal(chunks[0]!.startLine, 1);
  assert.equal(chunks[chunks.length - 1]!.endLine, lines.length - 1);
  for (const c of chunks) {
    assert.equal(c.text, lines.slice(c.startLine - 1, c.endLine).join('\n'));
    assert.equal(c.language, 'typescript');
    assert.match(c.hash, /^[0-9a-f]{16}$/);
  }
  for (let i = 1; i < chunks.length; i++) {
    assert.ok(chunks[i]!.startLine <= chunks[i - 1]!.endLine + 1, 'no gap between chunks');
    assert.ok(chunks[i]!.startLine > chunks[i - 1]!.startLine, 'always advances');
  }
});

test('cuts before top-level declarations when one is near the target size', () => {
  const text = [fn('alpha', 12), fn('beta', 12), fn('gamma', 12), fn('delta', 12)].join('\n\n');
  const chunks = chunkText('src/x.ts', text);
  const starts = chunks.map((c) => c.text.split('\n')[0]!);
  // every chunk starts at a declaration or blank line: none starts mid-function
  for (const s of starts) assert.ok(s.startsWith('export function') || s.trim() === '', `chunk starts with: ${s}`);
});

test('overlap inside a long block without boundaries', () => {
  const text = Array.from({ length: 200 }, (_, i) => `    x${i} = y${i} + z${i} * w${i};`).join('\n');
  const chunks = chunkText('a.py', text);
  assert.ok(chunks.length >= 3);
  for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.startLine <= chunks[i - 1]!.endLine, 'consecutive chunks overlap');
  for (const c of chunks) assert.ok(estimateTokens(c.text) <= 420, `chunk of ${estimateTokens(c.text)} tokens`);
});

test('a huge single line is cut into pieces sharing its line number', () => {
  const text = 'a\n' + 'var q=' + 'abc+'.repeat(5000) + '\nb';
  const chunks = chunkText('min.js', text);
  const line2 = chunks.filter((c) => c.startLine === 2 && c.endLine === 2);
  assert.ok(line2.length > 3);
  assert.equal(line2.map((c) => c.text).join(''), text.split('\n')[1]);
});

test('empty and whitespace-only files give no chunks; CRLF works', () => {
  assert.deepEqual(chunkText('e.ts', ''), []);
  assert.deepEqual(chunkText('e.ts', '\n\n  \n'), []);
  const c = chunkText('w.ts', 'one\r\ntwo\r\n');
  assert.equal(c.length, 1);
  assert.equal(c[0]!.endLine, 2);
  assert.equal(c[0]!.text, 'one\ntwo');
});

test('languages by extension', () => {
  assert.equal(languageOf('a/b.tsx'), 'typescriptreact');
  assert.equal(languageOf('Dockerfile'), 'dockerfile');
  assert.equal(languageOf('x.unknown'), 'plaintext');
});

test('the token estimate stays within 20% of cl100k on real source', async () => {
  const { encode } = await import('gpt-tokenizer/encoding/cl100k_base');
  for (const file of [
    'node_modules/vectra/lib/LocalIndex.js',
    'node_modules/ignore/index.js',
    'src/core/index/chunker.ts',
    'node_modules/picomatch/lib/parse.js',
  ]) {
    const text = readFileSync(file, 'utf8');
    const exact = encode(text).length;
    const approx = text.split('\n').reduce((s, l) => s + estimateTokens(l) + 1, 0);
    const ratio = approx / exact;
    assert.ok(ratio > 0.8 && ratio < 1.2, `${file}: estimate/exact = ${ratio.toFixed(2)} (${approx}/${exact})`);
  }
});
