import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppendLog, encodeLogLine, writePieces } from '../../../src/core/storage/appendLog';

interface Entry {
  seq: number;
  text: string;
}
// lengths vary from a few bytes to a few KB, so line boundaries fall everywhere in a write
const entry = (seq: number): Entry => ({ seq, text: `entry ${seq} ${'ünïcødé ✓ '.repeat((seq * 37) % 300)}` });

test('batches of more lines than one gathered write holds land byte for byte, in call order, at the offsets returned', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'applog-writes-'));
  try {
    const file = path.join(dir, 'log.jsonl');
    const { log } = await AppendLog.open<Entry>(file);
    const batches = [2500, 1, 1024, 1025, 3].map((n, b) => Array.from({ length: n }, (_, i) => encodeLogLine(entry(b * 10_000 + i))));
    // queued together: the drain writes them as one batch of 4,553 pieces
    const offsets = await Promise.all(batches.map((lines) => log.appendEncodedAt(lines)));
    await log.close();
    const expected = Buffer.concat(batches.flat());
    assert.ok(readFileSync(file).equals(expected), 'the file holds exactly the lines, in order');
    let at = 0;
    batches.forEach((lines, b) => {
      assert.equal(offsets[b], at, `batch ${b} starts where the one before it ended`);
      for (const l of lines) at += l.length;
    });
    const reopened = await AppendLog.open<Entry>(file);
    assert.equal(reopened.entries.length, 2500 + 1 + 1024 + 1025 + 3);
    assert.deepEqual(reopened.entries[2500], entry(10_000));
    assert.equal(reopened.report.droppedTailBytes, 0);
    await reopened.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('short writes: what the disk did not take is written next, without gaps or repeats', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'applog-writes-'));
  const file = path.join(dir, 'short.bin');
  const real = await fsp.open(file, 'a');
  try {
    // a real file that takes at most 777 bytes per call, cutting pieces anywhere
    let calls = 0;
    const stingy = {
      writev: async (buffers: Buffer[]) => {
        calls++;
        const part = Buffer.concat(buffers).subarray(0, 777);
        await real.write(part);
        return { bytesWritten: part.length };
      },
    };
    const pieces = Array.from({ length: 300 }, (_, i) => Buffer.from(`${i}:${'x'.repeat(i % 50)}|`));
    pieces.splice(100, 0, Buffer.alloc(0)); // an empty piece is skipped, not stalled on
    const written = await writePieces(stingy, pieces);
    const expected = Buffer.concat(pieces);
    assert.equal(written, expected.length);
    assert.ok(readFileSync(file).equals(expected));
    assert.ok(calls > expected.length / 777, `${calls} calls`);

    const refusing = { writev: async () => ({ bytesWritten: 0 }) };
    await assert.rejects(writePieces(refusing, [Buffer.from('a')]), /no bytes/);
  } finally {
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
