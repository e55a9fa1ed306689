/**
 * Issue 13, item 1: read_file follows the same rules as list_files and search_text. Git-ignored
 * files, anything under .git/ or node_modules/, secrets, links to any of those, and hard-linked
 * files (one of whose names may be outside the workspace) are never read, listed or searched; a
 * refusal says why without showing any of the file's text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { discoverFiles, WorkspaceFileFilter } from '../../../src/core/index/discovery';

const TOKEN = 'ghp_CANARYtoken1234567890abcdefABCDEF';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-rules-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** Every file on disk under `dir` (links included), workspace-relative. */
function everyFile(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...everyFile(dir, child));
    else out.push(child);
  }
  return out.sort();
}

function hostileRepo(): { dir: string; outside: string } {
  const dir = tree({
    'src/app.ts': 'export const app = 1;\n',
    '.gitignore': 'private-notes.md\nlogs/\n!logs/keep.txt\n',
    'private-notes.md': `the token is ${TOKEN}\n`,
    'logs/today.txt': `deployed with ${TOKEN}\n`,
    'src/.memgptignore': 'scratch.ts\n',
    'src/scratch.ts': `const t = '${TOKEN}';\n`,
    '.git/config': `[remote "origin"]\n\turl = https://x-access-token:${TOKEN}@github.com/acme/app.git\n`,
    '.git/HEAD': 'ref: refs/heads/main\n',
    'node_modules/left-pad/index.js': `module.exports = '${TOKEN}';\n`,
    '.env': `API_KEY=${TOKEN}\n`,
  });
  const outside = tree({ 'passwd.txt': `root:${TOKEN}\n` });
  // A harmless name inside the workspace for the git config: the target's path decides too.
  symlinkSync('../.git/config', path.join(dir, 'src', 'settings.ini'));
  // A hard link is a second name for the same data; realpath cannot tell which name is "real".
  linkSync(path.join(outside, 'passwd.txt'), path.join(dir, 'src', 'users.txt'));
  return { dir, outside };
}

test('read_file refuses .git/, node_modules/, git-ignored and .memgptignored files with the reason and no content', async () => {
  const { dir } = hostileRepo();
  const ws = new NodeWorkspace([{ name: 'app', path: dir }]);
  const cases: [string, RegExp][] = [
    ['.git/config', /\.git\/config is inside \.git\//],
    ['.git/HEAD', /inside \.git\//],
    ['node_modules/left-pad/index.js', /inside node_modules\//],
    ['private-notes.md', /ignored by a \.gitignore or \.memgptignore file/],
    ['logs/today.txt', /ignored by a \.gitignore or \.memgptignore file/],
    ['src/scratch.ts', /ignored by a \.gitignore or \.memgptignore file/],
    ['.env', /holds secrets/],
    ['src/settings.ini', /points to \.git\/config, which is inside \.git\//],
    ['src/users.txt', /hard link/],
  ];
  for (const [rel, reason] of cases) {
    await assert.rejects(ws.readFile(rel, 1, 10), (err: Error) => {
      assert.match(err.message, reason, rel);
      assert.ok(!err.message.includes(TOKEN), `${rel}: the refusal leaks nothing of the file`);
      return true;
    });
  }
  assert.equal((await ws.readFile('src/app.ts', 1, 1)).text, 'export const app = 1;');
});

test('a hard-linked file is refused by read_file and left out of list_files, search_text and the index, with what to do', async () => {
  const { dir } = hostileRepo();
  const ws = new NodeWorkspace([{ name: 'app', path: dir }]);
  await assert.rejects(ws.readFile('src/users.txt', 1, 1), (err: Error) => {
    assert.match(err.message, /src\/users\.txt has 2 hard links/);
    assert.match(err.message, /one of them may be outside the workspace/);
    assert.match(err.message, /copy/, 'says what to do');
    return true;
  });
  assert.ok(!(await ws.listFiles(undefined, 0)).paths.includes('src/users.txt'));
  assert.equal((await ws.searchText(TOKEN, undefined, 0)).total, 0);
  const filter = new WorkspaceFileFilter({ roots: [{ name: 'app', path: dir }] });
  const checked = await filter.check(path.join(dir, 'src', 'users.txt'));
  assert.equal(checked.ok, false, 'a save event does not index it either');
});

test('one rule: a file is readable exactly when it is listed, and search finds nothing list_files hides', async () => {
  const { dir } = hostileRepo();
  const ws = new NodeWorkspace([{ name: 'app', path: dir }], { excludeGlobs: ['**/*.tmp'] });
  writeFileSync(path.join(dir, 'src', 'draft.tmp'), 'scratch\n');
  writeFileSync(path.join(dir, 'logs', 'keep.txt'), 'kept\n');
  const listed = new Set((await ws.listFiles(undefined, 0)).paths);
  const filter = new WorkspaceFileFilter({ roots: [{ name: 'app', path: dir }], excludeGlobs: ['**/*.tmp'] });
  const walked: string[] = [];
  for await (const f of discoverFiles(filter)) walked.push(f.path);
  assert.deepEqual([...listed].sort(), walked.sort(), 'list_files is the discovery walk');
  for (const rel of everyFile(dir)) {
    const readable = await ws.readFile(rel, 1, 1).then(
      () => true,
      () => false,
    );
    assert.equal(readable, listed.has(rel), `${rel}: read_file and list_files disagree`);
  }
  assert.equal((await ws.searchText(TOKEN, undefined, 0)).total, 0, 'no hidden file is searched');
});

test('the folder-name prefix and ./ spellings do not get around the rules', async () => {
  const { dir } = hostileRepo();
  const ws = new NodeWorkspace([{ name: 'app', path: dir }]);
  await assert.rejects(ws.readFile('app/.git/config', 1, 1), /inside \.git\//);
  await assert.rejects(ws.readFile('./.git//config', 1, 1), /inside \.git\//);
  await assert.rejects(ws.readFile('src/../.git/config', 1, 1), /leaves the workspace/);
  // On macOS and Windows another spelling opens the same folder; the rule ignores case for it.
  const other = new NodeWorkspace([{ name: 'x', path: tree({ '.GIT/config': `url = https://${TOKEN}@h/r.git\n` }) }]);
  await assert.rejects(other.readFile('.GIT/config', 1, 1), /inside \.GIT\//);
  assert.deepEqual((await other.listFiles(undefined, 0)).paths, []);
});
