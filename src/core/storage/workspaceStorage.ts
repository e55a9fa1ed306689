import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FileRecallStore, type FileRecallStoreOptions } from '../memory/recallStore';
import { AgentStateStore } from './agentStateStore';
import { STORAGE_MIGRATIONS, storageLayout, type StorageLayout } from './layout';
import { migrate, readSchemaVersion, SchemaTooNewError } from './schemaVersion';
import { WorkspaceLock, type HeldLock, type LockAttempt, type LockHolder } from './workspaceLock';
import { workspaceStorageDir } from './workspaceStorageDir';

/**
 * Opens one workspace's memory the safe way, in the order that matters:
 * find the folder, take the lock, migrate (only the lock holder may), then
 * open the agent states and the recall log. A window that cannot take the lock
 * gets the same memory read-only, with a sentence to show the user.
 */

export interface WorkspaceStorage {
  dir: string;
  layout: StorageLayout;
  /** True when another window holds the lock: nothing here will write. */
  readOnly: boolean;
  /** For the user when read-only: who holds the memory and what that means. */
  readOnlyReason: string | null;
  lockHolder: LockHolder | null;
  agents: AgentStateStore;
  recall: FileRecallStore;
  /** Closes the recall log and releases the lock. */
  close(): Promise<void>;
}

export interface OpenWorkspaceStorageOptions {
  /** Shown to a second window, e.g. "VS Code window". */
  owner?: string;
  recall?: Omit<FileRecallStoreOptions, 'readOnly'>;
  /**
   * False: open read-only without taking the lock (a one-shot reader such as `memgpt search`),
   * so a window opening meanwhile still becomes the writer.
   */
  lock?: boolean;
}

export async function openWorkspaceStorage(
  globalRoot: string,
  folderUris: readonly string[],
  options: OpenWorkspaceStorageOptions = {},
): Promise<WorkspaceStorage> {
  const dir = await workspaceStorageDir(globalRoot, folderUris);
  return openStorageDir(dir, options);
}

/** Same as openWorkspaceStorage for a known storage folder. */
export async function openStorageDir(dir: string, options: OpenWorkspaceStorageOptions = {}): Promise<WorkspaceStorage> {
  const layout = storageLayout(dir);
  const lock = new WorkspaceLock(dir, { owner: options.owner ?? 'VS Code window' });
  const attempt: LockAttempt = options.lock === false ? await readerAttempt(lock) : await lock.tryAcquire();
  let held: HeldLock | null = attempt.acquired ? attempt : null;
  try {
    if (held) {
      await migrate(dir, STORAGE_MIGRATIONS);
    } else {
      // Read-only: never migrate someone else's folder, but still refuse one we cannot understand.
      const version = await readSchemaVersion(dir).catch(() => 0);
      if (version > STORAGE_MIGRATIONS.length) throw new SchemaTooNewError(dir, version, STORAGE_MIGRATIONS.length);
    }
    const readOnly = held === null;
    const agents = await AgentStateStore.open(layout.agentsDir, { readOnly });
    const recall = await FileRecallStore.open(layout.recallDir, { ...options.recall, readOnly });
    const lockForClose = held;
    held = null; // ownership passes to the returned object
    return {
      dir,
      layout,
      readOnly,
      readOnlyReason: attempt.acquired ? null : attempt.reason,
      lockHolder: attempt.acquired ? null : attempt.holder,
      agents,
      recall,
      async close() {
        await recall.close();
        await lockForClose?.release();
      },
    };
  } finally {
    await held?.release();
  }
}

/** A reader that never takes the lock still says who holds it, if anyone. */
async function readerAttempt(lock: WorkspaceLock): Promise<LockAttempt> {
  const holder = await lock.liveHolder();
  return { acquired: false, holder, reason: holder ? WorkspaceLock.heldReason(holder) : 'This memory was opened for reading only.' };
}

/** Whether a folder looks like workspace storage (has a schema file); for tools that list them. */
export async function isStorageDir(dir: string): Promise<boolean> {
  try {
    await fsp.access(path.join(dir, 'schema.json'));
    return true;
  } catch {
    return false;
  }
}
