import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDirectory } from './atomicFile';
import { isProcessAlive } from './processes';
import { LOCK_REFRESH_INTERVAL_MS, LOCK_STALE_AFTER_MS, LOCK_TAKEOVER_GUARD_STALE_MS } from '../limits';

/**
 * One writer per storage folder. Two VS Code windows on the same folder would
 * otherwise interleave appends to the same recall log and overwrite each
 * other's agent state. The first window takes the lock; the second learns who
 * holds it and stays read-only ("another window holds this workspace's memory").
 *
 * The lock file is created atomically with link(2) from a fully written temp
 * file, so it is never seen half-written. A lock is stale when its holder is
 * on this host and its pid is dead, or when the holder has not refreshed it for
 * LOCK_STALE_AFTER_MS (covers other hosts sharing a network home, and pid reuse).
 * Taking over a stale lock happens under a short-lived guard directory, so two
 * windows racing for the same stale lock cannot both win.
 */

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  acquiredAt: string;
  /** ISO time the holder last proved it is alive. */
  refreshedAt: string;
  /** Free text for humans, e.g. "VS Code window". */
  owner: string;
  /** Random id of this acquisition, so a holder never removes someone else's lock. */
  nonce: string;
}

export interface HeldLock {
  acquired: true;
  holder: LockHolder;
  /** Removes the lock if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

export type LockAttempt = HeldLock | { acquired: false; holder: LockHolder | null; reason: string };

export interface WorkspaceLockOptions {
  owner?: string;
  /** Refresh the lock's timestamp periodically (default true). */
  refresh?: boolean;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof v.pid === 'number' &&
      typeof v.hostname === 'string' &&
      typeof v.acquiredAt === 'string' &&
      typeof v.refreshedAt === 'string' &&
      typeof v.nonce === 'string'
    ) {
      return {
        pid: v.pid,
        hostname: v.hostname,
        acquiredAt: v.acquiredAt,
        refreshedAt: v.refreshedAt,
        owner: String(v.owner ?? ''),
        nonce: v.nonce,
      };
    }
  } catch {
    // fall through: unreadable lock files are judged by age below
  }
  return null;
}

export class WorkspaceLock {
  readonly file: string;
  private readonly guardDir: string;

  constructor(
    readonly dir: string,
    private readonly options: WorkspaceLockOptions = {},
  ) {
    this.file = path.join(dir, 'memory.lock');
    this.guardDir = path.join(dir, 'memory.lock.takeover');
  }

  /** Who holds the lock now, or null if nobody (or the file is unreadable). */
  async readHolder(): Promise<LockHolder | null> {
    try {
      return parseHolder(await fsp.readFile(this.file, 'utf8'));
    } catch {
      return null;
    }
  }

  /** Who holds the lock and is still alive, without taking it (for readers that never write). */
  async liveHolder(): Promise<LockHolder | null> {
    const current = await this.readHolder();
    return current && !(await this.staleness(current)) ? current : null;
  }

  /** The sentence a read-only window shows about `holder`. */
  static heldReason(holder: LockHolder | null): string {
    return `${WorkspaceLock.describeHolder(holder)} holds this workspace's memory; this window is read-only until it closes.`;
  }

  static describeHolder(holder: LockHolder | null): string {
    if (!holder) return 'another process';
    const who = holder.owner ? `${holder.owner} ` : '';
    return `${who}(pid ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt})`;
  }

  async tryAcquire(): Promise<LockAttempt> {
    await fsp.mkdir(this.dir, { recursive: true });
    const now = new Date().toISOString();
    const me: LockHolder = {
      pid: process.pid,
      hostname: os.hostname(),
      acquiredAt: now,
      refreshedAt: now,
      owner: this.options.owner ?? '',
      nonce: randomBytes(8).toString('hex'),
    };
    if (await this.linkNew(me)) return this.held(me);

    const current = await this.readHolder();
    const staleReason = await this.staleness(current);
    if (!staleReason) {
      return {
        acquired: false,
        holder: current,
        reason: WorkspaceLock.heldReason(current),
      };
    }
    // Stale: take over under the guard so only one contender removes it.
    if (!(await this.enterGuard())) {
      return { acquired: false, holder: current, reason: 'another window is taking over a stale lock right now; try again in a moment.' };
    }
    try {
      const again = await this.readHolder();
      const sameStale = again === null ? current === null : current !== null && again.nonce === current.nonce;
      if (!sameStale) {
        const fresh = await this.staleness(again);
        if (!fresh) {
          return { acquired: false, holder: again, reason: WorkspaceLock.heldReason(again) };
        }
      }
      await fsp.rm(this.file, { force: true });
      if (await this.linkNew(me)) return this.held(me);
      const winner = await this.readHolder();
      return { acquired: false, holder: winner, reason: `${WorkspaceLock.describeHolder(winner)} took the lock first.` };
    } finally {
      await fsp.rm(this.guardDir, { recursive: true, force: true });
    }
  }

  /** Why the lock is stale, or null if its holder may still be alive. */
  private async staleness(holder: LockHolder | null): Promise<string | null> {
    if (!holder) {
      // Unreadable or vanished. link() never exposes a half-written file, so an old unreadable one is junk.
      try {
        const st = await fsp.stat(this.file);
        return Date.now() - st.mtimeMs > LOCK_TAKEOVER_GUARD_STALE_MS ? 'unreadable lock file' : null;
      } catch {
        return 'lock file vanished';
      }
    }
    if (holder.hostname === os.hostname() && !isProcessAlive(holder.pid)) return `pid ${holder.pid} is not running`;
    const age = Date.now() - Date.parse(holder.refreshedAt);
    if (!(age <= LOCK_STALE_AFTER_MS)) return `not refreshed for ${Math.round(age / 1000)} s`;
    return null;
  }

  private async linkNew(me: LockHolder): Promise<boolean> {
    const temp = `${this.file}.${process.pid}-${me.nonce}`;
    await fsp.writeFile(temp, JSON.stringify(me));
    const h = await fsp.open(temp, 'r+');
    await h.sync();
    await h.close();
    try {
      await fsp.link(temp, this.file);
      await fsyncDirectory(this.dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  private async enterGuard(): Promise<boolean> {
    try {
      await fsp.mkdir(this.guardDir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A contender that died inside the guard leaves it behind; it is only held for milliseconds.
    try {
      const st = await fsp.stat(this.guardDir);
      if (Date.now() - st.mtimeMs > LOCK_TAKEOVER_GUARD_STALE_MS) {
        await fsp.rm(this.guardDir, { recursive: true, force: true });
        await fsp.mkdir(this.guardDir);
        return true;
      }
    } catch {
      // lost the race to someone else: let them finish
    }
    return false;
  }

  private held(me: LockHolder): HeldLock {
    let released = false;
    const timer =
      this.options.refresh === false
        ? undefined
        : setInterval(() => {
            void this.refresh(me);
          }, LOCK_REFRESH_INTERVAL_MS);
    timer?.unref();
    return {
      acquired: true,
      holder: me,
      release: async () => {
        if (released) return;
        released = true;
        if (timer) clearInterval(timer);
        const current = await this.readHolder();
        if (current?.nonce === me.nonce) await fsp.rm(this.file, { force: true });
      },
    };
  }

  private async refresh(me: LockHolder): Promise<void> {
    const current = await this.readHolder();
    if (current?.nonce !== me.nonce) return;
    me.refreshedAt = new Date().toISOString();
    // In-place rewrite of a tiny file: a torn one reads as "unreadable", which is only stale when old.
    await fsp.writeFile(this.file, JSON.stringify(me)).catch(() => undefined);
  }
}
