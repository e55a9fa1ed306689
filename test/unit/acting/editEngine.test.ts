import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEdit, detectLineEnding, EditError, type EditErrorCode } from '../../../src/core/acting/editEngine';
import { EDIT_MAX_LISTED_MATCHES } from '../../../src/core/limits';
import { applyUnifiedDiff } from './patch';

function fails(code: EditErrorCode, fn: () => unknown): EditError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EditError, `expected an EditError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected failure ${code}`);
}

const SRC = [
  'import x from "y";',
  '',
  'function add(a, b) {',
  '  return a + b;',
  '}',
  '',
  'function sub(a, b) {',
  '  return a - b;',
  '}',
  '',
].join('\n');

test('a unique match is replaced and the diff shows exactly that change', () => {
  const out = applyEdit(SRC, { path: 'src/m.js', old_string: '  return a + b;', new_string: '  return a + b + 0;' });
  assert.equal(out.text, SRC.replace('a + b;', 'a + b + 0;'));
  assert.equal(out.replacements, 1);
  assert.equal(out.firstLine, 4);
  assert.deepEqual([out.added, out.removed], [1, 1]);
  assert.match(out.diff, /^--- a\/src\/m\.js\n\+\+\+ b\/src\/m\.js\n@@ -1,7 \+1,7 @@\n/);
  assert.match(out.diff, /\n- {2}return a \+ b;\n\+ {2}return a \+ b \+ 0;\n/);
  assert.equal(applyUnifiedDiff(SRC, out.diff), out.text);
});

test('multi-line replacements that add, remove and join lines diff correctly', () => {
  const cases: [string, string][] = [
    ['function add(a, b) {\n  return a + b;\n}\n', ''],
    ['}\n\nfunction sub', '}\nfunction sub'],
    ['  return a - b;\n}\n', '  return a - b;\n}\n// end\n'],
    ['import x from "y";\n', 'import x from "y";\nimport z from "z";\n'],
    ['a - b;\n}\n', 'a - b; }'],
    ['import', 'export'],
  ];
  for (const [o, n] of cases) {
    const out = applyEdit(SRC, { path: 'm.js', old_string: o, new_string: n });
    assert.equal(out.text, SRC.replace(o, n));
    assert.equal(applyUnifiedDiff(SRC, out.diff), out.text, JSON.stringify([o, n]));
  }
  // At the very end of a file without a final newline, and removing the final newline.
  const noEol = 'a\nb\nlast';
  for (const [o, n] of [
    ['last', 'LAST'],
    ['b\nlast', 'b'],
    ['last', 'last\n'],
  ] as const) {
    const out = applyEdit(noEol, { path: 'f', old_string: o, new_string: n });
    assert.equal(applyUnifiedDiff(noEol, out.diff), noEol.replace(o, n));
  }
});

test('missing old_string: nothing written, closest lines with line numbers and similarity', () => {
  const err = fails('not-found', () =>
    applyEdit(SRC, { path: 'm.js', old_string: 'function add(a, c) {\n  return a + c;', new_string: 'x' }),
  );
  assert.equal(err.closest[0]!.startLine, 3);
  assert.equal(err.closest[0]!.endLine, 4);
  assert.ok(err.closest[0]!.similarity > 0.7 && err.closest[0]!.similarity < 1, String(err.closest[0]!.similarity));
  assert.match(err.message, /not found in m\.js; nothing was changed/);
  assert.match(err.message, /lines 3-4 \(similarity 0\.\d\d\):\n3: function add\(a, b\) \{\n4: {3}return a \+ b;/);
  assert.ok(err.closest.length <= 3);
  // Differing only in indentation is called out, and still refused (never fuzzy).
  const ws = fails('not-found', () => applyEdit(SRC, { path: 'm.js', old_string: '    return a + b;\n}', new_string: 'x' }));
  assert.equal(ws.closest[0]!.similarity, 1);
  assert.match(ws.message, /Lines 4-5 match it if whitespace is ignored/);
  fails('not-found', () => applyEdit('', { path: 'e', old_string: 'x', new_string: 'y' }));
});

test('several matches without replace_all: the count and the lines; with replace_all: every one', () => {
  const text = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'foo();' : `line ${i}`)).join('\n');
  const err = fails('ambiguous', () => applyEdit(text, { path: 'f', old_string: 'foo();', new_string: 'bar();' }));
  assert.equal(err.matchCount, 15);
  assert.deepEqual(err.matchLines, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30].slice(0, EDIT_MAX_LISTED_MATCHES));
  assert.match(err.message, /occurs 15 times in f, at lines 2, 4, 6/);
  assert.match(err.message, /replace_all/);
  const out = applyEdit(text, { path: 'f', old_string: 'foo();', new_string: 'bar();', replace_all: true });
  assert.equal(out.replacements, 15);
  assert.equal(out.text, text.replaceAll('foo();', 'bar();'));
  assert.deepEqual([out.added, out.removed], [15, 15]);
  assert.equal(applyUnifiedDiff(text, out.diff), out.text);
  // Several matches on one line, and matches that delete whole lines.
  const dense = 'a a a\nb\na\n';
  const d = applyEdit(dense, { path: 'f', old_string: 'a', new_string: '', replace_all: true });
  assert.equal(d.text, '  \nb\n\n');
  assert.equal(applyUnifiedDiff(dense, d.diff), d.text);
  const del = applyEdit('x\ny\nx\ny\n', { path: 'f', old_string: 'x\n', new_string: '', replace_all: true });
  assert.equal(applyUnifiedDiff('x\ny\nx\ny\n', del.diff), 'y\ny\n');
  // Overlapping occurrences count as the non-overlapping ones a replacement would change.
  assert.equal(fails('ambiguous', () => applyEdit('aaaa', { path: 'f', old_string: 'aa', new_string: 'b' })).matchCount, 2);
});

