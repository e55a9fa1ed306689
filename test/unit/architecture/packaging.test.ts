/**
 * The .vsix is built by excluding everything in .vscodeignore and letting the shipped files back
 * in; scripts/package.mjs then refuses a package that lacks a required file. The two lists are
 * kept by hand, so a bundle added to one and not the other breaks `npm run package` only when
 * someone packages. This checks, without packaging, that every required file is let back in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';

const REPO = path.resolve(__dirname, '..', '..', '..');

test('every file scripts/package.mjs requires in the .vsix is let back in by .vscodeignore', () => {
  const packaging = readFileSync(path.join(REPO, 'scripts', 'package.mjs'), 'utf8');
  const block = /const REQUIRED = \[([\s\S]*?)\n\];/.exec(packaging)?.[1];
  assert.ok(block, 'scripts/package.mjs declares its REQUIRED list');
  const required = [...block.matchAll(/'extension\/([^']+)'/g)].map((m) => m[1]!);
  assert.ok(required.length >= 10, `found ${required.length} required files`);
  const lines = readFileSync(path.join(REPO, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  // Last matching line wins, as in vsce: a pattern excludes, a `!pattern` lets the file back in.
  const shipped = (file: string): boolean => {
    let included = true;
    for (const line of lines) {
      const negated = line.startsWith('!');
      if (picomatch.isMatch(file, negated ? line.slice(1) : line, { dot: true })) included = negated;
    }
    return included;
  };
  const left = required.filter((file) => !shipped(file));
  assert.deepEqual(left, [], `.vscodeignore keeps out files the package requires: ${left.join(', ')}`);
  assert.equal(shipped('src/extension.ts'), false, 'sources stay out of the package');
});
