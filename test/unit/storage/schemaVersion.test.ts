import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  migrate,
  MigrationError,
  readSchemaVersion,
  SCHEMA_FILE,
  SchemaTooNewError,
  type Migration,
} from '../../../src/core/storage/schemaVersion';
import { STORAGE_MIGRATIONS, storageLayout } from '../../../src/core/storage/layout';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'schema-'));

const v1: Migration = {
  version: 1,
  description: 'notes file',
  up: async (dir) => fsp.writeFile(path.join(dir, 'notes.txt'), 'hello'),
};
const v2: Migration = {
  version: 2,
  description: 'notes become JSON',
  async up(dir) {
    const old = path.join(dir, 'notes.txt');
    if (!existsSync(old)) return; // already done before a crash
    await fsp.writeFile(path.join(dir, 'notes.json'), JSON.stringify({ text: await fsp.readFile(old, 'utf8') }));
    await fsp.rm(old);
  },
};

test('a fresh folder runs every migration in order and records the version', async () => {
  const dir = tmp();
  const r = await migrate(dir, [v2, v1]);
  assert.deepEqual(r, { from: 0, to: 2, ran: [1, 2] });
  assert.equal(await readSchemaVersion(dir), 2);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'notes.json'), 'utf8')), { text: 'hello' });
  assert.deepEqual(
    JSON.parse(readFileSync(path.join(dir, SCHEMA_FILE), 'utf8')).history.map((h: { version: number }) => h.version),
    [1, 2],
  );
});

test('a folder at v1 runs only the newer migration; at the latest, nothing runs', async () => {
  const dir = tmp();
  await migrate(dir, [v1]);
  assert.deepEqual((await migrate(dir, [v1, v2])).ran, [2]);
  assert.deepEqual((await migrate(dir, [v1, v2])).ran, []);
});

test('a folder from a NEWER schema is refused with a clear error and left untouched', async () => {
  const dir = tmp();
  await migrate(dir, [v1, v2]);
  const before = readdirSync(dir).sort();
  const schemaBefore = readFileSync(path.join(dir, SCHEMA_FILE), 'utf8');
  await assert.rejects(migrate(dir, [v1]), (e: unknown) => {
    assert.ok(e instanceof SchemaTooNewError);
    assert.match(e.message, /newer version of MemGPT \(storage schema 2; this version understands up to 1\)/);
    assert.match(e.message, /Nothing was changed or deleted/);
    return true;
  });
  assert.deepEqual(readdirSync(dir).sort(), before);
  assert.equal(readFileSync(path.join(dir, SCHEMA_FILE), 'utf8'), schemaBefore);
});

test('a failing migration stops at the last good version and names the step', async () => {
  const dir = tmp();
  const broken: Migration = { version: 2, description: 'explodes', up: async () => Promise.reject(new Error('disk on fire')) };
  await assert.rejects(
    migrate(dir, [v1, broken]),
    (e: unknown) => e instanceof MigrationError && /schema 2 \(explodes\) failed: disk on fire/.test(e.message),
  );
  assert.equal(await readSchemaVersion(dir), 1);
  assert.deepEqual((await migrate(dir, [v1, v2])).ran, [2], 'the retry with a fixed migration continues from v1');
});

test('migrations with gaps are rejected', async () => {
  await assert.rejects(migrate(tmp(), [v2]), /without gaps/);
});

test('the real storage migrations create the layout', async () => {
  const dir = tmp();
  await migrate(dir, STORAGE_MIGRATIONS);
  const l = storageLayout(dir);
  for (const d of [l.agentsDir, l.recallDir, l.archivalDir]) assert.ok(existsSync(d), d);
});

test('a corrupt schema file is kept aside, not trusted', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, SCHEMA_FILE), 'nonsense');
  await assert.rejects(migrate(dir, [v1]), /moved aside/);
  assert.equal(readdirSync(dir).filter((n) => n.startsWith(`${SCHEMA_FILE}.corrupt-`)).length, 1);
});
