import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { MemgptError } from '../base/errors';
import { isProcessAlive } from './processes';

/**
 * A short lock between processes around one read-change-write of a small file that several
 * windows and command lines write (the memory shared by every workspace). The lock is a file
 * created only if absent (`wx`), naming its owner; it is removed when the work ends. A lock
 * whose process is gone, or older than `staleMs`, was left by a crash and is taken over. The
 * wait is bounded: after `timeoutMs` the caller gets FileLockTimeoutError and nothing changed.
 */

export class FileLockTimeoutError extends MemgptError {
  constructor(
    readonly lockFile: string,
    waitedMs: number,
  ) {
    super('lock_timeout', `Another process kept ${lockFile} locked for ${waitedMs} ms; nothing was changed. Try again.`);
  }
}

interface LockOwner {
  pid: number;
  host: string;
  time: number;
}

const RETRY_MS = 15;

export async function withFileLock<T>(
  lockFile: string,
  work: () => Promise<T>,
  options: { timeoutMs: number; staleMs: number },
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const owner: LockOwner = { pid: process.pid, host: hostname(), time: Date.now() };
      await fsp.writeFile(lockFile, JSON.stringify(owner), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockFile, options.staleMs)) {
        // Renamed away first: of two processes that both found it stale, only one removes it.
        const aside = `${lockFile}.stale-${process.pid}-${attempt}`;
        await fsp.rename(lockFile, aside).then(
          () => fsp.rm(aside, { force: true }),
          () => undefined,
        );
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= options.timeoutMs) throw new FileLockTimeoutError(lockFile, waited);
      await new Promise((r) => setTimeout(r, RETRY_MS + Math.floor(Math.random() * RETRY_MS)));
    }
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lockFile, { force: true });
  }
}

async function isStale(lockFile: string, staleMs: number): Promise<boolean> {
  let owner: Partial<LockOwner>;
  try {
    owner = JSON.parse(await fsp.readFile(lockFile, 'utf8')) as Partial<LockOwner>;
  } catch {
    // Being written right now (empty) or unreadable: judged by its age alone.
    const stat = await fsp.stat(lockFile).catch(() => null);
    return stat !== null && Date.now() - stat.mtimeMs > staleMs;
  }
  if (typeof owner.time === 'number' && Date.now() - owner.time > staleMs) return true;
  return owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !isProcessAlive(owner.pid);
}
