import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverFiles, isSecretPath, readIndexableFile, WorkspaceFileFilter } from '../../../src/core/index/discovery';

function tree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'disc-'));
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return root;
}

async function list(filter: WorkspaceFileFilter): Promise<string[]> {
  const out: string[] = [];
  for await (const f of discoverFiles(filter)) out.push(f.path);
  return out.sort();
}

test('nested .gitignore, negation, .memgptignore and default excludes', async () => {
  const root = tree({
    '.gitignore': 'logs/\n*.tmp\n',
    'src/a.ts': 'export const a = 1;',
    'src/b.tmp': 'x',
    'src/gen/.gitignore': '*.js\n!keep.js\n',
    'src/gen/drop.js': 'x',
    'src/gen/keep.js': 'x',
    'logs/x.ts': 'x',
    'notes/.memgptignore': 'private.md\n',
    'notes/private.md': 'x',
    'notes/public.md': 'x',
    'node_modules/m/index.js': 'x',
    'dist/out.js': 'x',
    'package-lock.json': '{}',
    'app.min.js': 'x',
    'app.js.map': '{}',
    'types.d.ts': 'declare const x: number;',
    'img.png': 'x',
  });
  const files = await list(new WorkspaceFileFilter({ roots: [{ name: 'w', path: root }] }));
  assert.deepEqual(files, [
    '.gitignore',
    'notes/.memgptignore',
    'notes/public.md',
    'src/a.ts',
    'src/gen/.gitignore',
    'src/gen/keep.js',
    'types.d.ts',
  ]);
});

test('secret-looking files are never indexed, even when included explicitly', async () => {
  for (const p of [
    '.env',
    '.env.local',
    'config/.env.production',
    'certs/server.pem',
    'id_rsa',
    'id_ed25519.pub',
    'deploy.key',
    '.npmrc',
    '.netrc',
    'credentials.json',
    'aws/credentials',
    'secrets.yaml',
    'store.keystore',
    'cert.p12',
    'a/.ssh/config',
  ]) {
    assert.equal(isSecretPath(p), true, p);
  }
  for (const p of ['src/env.ts', 'src/keyboard.ts', 'docs/secrets-management.md', 'environment.md', 'src/credentialsForm.tsx']) {
    assert.equal(isSecretPath(p), false, p);
  }
  const root = tree({ '.env': 'TOKEN=1', 'server.pem': 'x', 'ok.ts': 'x' });
  const files = await list(new WorkspaceFileFilter({ roots: [{ name: 'w', path: root }], includeGlobs: ['**/*', '.env', '*.pem'] }));
  assert.deepEqual(files, ['ok.ts']);
});

test('caller exclude and include globs', async () => {
  const root = tree({ 'src/a.ts': 'x', 'src/a.test.ts': 'x', 'docs/x.md': 'x', 'tmp/y.ts': 'x' });
  const filter = new WorkspaceFileFilter({
    roots: [{ name: 'w', path: root }],
    excludeGlobs: ['**/*.test.ts', 'tmp'],
    includeGlobs: ['src/**', 'tmp/**'],
  });
  assert.deepEqual(await list(filter), ['src/a.ts']);
});

test('multi-root paths are prefixed by the folder name; single root is not', async () => {
  const a = tree({ 'x.ts': 'x' });
  const b = tree({ 'y.ts': 'y' });
  assert.deepEqual(
    await list(
      new WorkspaceFileFilter({
        roots: [
          { name: 'api', path: a },
          { name: 'web', path: b },
        ],
      }),
    ),
    ['api/x.ts', 'web/y.ts'],
  );
  const single = new WorkspaceFileFilter({ roots: [{ name: 'api', path: a }] });
  assert.deepEqual(await list(single), ['x.ts']);
  assert.equal(single.absolutePath('x.ts'), path.join(a, 'x.ts'));
  assert.equal(single.absolutePath('../etc/passwd'), undefined);
});

test('binaries by content and files over the size limit are skipped', async () => {
  const root = tree({ 'data.txt': Buffer.from([0x61, 0x00, 0x62]), 'big.ts': 'x'.repeat(5000), 'ok.ts': 'fine' });
  const filter = new WorkspaceFileFilter({ roots: [{ name: 'w', path: root }], maxFileBytes: 1000 });
  assert.deepEqual(await list(filter), ['data.txt', 'ok.ts']);
  const bin = await readIndexableFile(path.join(root, 'data.txt'));
  assert.equal(bin.ok, false);
  assert.equal(!bin.ok && bin.reason, 'binary');
  const big = await filter.check(path.join(root, 'big.ts'));
  assert.equal(!big.ok && big.reason, 'too-large');
});

test('invalid UTF-8 decodes with replacement characters', async () => {
  const root = tree({ 'bad.txt': Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]) });
  const r = await readIndexableFile(path.join(root, 'bad.txt'));
  assert.ok(r.ok);
  assert.equal(r.ok && r.text, 'hi\uFFFD\uFFFD!');
});

test('a symlink loop does not hang and links out of the workspace are not followed', async () => {
  const outside = tree({ 'secret.ts': 'x' });
  const root = tree({ 'a/file.ts': 'x' });
  symlinkSync(path.join(root, 'a'), path.join(root, 'a', 'loop'));
  symlinkSync(root, path.join(root, 'a', 'up'));
  symlinkSync(outside, path.join(root, 'out'));
  const files = await list(new WorkspaceFileFilter({ roots: [{ name: 'w', path: root }] }));
  assert.deepEqual(files, ['a/file.ts']);
});

test('check() applies parent ignore files to a single saved file', async () => {
  const root = tree({ '.gitignore': 'generated/\n', 'generated/x.ts': 'x', 'src/y.ts': 'y', '.env': 'A=1' });
  const filter = new WorkspaceFileFilter({ roots: [{ name: 'w', path: root }] });
  const ignored = await filter.check(path.join(root, 'generated/x.ts'));
  assert.equal(!ignored.ok && ignored.reason, 'ignored');
  const ok = await filter.check(path.join(root, 'src/y.ts'));
  assert.equal(ok.ok && ok.file.path, 'src/y.ts');
  const secret = await filter.check(path.join(root, '.env'));
  assert.equal(!secret.ok && secret.reason, 'secret');
  const missing = await filter.check(path.join(root, 'src/gone.ts'));
  assert.equal(!missing.ok && missing.reason, 'missing');
});
