/**
 * Acting in one workspace: the actor behind edit_file, write_file and run_command (with the
 * user's approval), who approves and how approved changes are written, and the checkpoints that
 * undo a turn's changes. Restoring brings files back, sends them through the file changes (so
 * the index and instruction files follow) and tells the agent.
 */
import { Actor } from '../acting/actor';
import { DEFAULT_APPROVAL_SETTINGS } from '../acting/approvalPolicy';
import type { FileChangeApplier } from '../acting/changeApplier';
import type { Checkpoint, RestoreReport } from '../acting/checkpointStore';
import type { OpenText } from '../acting/fileChange';
import type { WorkspaceRoot } from '../index/discovery';
import type { ApprovalRequester } from '../interfaces/approval';
import { CheckpointService } from './checkpointService';
import type { RuntimeConfig } from './runtimeConfig';
import type { RuntimeGuard } from './runtimeGuard';
import type { ActingPort, WorkspaceFilesPort } from './runtimePort';

export interface ActingServiceDeps {
  checkpointsDir: string;
  roots(): readonly WorkspaceRoot[];
  config(): RuntimeConfig;
  guard: RuntimeGuard;
  files: Pick<WorkspaceFilesPort, 'fileChanged' | 'fileRemoved'>;
  /** Tells the agent what happened (a system alert at its next step). */
  tell(text: string): Promise<void>;
}

export class ActingService implements ActingPort {
  readonly actor: Actor;
  readonly checkpoints: CheckpointService;

  constructor(private readonly deps: ActingServiceDeps) {
    this.checkpoints = new CheckpointService({
      dir: deps.checkpointsDir,
      roots: deps.roots,
      reindexFile: (abs) => deps.files.fileChanged(abs),
      removeFile: (abs) => deps.files.fileRemoved(abs),
      tell: deps.tell,
    });
    this.actor = new Actor({
      roots: deps.roots,
      settings: () => deps.config().approval ?? DEFAULT_APPROVAL_SETTINGS,
      checkpoints: () => this.checkpoints.store(),
      secretValues: () => [deps.config().apiKey],
    });
  }

  setApprover(approver: ApprovalRequester | undefined): void {
    this.actor.approver = approver;
  }

  setFileChangeApplier(applier: FileChangeApplier, openText?: OpenText): void {
    this.actor.applier = applier;
    this.actor.openText = openText;
  }

  isAgentWrite(absPath: string): boolean {
    return this.actor.isOwnWrite(absPath);
  }

  listCheckpoints(): Promise<Checkpoint[]> {
    return this.checkpoints.list();
  }

  restoreCheckpoint(id: string): Promise<RestoreReport> {
    this.deps.guard.assertWritable('restore checkpoints');
    return this.checkpoints.restore(id);
  }
}
