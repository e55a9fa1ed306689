// Appends to a recall store forever with a tiny index tail (so segments are flushed and merged
// all the time), several appends in flight, printing each acknowledgement after it returned:
//   ack m<N>,m<N+1>
// With a third argument `worker`, every tail is written by a worker thread (the worker script is
// bundled beside this one), and each acknowledgement is followed by `tails <written so far>`.
import { writeSync } from 'node:fs';
import { FileRecallStore } from '../../../../src/core/memory/recallStore';

const WORDS = 'alpha beta gamma delta parseConfig load_user cache timeout settings panel'.split(' ');

async function main(): Promise<void> {
  const [dir, start, mode] = process.argv.slice(2) as [string, string, string | undefined];
  const inWorker = mode === 'worker';
  const store = await FileRecallStore.open(dir, { indexFlushDocs: 8, ...(inWorker ? { workerTailMinDocs: 0 } : {}) });
  writeSync(1, `open ${store.indexReport.state} ${store.count()}\n`);
  let n = Number(start);
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    const k = 1 + Math.floor(Math.random() * 4);
    const batch = Array.from({ length: k }, () => {
      const words = Array.from({ length: 3 + Math.floor(Math.random() * 6) }, () => WORDS[Math.floor(Math.random() * WORDS.length)]!);
      return {
        agentId: Math.random() < 0.8 ? 'a' : 'b',
        time: new Date().toISOString(),
        kind: 'user' as const,
        message: { role: 'user' as const, content: `m${++n} ${words.join(' ')}` },
      };
    });
    const names = batch.map((b) => b.message.content.split(' ')[0]);
    const p = store.append(batch).then(() => {
      writeSync(1, `ack ${names.join(',')}\n`);
      if (inWorker) writeSync(1, `tails ${store.tailsInWorker}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 3) await Promise.race(inFlight);
  }
}
main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
