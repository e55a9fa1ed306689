/** A loaded shard maps its vocabulary to the process's term ids only when a query asks for one of its terms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStoredPostings, FrozenPostings, packCounts, TermDictionary } from '../../../src/core/index/lexical';

test('frozen postings: found by spelling after a reopen, with a dictionary that has never seen the shard', async () => {
  const writer = new TermDictionary();
  const counts = (words: string[]) => {
    const m = new Map<number, number>();
    for (const w of words) m.set(writer.id(w), (m.get(writer.id(w)) ?? 0) + 1);
    return packCounts(m);
  };
  const stored = await buildStoredPostings([counts(['parse', 'config', 'parse']), counts(['config', 'render'])], writer);

  // a new process: its dictionary starts empty, and loading the shard interns nothing
  const dict = new TermDictionary();
  dict.id('unrelated');
  const postings = new FrozenPostings(stored, dict);
  assert.deepEqual(dict.terms, ['unrelated']);
  assert.equal(postings.holdsUnmapped('config'), true);
  assert.equal(postings.holdsUnmapped('missing'), false);
  assert.equal(postings.documentFrequency(dict.lookup('unrelated')!), 0);

  const config = dict.id('config');
  assert.equal(postings.documentFrequency(config), 2);
  const seen: [number, number][] = [];
  postings.forEach(dict.id('parse'), (doc, tf) => seen.push([doc, tf]));
  assert.deepEqual(seen, [[0, 2]]);
  const list = postings.list(config)!;
  assert.deepEqual(
    Array.from({ length: list.end - list.start }, (_, i) => list.docs[list.start + i]),
    [0, 1],
  );
  assert.equal(postings.list(dict.id('absent')), undefined);
});

test('frozen postings: the same answers once the shard builds its vocabulary map (after many lookups)', async () => {
  const writer = new TermDictionary();
  const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
  const m = new Map<number, number>();
  for (const w of words) m.set(writer.id(w), 1);
  const stored = await buildStoredPostings([packCounts(m)], writer);
  const dict = new TermDictionary();
  const postings = new FrozenPostings(stored, dict);
  // more words than are scanned before the map is built, each asked twice, some absent
  for (let round = 0; round < 2; round++)
    for (let i = 0; i < 150; i++) {
      const w = `w${i}`;
      assert.equal(postings.holdsUnmapped(w), i < 100, w);
      assert.equal(postings.documentFrequency(dict.id(w)), i < 100 ? 1 : 0, w);
    }
});
