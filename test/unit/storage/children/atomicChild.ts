// Rewrites one file atomically forever with versioned, self-checking content; prints each acknowledged version.
import { writeSync } from 'node:fs';
import { atomicWriteFile } from '../../../../src/core/storage/atomicFile';
import { versionContent } from './versionContent';

async function main(): Promise<void> {
  const file = process.argv[2]!;
  const first = Number(process.argv[3] ?? '1');
  for (let n = first; ; n++) {
    await atomicWriteFile(file, versionContent(n, Math.floor(Math.random() * 1_500_000)));
    writeSync(1, `ack ${n}\n`);
  }
}
void main();
