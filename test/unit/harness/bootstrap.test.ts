import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
// @ts-expect-error -- plain JavaScript module (runs before tsx exists); its API is small enough to use untyped.
import { dependenciesStale } from '../../harness/bootstrap.mjs';

const stale = dependenciesStale as (root: string) => string | null;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'bootstrap-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function project(name: string, locked: Record<string, { version: string; optional?: boolean }>, installed: Record<string, string>): string {
  const root = path.join(scratch, name);
  mkdirSync(root, { recursive: true });
  const packages: Record<string, unknown> = { '': { name } };
  for (const [p, e] of Object.entries(locked)) packages[`node_modules/${p}`] = e;
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages }));
  for (const [p, version] of Object.entries(installed)) {
    mkdirSync(path.join(root, 'node_modules', p), { recursive: true });
    writeFileSync(path.join(root, 'node_modules', p, 'package.json'), JSON.stringify({ name: p, version }));
  }
  return root;
}

test('fresh when every locked package is installed at its version', () => {
  const root = project('fresh', { a: { version: '1.0.0' }, '@s/b': { version: '2.1.0' } }, { a: '1.0.0', '@s/b': '2.1.0' });
  assert.equal(stale(root), null);
});

test('stale when node_modules is missing, a package is absent, or a version differs', () => {
  const noModules = path.join(scratch, 'none');
  mkdirSync(noModules);
  writeFileSync(path.join(noModules, 'package-lock.json'), '{"packages":{}}');
  assert.match(stale(noModules) ?? '', /node_modules is missing/);
  assert.match(
    stale(project('absent', { a: { version: '1.0.0' }, c: { version: '1.0.0' } }, { a: '1.0.0' })) ?? '',
    /node_modules\/c is not installed/,
  );
  assert.match(stale(project('old', { a: { version: '1.1.0' } }, { a: '1.0.0' })) ?? '', /is 1\.0\.0, package-lock\.json wants 1\.1\.0/);
});

test('optional packages (other platforms) may be absent', () => {
  assert.equal(
    stale(project('optional', { a: { version: '1.0.0' }, 'esbuild-win': { version: '1.0.0', optional: true } }, { a: '1.0.0' })),
    null,
  );
});

test('the repository itself is up to date (npm test would otherwise run npm ci)', () => {
  assert.equal(stale(path.resolve(__dirname, '../../..')), null);
});
