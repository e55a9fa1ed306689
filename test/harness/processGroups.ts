/**
 * code-server spawns helpers (extension host, pty host, file watcher) that outlive a plain kill of
 * its main process. Each server therefore runs in its own process group, and every group started
 * here is killed when this process ends, however it ends (normal exit, exception, Ctrl-C, SIGTERM).
 */
import { HARNESS_STOP_GRACE_MS } from '../../src/core/limits';

const liveGroups = new Set<number>();
let hooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // Graceful first (code-server saves state on SIGTERM); the 'exit' hook above is the backstop.
      void Promise.all([...liveGroups].map((pgid) => stopGroup(pgid, HARNESS_STOP_GRACE_MS))).finally(() =>
        process.exit(signal === 'SIGINT' ? 130 : 143),
      );
    });
  }
}

export function trackGroup(pgid: number): void {
  installHooks();
  liveGroups.add(pgid);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, SIGKILL after `graceMs` if anything in it still runs. */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) killGroup(pgid, 'SIGKILL');
  liveGroups.delete(pgid);
}
