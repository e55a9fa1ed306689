import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { confineFile, confineFolder, ConfinementError, type ConfinementErrorCode } from '../../../src/core/acting/confinement';

const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'memgpt-acting-confine-')));
after(() => rmSync(scratch, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function refused(code: ConfinementErrorCode, p: Promise<unknown>, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConfinementError, String(err));
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const outside = tree('outside', { 'victim.txt': 'do not touch', 'dir/x.txt': 'x' });
const proj = tree('proj', {
  'src/a.ts': 'a',
  '.env': 'KEY=1',
  'config/credentials.json': '{}',
  'keys/server.pem': 'pem',
  'notes/id_rsa.pub': 'k',
  '.npmrc': '//registry/:_authToken=x',
  '.git/config': '[core]',
  'docs/readme.md': 'r',
});
const roots = [{ name: 'proj', path: proj }];
symlinkSync(path.join(outside, 'victim.txt'), path.join(proj, 'src/out-link.txt'));
symlinkSync(path.join(outside, 'dir'), path.join(proj, 'out-dir'));
symlinkSync(path.join(proj, 'docs'), path.join(proj, 'docs-link'));
symlinkSync(path.join(proj, '.env'), path.join(proj, 'src/harmless.txt'));
symlinkSync(path.join(proj, '.git'), path.join(proj, 'gitdir'));
symlinkSync(path.join(proj, 'nowhere/file.txt'), path.join(proj, 'dangling.txt'));
linkSync(path.join(outside, 'victim.txt'), path.join(proj, 'src/hard.txt'));

test("ordinary paths resolve to real paths with the read functions' names", async () => {
  const a = await confineFile(roots, 'src/a.ts');
  assert.deepEqual({ ...a, root: a.root.name }, { abs: path.join(proj, 'src/a.ts'), display: 'src/a.ts', root: 'proj', exists: true });
  assert.equal((await confineFile(roots, './src//a.ts')).display, 'src/a.ts');
  assert.equal((await confineFile(roots, 'src\\a.ts')).display, 'src/a.ts');
  assert.equal((await confineFile(roots, 'proj/src/a.ts')).display, 'src/a.ts', 'the folder-name prefix is accepted, as read_file does');
  // A new file in new folders inside the workspace is allowed.
  const created = await confineFile(roots, 'new/deep/file.ts');
  assert.deepEqual([created.abs, created.exists], [path.join(proj, 'new/deep/file.ts'), false]);
  // A link inside the workspace to a file inside it resolves to the target.
  assert.equal((await confineFile(roots, 'docs-link/readme.md')).abs, path.join(proj, 'docs/readme.md'));
  assert.equal((await confineFile(roots, 'docs-link/new.md')).abs, path.join(proj, 'docs/new.md'));
});

test('escapes, absolute and home paths are refused', async () => {
  await refused('escape', confineFile(roots, '../outside/victim.txt'));
  await refused('escape', confineFile(roots, 'src/../../outside/victim.txt'));
  await refused('escape', confineFile(roots, 'src/..'));
  await refused('absolute', confineFile(roots, path.join(outside, 'victim.txt')));
  await refused('absolute', confineFile(roots, 'C:\\Windows\\win.ini'));
  await refused('absolute', confineFile(roots, '\\\\server\\share\\x'));
  await refused('absolute', confineFile(roots, '~/.bashrc'));
  await refused('empty', confineFile(roots, '  '));
  await refused('invalid', confineFile(roots, 'a\0b'));
  await refused('invalid', confineFile(roots, 'a/'.repeat(3000)));
  await refused('no-workspace', confineFile([], 'src/a.ts'));
  await refused('not-a-file', confineFile(roots, '.'));
});

test('links out of the workspace, dangling links and hard links are refused', async () => {
  await refused('link-outside', confineFile(roots, 'src/out-link.txt'), /outside/);
  await refused('link-outside', confineFile(roots, 'out-dir/x.txt'));
  await refused('link-outside', confineFile(roots, 'out-dir/new-file.txt'), /outside/);
  await refused('dangling-link', confineFile(roots, 'dangling.txt'));
  await refused('hard-link', confineFile(roots, 'src/hard.txt'), /hard link .*2 names/);
});

test('.git and secret files are refused, by name and through links', async () => {
  await refused('git', confineFile(roots, '.git/config'));
  await refused('git', confineFile(roots, '.git/hooks/pre-commit'));
  await refused('git', confineFile(roots, 'sub/.GIT/x'));
  await refused('git', confineFile(roots, 'gitdir/config'), /link/);
  for (const p of [
    '.env',
    '.env.local',
    'config/credentials.json',
    'keys/server.pem',
    'a/b.key',
    'notes/id_rsa.pub',
    '.npmrc',
    'credentials',
  ]) {
    await refused('secret', confineFile(roots, p));
  }
  await refused('secret', confineFile(roots, 'src/harmless.txt'), /link/);
});

test('a path through a file, and folders and special files as targets, are refused', async () => {
  await refused('not-a-folder', confineFile(roots, 'src/a.ts/child.ts'));
  await refused('not-a-file', confineFile(roots, 'src'));
  // A named pipe: writing it would block on a reader, and it is no file to edit.
  execFileSync('mkfifo', [path.join(proj, 'src/pipe')]);
  await refused('not-a-file', confineFile(roots, 'src/pipe'), /not a regular file/);
});

test('multi-root paths start with the folder name', async () => {
  const other = tree('other', { 'lib/b.ts': 'b' });
  const two = [
    { name: 'proj', path: proj },
    { name: 'other', path: other },
  ];
  assert.equal((await confineFile(two, 'other/lib/b.ts')).abs, path.join(other, 'lib/b.ts'));
  assert.equal((await confineFile(two, 'other/lib/b.ts')).display, 'other/lib/b.ts');
  await refused('unknown-folder', confineFile(two, 'lib/b.ts'), /proj, other/);
  await refused('escape', confineFile(two, 'other/../proj/src/a.ts'));
  assert.equal((await confineFolder(two)).display, 'proj');
  assert.equal((await confineFolder(two, 'other/lib')).abs, path.join(other, 'lib'));
});

test('command folders: the workspace folder by default, a folder inside it, never out or into .git', async () => {
  assert.deepEqual((({ abs, display }) => ({ abs, display }))(await confineFolder(roots)), { abs: proj, display: '.' });
  assert.equal((await confineFolder(roots, '.')).abs, proj);
  assert.equal((await confineFolder(roots, 'src')).display, 'src');
  assert.equal((await confineFolder(roots, 'docs-link')).abs, path.join(proj, 'docs'));
  await refused('link-outside', confineFolder(roots, 'out-dir'));
  await refused('escape', confineFolder(roots, '..'));
  await refused('absolute', confineFolder(roots, '/tmp'));
  await refused('git', confineFolder(roots, '.git'));
  await refused('missing', confineFolder(roots, 'nope'));
  await refused('not-a-folder', confineFolder(roots, 'src/a.ts'));
  await refused('no-workspace', confineFolder([]));
});
