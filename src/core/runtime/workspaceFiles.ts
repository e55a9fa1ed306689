/**
 * The workspace's files as they change, for everything that follows them: each save, change on
 * disk, delete or rename reaches the instruction files and the cited code first (so the agent's
 * next step reads the new rules) and then the index. The instruction files and citations open
 * with the memory (`open`); until then a change reaches the index alone.
 */
import type { ArchivalStore } from '../interfaces/archivalStore';
import type { InstructionFiles } from '../memory/instructionFiles';
import { MemoryFilesService, type MemoryFilesDeps } from './memoryFilesService';
import { RuntimeUnavailableError } from './runtimeGuard';
import type { InstructionFilesView, PortDisposable, WorkspaceFilesPort } from './runtimePort';

/** The index's side of a file change (ArchivalService). */
export interface IndexedFiles {
  reindexFile(absPath: string): Promise<void>;
  removeFile(absPath: string): Promise<void>;
  renameFile(oldAbs: string, newAbs: string): Promise<void>;
}

export class WorkspaceFilesService implements WorkspaceFilesPort {
  private memoryFiles: MemoryFilesService | undefined;

  constructor(private readonly index: IndexedFiles) {}

  /** Reads the instruction files and the citations; called once, when the memory opens. */
  async open(deps: MemoryFilesDeps): Promise<void> {
    this.memoryFiles = await MemoryFilesService.open(deps);
  }

  private get opened(): MemoryFilesService {
    if (!this.memoryFiles)
      throw new RuntimeUnavailableError('unavailable', 'The workspace files are read when the memory opens; it has not opened yet.');
    return this.memoryFiles;
  }

  /** The instruction files shown in the system message (read-only). */
  get instructions(): InstructionFiles {
    return this.opened.instructions;
  }

  /** The citation tracker behind stale remembered items. */
  get citations(): MemoryFilesService['citations'] {
    return this.opened.citations;
  }

  /** Archival memory as the agent and searches see it: citations followed, stale items marked. */
  archival(store: ArchivalStore): ArchivalStore {
    return this.opened.archival(store);
  }

  async fileChanged(absPath: string): Promise<void> {
    await this.memoryFiles?.fileChanged(absPath);
    await this.index.reindexFile(absPath);
  }

  async fileRemoved(absPath: string): Promise<void> {
    await this.memoryFiles?.fileRemoved(absPath);
    await this.index.removeFile(absPath);
  }

  async fileRenamed(oldAbs: string, newAbs: string): Promise<void> {
    await this.memoryFiles?.fileRenamed(oldAbs, newAbs);
    await this.index.renameFile(oldAbs, newAbs);
  }

  instructionFiles(): InstructionFilesView {
    return this.opened.view();
  }

  onDidChangeInstructionFiles(listener: () => void): PortDisposable {
    return { dispose: this.instructions.onChange(listener) };
  }

  setActiveFile(relPath: string | undefined): Promise<void> {
    return this.opened.setActiveFile(relPath);
  }

  /** Trust granted or withdrawn: the instruction files are read again (or dropped). */
  async refresh(): Promise<void> {
    await this.memoryFiles?.refresh();
  }

  async close(): Promise<void> {
    await this.memoryFiles?.close();
  }
}
