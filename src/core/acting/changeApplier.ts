import type { WorkspaceRoot } from '../index/discovery';
import type { CheckpointStore } from './checkpointStore';
import { applyChange, type PreparedChange } from './fileChange';

/**
 * The port through which an approved change reaches the file. The contract, whoever implements
 * it: refuse (FileChangeError 'stale') when the file is no longer the text the diff was made
 * from, take the turn's checkpoint (`checkpoint.store.snapshot`) before the first byte changes,
 * then write. VS Code implements it with WorkspaceEdit (Undo works, an unsaved editor buffer is
 * edited as the user sees it); the CLI and tests write straight to disk.
 */
export interface FileChangeApplier {
  apply(change: PreparedChange, checkpoint: { store: CheckpointStore; turnId: string }): Promise<void>;
}

/** Writes to disk atomically, keeping the file's mode (fileChange.applyChange). */
export class NodeFileChangeApplier implements FileChangeApplier {
  constructor(private readonly roots: () => readonly WorkspaceRoot[]) {}

  apply(change: PreparedChange, checkpoint: { store: CheckpointStore; turnId: string }): Promise<void> {
    // Confinement is checked again at write time: the path must still resolve to the same file.
    return applyChange(this.roots(), change, checkpoint);
  }
}
