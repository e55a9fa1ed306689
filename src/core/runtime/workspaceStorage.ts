import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FileRecallStore, RECALL_LOG_FILE, type FileRecallStoreOptions } from '../memory/recallStore';
import { AgentStateStore } from '../agent/agentStateStore';
import { STORAGE_MIGRATIONS, storageLayout, type StorageLayout } from '../storage/layout';
import { NoticeBoard } from '../storage/notices';
import { migrate, readSchemaVersion, SchemaTooNewError } from '../storage/schemaVersion';
import { WorkspaceLock, type HeldLock, type LockAttempt, type LockHolder } from '../storage/workspaceLock';
import { workspaceStorageDir } from '../storage/workspaceStorageDir';

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
  /** Damage found in this memory and what was done about it, for the user (never silent). */
  notices: NoticeBoard;
  /** Closes the recall log and releases the lock. */
  close(): Promise<void>;
}

export interface OpenWorkspaceStorageOptions {
  /** Shown to a second process that finds the memory locked, e.g. "editor window (pid 12)". */
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

/** The part of a workspace's memory a search reads: no recall log, never the lock. */
export type SearchStorage = Omit<WorkspaceStorage, 'recall'>;

/**
 * Opens a workspace's memory read-only for one search: the agent states (which agent is active,
 * whose remembered items are searched) without the recall log, which a search never reads and
 * which can be the largest file of the memory. Refuses a folder written by a newer version, like
 * every reader.
 */
export async function openSearchStorage(globalRoot: string, folderUris: readonly string[], owner: string): Promise<SearchStorage> {
  const dir = await workspaceStorageDir(globalRoot, folderUris);
  const attempt = await readerAttempt(new WorkspaceLock(dir, { owner }));
  const version = await readSchemaVersion(dir).catch(() => 0);
  if (version > STORAGE_MIGRATIONS.length) throw new SchemaTooNewError(dir, version, STORAGE_MIGRATIONS.length);
  const layout = storageLayout(dir);
  const notices = new NoticeBoard();
  const agents = await AgentStateStore.open(layout.agentsDir, { readOnly: true, notices });
  return {
    dir,
    layout,
    readOnly: true,
    readOnlyReason: attempt.acquired ? null : attempt.reason,
    lockHolder: attempt.acquired ? null : attempt.holder,
    agents,
    notices,
    close: () => Promise.resolve(),
  };
}

/** Same as openWorkspaceStorage for a known storage folder. */
export async function openStorageDir(dir: string, options: OpenWorkspaceStorageOptions = {}): Promise<WorkspaceStorage> {
  const layout = storageLayout(dir);
  const lock = new WorkspaceLock(dir, { owner: options.owner ?? 'editor window' });
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
    const notices = new NoticeBoard();
    // Recall first: an agent whose file is lost can be restored only if its messages are known.
    const recall = await FileRecallStore.open(layout.recallDir, { ...options.recall, readOnly, notices });
    const recallDamaged = noticeRecallDamage(recall, notices);
    const agents = await AgentStateStore.open(layout.agentsDir, { readOnly, notices, recallCount: (id) => recall.count(id) });
    if (!recallDamaged) await noticeLostRecall(agents, recall, notices).catch(() => undefined);
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
      notices,
      async close() {
        await recall.close();
        await lockForClose?.release();
      },
    };
  } finally {
    await held?.release();
  }
}

/** What opening the recall log cut or skipped, said to the user; true when anything was lost. */
function noticeRecallDamage(recall: FileRecallStore, notices: NoticeBoard): boolean {
  const r = recall.openReport;
  const file = path.join('recall', RECALL_LOG_FILE);
  let damaged = false;
  // A torn last line is an unacknowledged write (nothing lost); anything more is damage.
  if (r.droppedTailLines > 0 || r.tailKeptAs !== undefined || (r.entries === 0 && r.droppedTailBytes > 0)) {
    damaged = true;
    notices.post(
      'recall:tail',
      r.tailKeptAs
        ? `The recall log ${file} ended in ${r.droppedTailBytes} damaged bytes; they were cut off and kept as ${path.basename(r.tailKeptAs)}. ` +
            `Messages stored there are missing from the conversation history and from conversation_search (${r.entries} messages remain).`
        : `The recall log ${file} ends in ${r.droppedTailBytes} damaged bytes, skipped here (this window is read-only; the window that holds the memory keeps them aside).`,
    );
  }
  const skipped = r.corruptLinesSkipped + r.invalidEntriesSkipped;
  if (skipped > 0) {
    damaged = true;
    notices.post(
      'recall:skipped',
      `The recall log ${file} has ${skipped} damaged lines between good ones; they are skipped and left in the file untouched.`,
    );
  }
  return damaged;
}

/**
 * A deleted or replaced recall log opens as an empty one. The agents know better: messages in
 * their context window are recall records. If those are gone, say so instead of "0 messages".
 */
async function noticeLostRecall(agents: AgentStateStore, recall: FileRecallStore, notices: NoticeBoard): Promise<void> {
  for (const listing of (await agents.list()).agents) {
    const state = await agents.load(listing.id).catch(() => null);
    if (!state || state.inContextIds.length === 0) continue;
    const found = recall.get(state.inContextIds).length;
    if (found > 0) continue;
    notices.post(
      `recall:lost:${state.id}`,
      `The recall log ${path.join('recall', RECALL_LOG_FILE)} holds none of the ${state.inContextIds.length} messages agent "${state.name}" had in its context: ` +
        'the log was deleted or replaced. That conversation history is gone from the chat and from conversation_search; core memory and archival memory are intact.',
    );
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
