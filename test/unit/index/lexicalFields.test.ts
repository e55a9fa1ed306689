/** BM25F over fields, question phrasing left out of queries, and the boost for a query that names a symbol. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commentText, countChunkTerms, TermDictionary } from '../../../src/core/index/lexical';
import { queryTerms, searchTerms } from '../../../src/core/index/codeTokens';
import { LEXICAL_WEIGHT_COMMENTS, LEXICAL_WEIGHT_PATH, LEXICAL_WEIGHT_SYMBOLS } from '../../../src/core/limits';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';

test('fields: path, symbols and comments count with their weights; identifiers are split; length is unweighted', () => {
  const dict = new TermDictionary();
  const { counts, length } = countChunkTerms(
    {
      path: 'lib/retry.js',
      symbols: 'RetryPolicy backoff',
      language: 'javascript',
      text: '// waits longer after each failure\nconst x = backoff(1);',
    },
    dict,
  );
  const tf = (t: string): number => counts.get(dict.lookup(t)!) ?? 0;
  assert.equal(tf('retry'), LEXICAL_WEIGHT_PATH + LEXICAL_WEIGHT_SYMBOLS, 'retry: in the path and split out of RetryPolicy');
  assert.equal(tf('retrypolicy'), LEXICAL_WEIGHT_SYMBOLS, 'the compound identifier itself');
  assert.equal(tf('backoff'), LEXICAL_WEIGHT_SYMBOLS + 1, 'defined name and its use in the body');
  assert.equal(tf('failur'), 1 + LEXICAL_WEIGHT_COMMENTS, 'a comment word: once in the body, once more as comment');
  assert.equal(
    length,
    searchTerms('lib/retry.js').length +
      searchTerms('RetryPolicy backoff').length +
      searchTerms('// waits longer after each failure\nconst x = backoff(1);').length,
  );
});

test('comments: // and /* */ in C-like code, # and docstrings in Python, none in prose; a URL is not a comment', () => {
  assert.equal(commentText('/** Sums lines. */\nconst a = "http://x"; // the total', 'typescript'), '/** Sums lines. */\n the total');
  assert.equal(commentText('# Fills the cache\ndef warm():\n    """Warm it up."""', 'python'), ' Fills the cache\n"""Warm it up."""');
  assert.equal(commentText('#include <stdio.h>\n', 'c'), '');
  assert.equal(commentText('# Title\n// not code', 'markdown'), '');
});

test('queries: how a question is phrased is dropped, what it asks about is kept', () => {
  assert.deepEqual(queryTerms('Where is the retry delay implemented?'), ['retry', 'delay']);
  assert.deepEqual(queryTerms('how does it work'), searchTerms('how does it work'), 'nothing but phrasing: kept as is');
});

test('a query word written as an identifier that the workspace defines lifts the chunk defining it', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'boost-'));
  mkdirSync(path.join(root, 'src'));
  // Both files mention parseHeader equally often; only one defines it.
  writeFileSync(
    path.join(root, 'src', 'use.ts'),
    'import { parseHeader } from "./header";\nexport const a = parseHeader("x") + parseHeader("y") + parseHeader("z");\n',
  );
  writeFileSync(path.join(root, 'src', 'header.ts'), 'export function parseHeader(line: string): string {\n  return line.trim();\n}\n');
  const archival = await ArchivalIndex.open({ dir: mkdtempSync(path.join(os.tmpdir(), 'boosti-')), embedder: new LocalHashEmbedder() });
  await new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival }).indexAll();
  const r = await archival.search('parseHeader', { source: 'workspace' });
  assert.equal(r.hits[0]!.path, 'src/header.ts');
  await archival.close();
});
