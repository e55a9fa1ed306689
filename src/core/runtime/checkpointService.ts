/**
 * Checkpoints of one workspace: the shadow store the acting functions snapshot into (opened on
 * first use, under the workspace's storage folder, never the user's git), the list the chat and
 * `memgpt checkpoints` show, and Restore, which brings the files back, re-indexes them and tells
 * the agent. The runtime composes it; it does none of this work itself.
 */
import { CheckpointStore, type Checkpoint, type RestoreReport } from '../acting/checkpointStore';
import { confineFile } from '../acting/confinement';
import type { WorkspaceRoot } from '../index/discovery';

export interface CheckpointServiceDeps {
  /** Where the store lives (the storage layout's checkpoints folder). */
  dir: string;
  roots(): readonly WorkspaceRoot[];
  /** Re-index a restored file / drop a file the restored turn had created. */
  reindexFile(absPath: string): Promise<void>;
  removeFile(absPath: string): Promise<void>;
  /** Tells the agent what happened (a system alert at its next step). */
  tell(text: string): Promise<void>;
}

export class CheckpointService {
  private opening: Promise<CheckpointStore> | null = null;

  constructor(private readonly deps: CheckpointServiceDeps) {}

  /** The store, opened once; a failed open is retried at the next change rather than remembered for ever. */
  store(): Promise<CheckpointStore> {
    if (!this.opening) {
      const opening = CheckpointStore.open(this.deps.dir);
      opening.catch(() => {
        if (this.opening === opening) this.opening = null;
      });
      this.opening = opening;
    }
    return this.opening;
  }

  /** Checkpoints of this workspace, newest first. */
  async list(): Promise<Checkpoint[]> {
    return (await this.store()).list();
  }

  /**
   * Brings the files back as they were before checkpoint `id`'s turn (later turns' changes to
   * them are undone too), then tells the agent, so it does not go on from files that are gone.
   * What commands did (installed packages, deleted files, a git commit) is not undone.
   */
  async restore(id: string): Promise<RestoreReport> {
    const roots = this.deps.roots();
    const report = await (await this.store()).restore(id, async (p) => (await confineFile(roots, p)).abs);
    const files = [...report.restored, ...report.deleted];
    for (const f of files) {
      const abs = await confineFile(roots, f).then(
        (c) => c.abs,
        () => null,
      );
      if (abs) await (report.deleted.includes(f) ? this.deps.removeFile(abs) : this.deps.reindexFile(abs)).catch(() => undefined);
    }
    await this.deps.tell(restoreAlert(id, report));
    return report;
  }
}

/** What the agent is told after a restore. */
function restoreAlert(id: string, report: RestoreReport): string {
  const files = [...report.restored.map((f) => `${f} (restored)`), ...report.deleted.map((f) => `${f} (deleted: the turn created it)`)];
  return (
    `The user restored checkpoint ${id}: ${files.length} file(s) are back as they were before that turn` +
    (report.checkpoints.length > 1 ? ` (and ${report.checkpoints.length - 1} later turn(s) were rolled back too)` : '') +
    `: ${files.join(', ') || 'no files'}. ` +
    'Your edits in those turns are undone; read the files again before changing them. What commands did (installed packages, generated or deleted files, commits) was not undone.'
  );
}
