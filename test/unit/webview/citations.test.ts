import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCitations, parseCitation } from '../../../src/webview/citations';
import { classifyHref } from '../../../src/webview/links';

function found(text: string) {
  return findCitations(text).map(({ path, startLine, endLine }) => (endLine ? `${path}|${startLine}-${endLine}` : `${path}|${startLine}`));
}

test('finds path:line, path:start-end and path#Lx-Ly references', () => {
  assert.deepEqual(found('see src/core/agent.ts:42 and lib/util.py:10-20.'), ['src/core/agent.ts|42', 'lib/util.py|10-20']);
  assert.deepEqual(found('open ./a/b.go:7, ../c.rs:1–3 or cfg/app.json#L5-L9'), ['./a/b.go|7', '../c.rs|1-3', 'cfg/app.json|5-9']);
  assert.deepEqual(found('the file .eslintrc.js:3 and @scope/pkg/index.d.ts:12'), ['.eslintrc.js|3', '@scope/pkg/index.d.ts|12']);
  assert.deepEqual(found('README.md:1:5 is line 1, column 5'), ['README.md|1']);
});

test('ignores times, hosts, URLs, versions and impossible ranges', () => {
  assert.deepEqual(found('at 10:30, on 127.0.0.1:8080 and http://example.com/a.ts:10'), []);
  assert.deepEqual(found('version 1.2.3:4 and a.ts:0 and a.ts:20-10'), []);
  assert.deepEqual(found('word.ts:12abc'), []);
});

test('offsets point at the reference in the text', () => {
  const text = 'x src/a.ts:3-4 y';
  const [m] = findCitations(text);
  assert.equal(text.slice(m!.start, m!.end), 'src/a.ts:3-4');
});

test('parseCitation takes a whole string only', () => {
  assert.deepEqual(parseCitation('src/a.ts:3'), { path: 'src/a.ts', startLine: 3 });
  assert.deepEqual(parseCitation('src/a.ts:3-3'), { path: 'src/a.ts', startLine: 3 });
  assert.equal(parseCitation('see src/a.ts:3'), undefined);
});

test('classifyHref: web links are external, paths are citations, other schemes are blocked', () => {
  assert.deepEqual(classifyHref('https://example.com/x'), { kind: 'external', url: 'https://example.com/x' });
  assert.deepEqual(classifyHref('src/a.ts:10-12'), { kind: 'citation', path: 'src/a.ts', startLine: 10, endLine: 12 });
  assert.deepEqual(classifyHref('a.ts:10'), { kind: 'citation', path: 'a.ts', startLine: 10 });
  assert.deepEqual(classifyHref('docs/My%20Guide.md'), { kind: 'citation', path: 'docs/My Guide.md', startLine: 1 });
  for (const bad of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'java\tscript:alert(1)',
    ' \u0001javascript:alert(1)',
    'vbscript:msgbox(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'command:workbench.action.terminal.new',
    '//evil.example/x',
    '#top',
    '',
  ]) {
    assert.equal(classifyHref(bad).kind, 'blocked', JSON.stringify(bad));
  }
});
