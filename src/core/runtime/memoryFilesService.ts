/**
 * The parts of memory that follow files in the workspace: the project's instruction files
 * (read-only, shown in the system message) and the code that remembered items cite (marked stale
 * when it changes). The runtime hands it every file change it hears about (saves, changes on
 * disk, deletes, renames) and the file the user looks at; it does none of this work itself.
 */
import path from 'node:path';
import type { WorkspaceRoot } from '../index/discovery';
import type { ArchivalStore } from '../interfaces/archivalStore';
import { CITATION_MAX_FILE_BYTES } from '../limits';
import { CitedArchival } from '../memory/citedArchival';
import { InstructionFiles, type InstructionSnapshot } from '../memory/instructionFiles';
import { CitationTracker } from '../memory/staleness';
import { readWorkspaceText, relativeOf } from '../workspace/safeRead';

export interface MemoryFilesDeps {
  /** The workspace's storage folder: the citations file lives there. */
  storageDir: string;
  roots(): readonly WorkspaceRoot[];
  trusted(): boolean;
  readOnly: boolean;
  notice(message: string): void;
  log(message: string): void;
}

export const CITATIONS_FILE = 'citations.json';

export class MemoryFilesService {
  readonly instructions: InstructionFiles;
  private closed = false;
  private constructor(
    private readonly deps: MemoryFilesDeps,
    readonly citations: CitationTracker,
  ) {
    this.instructions = new InstructionFiles({ roots: deps.roots, trusted: deps.trusted });
  }

  static async open(deps: MemoryFilesDeps): Promise<MemoryFilesService> {
    const citations = await MemoryFilesService.openCitations(deps);
    const service = new MemoryFilesService(deps, citations);
    await service.instructions.refresh();
    // Files may have changed while no window was open: checked in the background, never blocking the start.
    service.citations.verifyAll().catch((error: unknown) => {
      if (!service.closed) deps.log(`Checking remembered items' citations failed: ${message(error)}`);
    });
    return service;
  }

  /** The record of which code remembered items cite, as saved (a search reads it without checking it again). */
  static openCitations(deps: Omit<MemoryFilesDeps, 'log'>): Promise<CitationTracker> {
    return CitationTracker.open({
      file: path.join(deps.storageDir, CITATIONS_FILE),
      readOnly: deps.readOnly,
      notice: deps.notice,
      // Cited code is read only where the agent may read it (a trusted workspace), by the same rules.
      read: async (rel) => {
        if (!deps.trusted()) return undefined;
        const r = await readWorkspaceText(deps.roots(), rel, CITATION_MAX_FILE_BYTES);
        if (r.ok) return r.truncated ? undefined : r.text.replace(/\r\n?/g, '\n').split('\n');
        return r.reason === 'missing' ? null : undefined;
      },
    });
  }

  /** Archival memory as the agent and searches see it: citations followed, stale items marked. */
  archival(inner: ArchivalStore): ArchivalStore {
    return new CitedArchival(inner, this.citations);
  }

  /** A file was saved, changed or created (absolute path). */
  async fileChanged(absPath: string): Promise<void> {
    if (this.closed) return;
    await this.instructions.fileChanged(absPath);
    const rel = relativeOf(this.deps.roots(), absPath);
    if (rel !== undefined) await this.citations.fileChanged(rel);
  }

  /** A file or folder was deleted: every followed file is checked (a folder takes its files with it). */
  async fileRemoved(absPath: string): Promise<void> {
    if (this.closed) return;
    await this.instructions.fileChanged(absPath);
    await this.citations.verifyAll();
  }

  async fileRenamed(oldAbs: string, newAbs: string): Promise<void> {
    if (this.closed) return;
    const roots = this.deps.roots();
    const from = relativeOf(roots, oldAbs);
    const to = relativeOf(roots, newAbs);
    if (from !== undefined && to !== undefined) await this.citations.renamed(from, to);
    await this.instructions.fileChanged(oldAbs);
    await this.instructions.fileChanged(newAbs);
  }

  /** The file the user looks at (workspace-relative), for nested AGENTS.md files. */
  setActiveFile(relPath: string | undefined): Promise<void> {
    return this.instructions.setActiveFile(relPath);
  }

  /** Trust granted or withdrawn, folders changed: instruction files are read again (or dropped). */
  async refresh(): Promise<void> {
    if (this.closed) return;
    await this.instructions.refresh();
    if (this.deps.trusted()) await this.citations.verifyAll();
  }

  /** Waits for the check under way and starts no other, so nothing is written after the storage closes. */
  close(): Promise<void> {
    this.closed = true;
    return this.citations.close();
  }

  view(): InstructionSnapshot {
    return this.instructions.view();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
