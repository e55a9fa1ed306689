import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import manifest from '../../../package.json';

const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');

test('the README documents every contributed command by its palette title', () => {
  for (const c of manifest.contributes.commands) {
    assert.ok(readme.includes(`MemGPT: ${c.title}`) || readme.includes(`/ ${c.title}`), `README lacks "MemGPT: ${c.title}"`);
  }
});

test('the README documents every setting with its default', () => {
  for (const [key, p] of Object.entries(manifest.contributes.configuration.properties)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
    assert.ok(row, `README has no settings row for ${key}`);
    assert.ok(
      row.includes(`\`${JSON.stringify((p as { default: unknown }).default)}\``) ||
        row.includes(`\`${String((p as { default: unknown }).default)}\``),
      `README row of ${key} shows its default: ${row}`,
    );
  }
});

test('the Quick start is exactly two commands', () => {
  const quick = readme.split('## Quick start')[1]!.split('```')[1]!.trim().split('\n');
  assert.deepEqual(quick, ['npm start', 'npm test']);
});
