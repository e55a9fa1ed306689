import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  atomicWriteFile,
  atomicWriteJson,
  CorruptFileError,
  readJsonFile,
  UnsupportedFileError,
} from '../../../src/core/storage/atomicFile';
import { bundledChild, startChild } from './childProcess';
import { versionContent } from './children/versionContent';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'atomic-'));
const validateCounter = (v: unknown): { n: number } => {
  if (typeof (v as { n?: unknown })?.n !== 'number') throw new Error('"n" must be a number');
  return v as { n: number };
};

test('atomicWriteFile replaces content and leaves no temp files', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  await atomicWriteJson(f, { n: 1 });
  await atomicWriteJson(f, { n: 2 });
  assert.deepEqual(await readJsonFile(f, validateCounter), { n: 2 });
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('readJsonFile returns undefined for a missing file', async () => {
  assert.equal(await readJsonFile(path.join(tmp(), 'nope.json'), validateCounter), undefined);
});

test('a file that is not JSON is moved aside, not deleted, with an error that says so', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  writeFileSync(f, '{"n": 1, trunc');
  const err = await readJsonFile(f, validateCounter).then(
    () => assert.fail('should throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CorruptFileError);
  assert.match(err.message, /unreadable/);
  assert.match(err.message, /moved aside/);
  const names = readdirSync(dir);
  assert.equal(names.length, 1);
  assert.match(names[0]!, /^state\.json\.corrupt-/);
  assert.equal(readFileSync(path.join(dir, names[0]!), 'utf8'), '{"n": 1, trunc', 'the bad bytes are kept verbatim');
  assert.equal(err.keptAs, path.join(dir, names[0]!));
});

test('a file failing validation is moved aside with the validator reason', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  writeFileSync(f, '{"n": "one"}');
  await assert.rejects(
    readJsonFile(f, validateCounter),
    (e: unknown) => e instanceof CorruptFileError && /"n" must be a number/.test(e.message),
  );
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('state.json.corrupt-')).length, 1);
});

test('an empty file is reported as empty', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  writeFileSync(f, '');
  await assert.rejects(readJsonFile(f, validateCounter), /the file is empty/);
});

test('an UnsupportedFileError from the validator leaves the file in place', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  writeFileSync(f, '{"n": 1, "schema": 99}');
  await assert.rejects(
    readJsonFile(f, () => {
      throw new UnsupportedFileError('too new');
    }),
    UnsupportedFileError,
  );
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('temp files left by a dead writer are swept on the next write', async () => {
  const dir = tmp();
  const f = path.join(dir, 'state.json');
  // pid 2^22+7 is beyond Linux's default pid_max, so it cannot be alive.
  writeFileSync(path.join(dir, `.state.json.tmp-${2 ** 22 + 7}-abcd`), 'half');
  await atomicWriteFile(f, 'whole');
  assert.deepEqual(readdirSync(dir), ['state.json']);
});

test('SIGKILL during atomic rewrites never leaves a partial file (10 kills)', async () => {
  const dir = tmp();
  const f = path.join(dir, 'data.txt');
  const script = bundledChild('atomicChild');
  let lastAcked = 0;
  for (let round = 0; round < 10; round++) {
    const child = startChild(script, [f, String(lastAcked + 1)]);
    await child.waitForLine((l) => l.startsWith('ack '));
    await new Promise((r) => setTimeout(r, Math.random() * 120));
    await child.kill();
    const acked = child.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
    const maxAck = Math.max(...acked);
    const text = readFileSync(f, 'utf8');
    const m = /^v(\d+)\n/.exec(text);
    assert.ok(m, `round ${round}: file starts with a version header`);
    const n = Number(m[1]);
    const expectedBody = versionContent(n, text.length - versionContent(n, 0).length);
    assert.equal(text, expectedBody, `round ${round}: file is one complete version (v${n})`);
    assert.ok(
      n === maxAck || n === maxAck + 1,
      `round ${round}: file holds the last acknowledged version ${maxAck} or the one in flight (got ${n})`,
    );
    lastAcked = n;
  }
  const leftovers = readdirSync(dir).filter((name) => name !== 'data.txt');
  assert.ok(leftovers.length <= 1, `at most the last killed writer's temp file remains (got ${leftovers.join(', ')})`);
  rmSync(dir, { recursive: true, force: true });
});
