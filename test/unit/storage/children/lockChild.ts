// Takes the workspace lock of a folder, reports the outcome, and holds it until killed.
import { writeSync } from 'node:fs';
import { WorkspaceLock } from '../../../../src/core/storage/workspaceLock';

async function main(): Promise<void> {
  const attempt = await new WorkspaceLock(process.argv[2]!, { owner: 'test child' }).tryAcquire();
  writeSync(1, `${JSON.stringify({ acquired: attempt.acquired, pid: process.pid })}\n`);
  setInterval(() => undefined, 1 << 30);
}
void main();
