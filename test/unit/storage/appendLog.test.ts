import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppendLog, encodeLogLine } from '../../../src/core/storage/appendLog';
import { bundledChild, startChild } from './childProcess';

interface Entry {
  seq: number;
  text: string;
}
const tmpLog = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'applog-')), 'log.jsonl');
const entry = (seq: number): Entry => ({ seq, text: `entry ${seq} — ünïcødé ✓` });

async function writeEntries(file: string, n: number): Promise<void> {
  const { log } = await AppendLog.open<Entry>(file);
  for (let i = 1; i <= n; i++) await log.append([entry(i)]);
  await log.close();
}

test('entries round-trip in order across reopen, with a clean report', async () => {
  const f = tmpLog();
  await writeEntries(f, 5);
  const { log, entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 2, 3, 4, 5].map(entry));
  assert.equal(report.entries, 5);
  assert.equal(report.droppedTailBytes, 0);
  assert.equal(report.tornPartialLine, false);
  assert.equal(log.size, statSync(f).size);
  await log.append([entry(6)]);
  await log.close();
  assert.equal((await AppendLog.open<Entry>(f)).entries.length, 6);
});

test('concurrent appends are batched yet all durable and in call order', async () => {
  const f = tmpLog();
  const { log } = await AppendLog.open<Entry>(f);
  await Promise.all(Array.from({ length: 200 }, (_, i) => log.append([entry(i + 1)])));
  await log.close();
  const { entries } = await AppendLog.open<Entry>(f);
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
});

test('a torn half line at the tail is cut off and reported; earlier entries intact', async () => {
  const f = tmpLog();
  await writeEntries(f, 3);
  const sizeBefore = statSync(f).size;
  const line = encodeLogLine(entry(4));
  appendFileSync(f, line.subarray(0, Math.floor(line.length / 2)));
  const { log, entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 2, 3].map(entry));
  assert.equal(report.tornPartialLine, true);
  assert.equal(report.droppedTailBytes, Math.floor(line.length / 2));
  assert.equal(report.droppedTailLines, 0);
  assert.equal(report.tailKeptAs, undefined, 'an unfinished write is not data worth keeping');
  assert.equal(statSync(f).size, sizeBefore, 'the file is truncated back to the last good line');
  await log.append([entry(4)]);
  await log.close();
  assert.deepEqual((await AppendLog.open<Entry>(f)).entries, [1, 2, 3, 4].map(entry), 'appends after repair land on a clean line');
});

test('garbage at the tail is cut off', async () => {
  const f = tmpLog();
  await writeEntries(f, 2);
  appendFileSync(f, Buffer.from([0, 0, 0, 0xff, 0xfe, 0x41]));
  const { entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 2].map(entry));
  assert.equal(report.droppedTailBytes, 6);
  assert.equal(report.tornPartialLine, true);
});

test('a complete line with a bad checksum at the tail is dropped, reported, and its bytes kept aside', async () => {
  const f = tmpLog();
  await writeEntries(f, 3);
  const bad = Buffer.from(encodeLogLine(entry(4)));
  bad[bad.length - 5] ^= 0x01; // flip a bit inside the JSON
  appendFileSync(f, bad);
  const { entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 2, 3].map(entry));
  assert.equal(report.droppedTailLines, 1);
  assert.equal(report.droppedTailBytes, bad.length);
  assert.ok(report.tailKeptAs, 'the dropped bytes are kept');
  assert.deepEqual(readFileSync(report.tailKeptAs), bad);
  assert.ok(path.basename(report.tailKeptAs).startsWith('log.jsonl.tail-'));
});

test('a last line missing only its newline is kept and the newline restored', async () => {
  const f = tmpLog();
  await writeEntries(f, 2);
  const line = encodeLogLine(entry(3));
  appendFileSync(f, line.subarray(0, line.length - 1));
  const { log, entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 2, 3].map(entry));
  assert.equal(report.repairedMissingNewline, true);
  await log.append([entry(4)]);
  await log.close();
  assert.deepEqual((await AppendLog.open<Entry>(f)).entries, [1, 2, 3, 4].map(entry));
});

test('a corrupt line in the middle is skipped and counted, later entries survive, the file is not cut', async () => {
  const f = tmpLog();
  const lines = [1, 2, 3, 4].map((i) => encodeLogLine(entry(i)));
  const damaged = Buffer.from(lines[1]!);
  damaged[12] = 0x3f;
  writeFileSync(f, Buffer.concat([lines[0]!, damaged, lines[2]!, lines[3]!]));
  const size = statSync(f).size;
  const { entries, report } = await AppendLog.open<Entry>(f);
  assert.deepEqual(entries, [1, 3, 4].map(entry));
  assert.equal(report.corruptLinesSkipped, 1);
  assert.equal(report.droppedTailBytes, 0);
  assert.equal(statSync(f).size, size);
});

test('entries rejected by the validator are skipped and counted, never truncated', async () => {
  const f = tmpLog();
  writeFileSync(f, Buffer.concat([encodeLogLine(entry(1)), encodeLogLine({ wrong: true }), encodeLogLine(entry(3))]));
  const validate = (v: unknown): Entry => {
    if (typeof (v as Entry).seq !== 'number') throw new Error('no seq');
    return v as Entry;
  };
  const { entries, report } = await AppendLog.open<Entry>(f, { validate });
  assert.deepEqual(entries, [1, 3].map(entry));
  assert.equal(report.invalidEntriesSkipped, 1);
});

test('appending to a closed log fails clearly', async () => {
  const { log } = await AppendLog.open<Entry>(tmpLog());
  await log.close();
  await assert.rejects(log.append([entry(1)]), /closed/);
});

test('SIGKILL at random moments never loses an acknowledged append (20 kills)', async () => {
  const f = tmpLog();
  const script = bundledChild('appendChild');
  const acknowledged = new Set<number>();
  let torn = 0;
  for (let round = 0; round < 20; round++) {
    const child = startChild(script, [f]);
    await child.waitForLine((l) => l.startsWith('ack '));
    await new Promise((r) => setTimeout(r, Math.random() * 80));
    await child.kill();
    for (const l of child.lines) if (l.startsWith('ack ')) for (const s of l.slice(4).split(',')) acknowledged.add(Number(s));
    const { log, entries, report } = await AppendLog.open<{ seq: number }>(f);
    await log.close();
    if (report.droppedTailBytes > 0) torn++;
    assert.equal(report.droppedTailLines, 0, `round ${round}: a kill tears at most an unfinished line`);
    assert.equal(report.corruptLinesSkipped, 0, `round ${round}: no damage inside the file`);
    const present = new Set(entries.map((e) => e.seq));
    const missing = [...acknowledged].filter((s) => !present.has(s));
    assert.deepEqual(missing, [], `round ${round}: every acknowledged append is on disk`);
    const seqs = entries.map((e) => e.seq);
    assert.ok(
      seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
      `round ${round}: entries stay in order with no duplicates`,
    );
  }
  assert.ok(acknowledged.size > 20, `the children acknowledged ${acknowledged.size} appends`);
  // Informational: how many kills landed mid-write.
  console.log(
    `# appendLog crash test: ${acknowledged.size} acknowledged appends, ${torn}/20 reopens repaired a torn tail, files: ${readdirSync(path.dirname(f)).join(' ')}`,
  );
  rmSync(path.dirname(f), { recursive: true, force: true }); // tens of MB of padding
});
