// Appends to an AppendLog forever, several appends in flight, printing each acknowledged seq.
import { writeSync } from 'node:fs';
import { AppendLog } from '../../../../src/core/storage/appendLog';

interface Entry {
  seq: number;
  pad: string;
}

async function main(): Promise<void> {
  const file = process.argv[2]!;
  const { log, entries } = await AppendLog.open<Entry>(file);
  let seq = entries.reduce((m, e) => Math.max(m, e.seq), 0);
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    const batch: Entry[] = [];
    const k = 1 + Math.floor(Math.random() * 4);
    for (let i = 0; i < k; i++) {
      // Mostly small, sometimes large (so a kill can land inside one write).
      const size = Math.random() < 0.2 ? Math.floor(Math.random() * 200_000) : Math.floor(Math.random() * 300);
      batch.push({ seq: ++seq, pad: 'p'.repeat(size) });
    }
    const seqs = batch.map((e) => e.seq);
    const p = log.append(batch).then(() => {
      writeSync(1, `ack ${seqs.join(',')}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
}
void main();
