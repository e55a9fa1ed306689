import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { LIST_FILES_PAGE_SIZE, READ_FILE_MAX_LINE_CHARS, READ_FILE_PAGE_LINES } from '../../../src/core/limits';

function tree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-ws-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

test('reads line ranges, pages long files and cuts long lines with honest notes', async () => {
  const lines = Array.from({ length: 450 }, (_, i) => `line ${i + 1}`);
  lines[9] = 'x'.repeat(READ_FILE_MAX_LINE_CHARS + 50);
  const dir = tree({ 'src/big.ts': lines.join('\n') + '\n', 'src/small.ts': 'a\nb\nc' });
  const ws = new NodeWorkspace([{ name: 'proj', path: dir }]);
  const small = await ws.readFile('src/small.ts', 2, 3);
  assert.deepEqual({ ...small }, { path: 'src/small.ts', startLine: 2, endLine: 3, totalLines: 3, text: 'b\nc', truncated: false });
  const page = await ws.readFile('src/big.ts', 1, 1000);
  assert.equal(page.endLine, READ_FILE_PAGE_LINES);
  assert.equal(page.totalLines, 450);
  assert.equal(page.truncated, true);
  assert.match(page.text.split('\n')[9]!, /\[line cut: 550 chars\]$/);
  const tail = await ws.readFile('./src/big.ts', 440, 460);
  assert.equal(tail.endLine, 450);
  assert.equal(tail.truncated, false, 'reading to the end is not truncation');
  // A prefixed folder name is accepted in a single-root workspace.
  assert.equal((await ws.readFile('proj/src/small.ts', 1, 1)).text, 'a');
});

test('refuses paths outside the workspace, secrets, binaries and folders, with reasons', async () => {
  const outside = tree({ 'secret.txt': 'top secret' });
  const dir = tree({ 'src/a.ts': 'ok', '.env': 'KEY=1', 'config/credentials.json': '{}', 'img.bin': Buffer.from([1, 2, 0, 3]) });
  symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'src/link.txt'));
  symlinkSync(path.join(dir, '.env'), path.join(dir, 'src/env-link.txt'));
  const ws = new NodeWorkspace([{ name: 'proj', path: dir }]);
  await assert.rejects(ws.readFile('../x', 1, 1), /leaves the workspace/);
  await assert.rejects(ws.readFile('src/../../x', 1, 1), /leaves the workspace/);
  await assert.rejects(ws.readFile(path.join(outside, 'secret.txt'), 1, 1), /absolute path/);
  await assert.rejects(ws.readFile('C:\\Windows\\win.ini', 1, 1), /absolute path/);
  await assert.rejects(ws.readFile('src/link.txt', 1, 1), /points outside the workspace/);
  await assert.rejects(ws.readFile('.env', 1, 1), /holds secrets/);
  await assert.rejects(ws.readFile('config/credentials.json', 1, 1), /holds secrets/);
  await assert.rejects(ws.readFile('src/env-link.txt', 1, 1), /looks like it holds secrets/);
  await assert.rejects(ws.readFile('img.bin', 1, 1), /binary file/);
  await assert.rejects(ws.readFile('src', 1, 1), /is a folder/);
  await assert.rejects(ws.readFile('src/missing.ts', 1, 1), /does not exist.*list_files/);
});

test('multi-root: the first segment names the folder', async () => {
  const a = tree({ 'x.ts': 'from a' });
  const b = tree({ 'x.ts': 'from b' });
  const ws = new NodeWorkspace([
    { name: 'api', path: a },
    { name: 'web', path: b },
  ]);
  assert.equal((await ws.readFile('web/x.ts', 1, 1)).text, 'from b');
  assert.equal((await ws.readFile('api/x.ts', 1, 1)).path, 'api/x.ts');
  await assert.rejects(ws.readFile('x.ts', 1, 1), /start with one of: api, web/);
  const listed = await ws.listFiles(undefined, 0);
  assert.deepEqual(listed.paths, ['api/x.ts', 'web/x.ts']);
});

test('listFiles pages, filters by glob and respects .gitignore; an injected lister is used as is', async () => {
  const files: Record<string, string> = { '.gitignore': 'build/\n', 'build/out.js': 'x', 'README.md': '#' };
  for (let i = 0; i < LIST_FILES_PAGE_SIZE + 5; i++) files[`src/f${String(i).padStart(3, '0')}.ts`] = 'x';
  const ws = new NodeWorkspace([{ name: 'p', path: tree(files) }]);
  const p0 = await ws.listFiles('src/**/*.ts', 0);
  assert.equal(p0.total, LIST_FILES_PAGE_SIZE + 5);
  assert.equal(p0.pageCount, 2);
  assert.equal(p0.paths.length, LIST_FILES_PAGE_SIZE);
  assert.equal((await ws.listFiles('src/**/*.ts', 1)).paths.length, 5);
  const all = await ws.listFiles(undefined, 0);
  assert.ok(!all.paths.includes('build/out.js'), 'ignored by .gitignore');
  assert.deepEqual((await ws.listFiles('*.md', 0)).paths, ['README.md'], 'a glob without a slash matches the name');
  const injected = new NodeWorkspace([{ name: 'p', path: tree({}) }], { listFiles: async () => ['z.ts', 'a.ts'] });
  assert.deepEqual((await injected.listFiles(undefined, 0)).paths, ['z.ts', 'a.ts']);
});

test('searchText: literal case-insensitive, /regex/, glob, secrets skipped, bad regex explained', async () => {
  const dir = tree({ 'src/a.ts': 'const Alpha = 1;\nfunction beta() {}\n', 'src/b.py': 'alpha = 2\n', '.env.local': 'ALPHA=secret' });
  const ws = new NodeWorkspace([{ name: 'p', path: dir }]);
  const lit = await ws.searchText('ALPHA', undefined, 0);
  assert.deepEqual(
    lit.matches.map((m) => `${m.path}:${m.line}`),
    ['src/a.ts:1', 'src/b.py:1'],
  );
  const re = await ws.searchText('/function\\s+\\w+/', undefined, 0);
  assert.deepEqual(
    re.matches.map((m) => m.text),
    ['function beta() {}'],
  );
  assert.equal((await ws.searchText('alpha', '**/*.py', 0)).total, 1);
  await assert.rejects(ws.searchText('/(unclosed/', undefined, 0), /Invalid regular expression/);
});

test('searchText refuses a catastrophic-backtracking pattern instead of freezing the host on a planted line', async () => {
  const dir = tree({ 'src/trap.ts': `// ${'a'.repeat(40)}!\n` });
  const ws = new NodeWorkspace([{ name: 'p', path: dir }]);
  await assert.rejects(ws.searchText('/(a+)+$/', undefined, 0), /refused: a repeated group contains another repetition/);
  assert.equal((await ws.searchText('/a+!/', undefined, 0)).total, 1, 'the simple rewrite works');
});

test('an untrusted or folder-less workspace is unavailable and refuses every call', async () => {
  const none = new NodeWorkspace([]);
  assert.equal(none.available, false);
  const restricted = new NodeWorkspace([{ name: 'p', path: tree({ 'a.ts': 'x' }) }], { trusted: false });
  assert.equal(restricted.available, false);
  await assert.rejects(restricted.readFile('a.ts', 1, 1), /restricted mode/);
  await assert.rejects(restricted.listFiles(undefined, 0), /restricted mode/);
});