test('empty old_string and a no-op edit are refused', () => {
  assert.match(fails('empty-old-string', () => applyEdit(SRC, { path: 'f', old_string: '', new_string: 'x' })).message, /write_file/);
  fails('no-change', () => applyEdit(SRC, { path: 'f', old_string: 'import', new_string: 'import' }));
});

test('CRLF files stay CRLF when the model writes \\n, and a BOM is kept', () => {
  const crlf = '\uFEFFline one\r\nline two\r\nline three\r\n';
  assert.equal(detectLineEnding(crlf), 'crlf');
  const out = applyEdit(crlf, { path: 'w.txt', old_string: 'line one\nline two', new_string: 'first\nsecond\nextra' });
  assert.equal(out.text, '\uFEFFfirst\r\nsecond\r\nextra\r\nline three\r\n');
  assert.equal(out.bom, true);
  assert.equal(out.lineEnding, 'crlf');
  assert.doesNotMatch(out.diff, /\uFEFF/);
  assert.equal(applyUnifiedDiff(crlf.slice(1), out.diff), out.text.slice(1));
  // A model that sends \r\n to an LF file is matched too, and the file stays LF.
  const lf = applyEdit('a\nb\nc\n', { path: 'f', old_string: 'a\r\nb', new_string: 'A\r\nB' });
  assert.equal(lf.text, 'A\nB\nc\n');
  // Mixed files are matched exactly as given, and a miss says why.
  const mixed = 'a\r\nb\nc\r\n';
  assert.equal(detectLineEnding(mixed), 'mixed');
  assert.equal(applyEdit(mixed, { path: 'f', old_string: 'b\nc', new_string: 'B\nC' }).text, 'a\r\nB\nC\r\n');
  assert.match(fails('not-found', () => applyEdit(mixed, { path: 'f', old_string: 'a\nb', new_string: 'x' })).message, /mixes/);
});

test('a 1 MB file: the edit and its diff take well under 100 ms', () => {
  const lines: string[] = [];
  for (let i = 0; i < 16_000; i++) lines.push(`    const value${i} = compute(${i}, "some text to make the line longer");`);
  const big = `${lines.join('\n')}\n`;
  assert.ok(big.length > 1_000_000);
  applyEdit(big, { path: 'big.ts', old_string: 'value8000 =', new_string: 'renamed8000 =' }); // warm-up
  const started = performance.now();
  const out = applyEdit(big, { path: 'big.ts', old_string: 'value8000 =', new_string: 'renamed8000 =' });
  const ms = performance.now() - started;
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  assert.deepEqual([out.added, out.removed, out.firstLine], [1, 1, 8001]);
  // replace_all over the whole file stays exact and bounded too.
  const all = applyEdit(big, { path: 'big.ts', old_string: 'compute(', new_string: 'calc(', replace_all: true });
  assert.equal(all.replacements, 16_000);
  assert.equal(applyUnifiedDiff(big, all.diff), all.text);
});
