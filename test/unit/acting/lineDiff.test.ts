import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffLines, LineIndex, unifiedDiff } from '../../../src/core/acting/lineDiff';
import { applyUnifiedDiff } from './patch';

/** Deterministic pseudo-random numbers, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('LineIndex: lines keep their endings, a final newline starts no empty line', () => {
  assert.equal(new LineIndex('').count, 0);
  const one = new LineIndex('a');
  assert.deepEqual([one.count, one.line(0)], [1, 'a']);
  const two = new LineIndex('a\r\nb\n');
  assert.deepEqual([two.count, two.line(0), two.line(1)], [2, 'a\r\n', 'b\n']);
  assert.equal(two.lineAt(0), 0);
  assert.equal(two.lineAt(3), 1);
  assert.equal(two.lineAt(6), 1);
});

test('unifiedDiff: a changed line, with context and git-style headers', () => {
  const old = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n';
  const neu = old.replace('five', 'FIVE');
  const d = unifiedDiff('src/a.txt', old, neu);
  assert.equal(d.text, '--- a/src/a.txt\n+++ b/src/a.txt\n@@ -2,7 +2,7 @@\n two\n three\n four\n-five\n+FIVE\n six\n seven\n eight\n');
  assert.deepEqual([d.added, d.removed], [1, 1]);
  assert.equal(applyUnifiedDiff(old, d.text), neu);
});

test('unifiedDiff: new file, emptied file, missing final newline, no change', () => {
  const created = unifiedDiff('n.txt', undefined, 'x\ny');
  assert.equal(created.text, '--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n');
  const emptied = unifiedDiff('n.txt', 'x\n', '');
  assert.equal(emptied.text, '--- a/n.txt\n+++ b/n.txt\n@@ -1,1 +0,0 @@\n-x\n');
  const eol = unifiedDiff('n.txt', 'a\nb', 'a\nb\n');
  assert.equal(eol.text, '--- a/n.txt\n+++ b/n.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  assert.equal(unifiedDiff('n.txt', 'same\n', 'same\n').text, '');
});

test('far-apart changes make separate hunks, close ones share a hunk', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `l${i}\n`);
  const changed = [...lines];
  changed[5] = 'X\n';
  changed[9] = 'Y\n'; // 3 unchanged lines apart: same hunk
  changed[30] = 'Z\n';
  const d = unifiedDiff('f', lines.join(''), changed.join(''));
  assert.equal((d.text.match(/^@@/gm) ?? []).length, 2);
  assert.equal(applyUnifiedDiff(lines.join(''), d.text), changed.join(''));
});

test('random edits: every diff applies back exactly and is minimal for single-line changes', () => {
  const r = rng(7);
  for (let round = 0; round < 300; round++) {
    const n = Math.floor(r() * 30);
    const a = Array.from({ length: n }, () => `v${Math.floor(r() * 6)}\n`);
    const b = [...a];
    const ops = 1 + Math.floor(r() * 5);
    for (let o = 0; o < ops; o++) {
      const at = Math.floor(r() * (b.length + 1));
      const kind = r();
      if (kind < 0.33) b.splice(at, 0, `n${Math.floor(r() * 6)}\n`);
      else if (kind < 0.66) b.splice(at, 1);
      else b[at] = `c${Math.floor(r() * 6)}\n`;
    }
    const oldText = a.join('') + (r() < 0.3 ? 'tail' : '');
    const newText = b.join('') + (r() < 0.3 ? 'tail' : '');
    const d = unifiedDiff('f', oldText, newText);
    assert.equal(applyUnifiedDiff(oldText, d.text), newText, `round ${round}`);
  }
  // One changed line in a long file is one removed and one added line, however repetitive the file.
  const rep = Array.from({ length: 500 }, (_, i) => (i % 2 ? '}\n' : '{\n')).join('');
  const one = `${rep.slice(0, 100)}X${rep.slice(101)}`;
  const d = unifiedDiff('f', rep, one);
  assert.deepEqual([d.added, d.removed], [1, 1]);
});

test('a rewrite past the work budget becomes one replaced block, quickly and still correct', () => {
  const r = rng(3);
  const a = Array.from({ length: 40_000 }, () => `${Math.floor(r() * 1e9)}\n`).join('');
  const b = Array.from({ length: 40_000 }, () => `${Math.floor(r() * 1e9)}\n`).join('');
  const started = performance.now();
  const changes = diffLines(new LineIndex(a), new LineIndex(b));
  const ms = performance.now() - started;
  assert.equal(changes.length, 1);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.equal(applyUnifiedDiff(a, unifiedDiff('f', a, b).text), b);
});
