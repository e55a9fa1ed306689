import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MemgptError } from '../base/errors';
import { parseBlocks, type BlockScope, type CoreMemoryBlock } from './coreMemory';
import { SHARED_MEMORY_LOCK_STALE_MS, SHARED_MEMORY_LOCK_TIMEOUT_MS } from '../limits';
import { atomicWriteJson, CorruptFileError, readJsonFile, UnreadableFileError, UnsupportedFileError } from '../storage/atomicFile';
import { withFileLock } from '../storage/fileMutex';

/**
 * The core-memory blocks of one shared scope, in one JSON file: the user's (under the state
 * folder, read and written by every workspace's window and command line) or the workspace's
 * (beside its agents). Every change is a read-change-write under a lock file, on the newest
 * content: two windows appending at once both keep their line. Each write bumps `revision`,
 * and a reader notices a change by the file's identity (rename gives a new one).
 */

export const SHARED_BLOCKS_FORMAT = 'memgpt-memory-blocks';
export const SHARED_BLOCKS_VERSION = 1;

export interface SharedBlocks {
  revision: number;
  /** ISO time of the last change ('' when the file does not exist yet). */
  lastModified: string;
  blocks: CoreMemoryBlock[];
}

interface SharedBlocksFileJSON extends SharedBlocks {
  format: typeof SHARED_BLOCKS_FORMAT;
  version: number;
}

export class SharedBlocksTooNewError extends UnsupportedFileError {
  constructor(file: string, found: number) {
    super(
      `${file} was written by a newer version of MemGPT (format ${found}; this version reads ${SHARED_BLOCKS_VERSION}). Update the extension; the file was left unchanged.`,
    );
  }
}

export class ReadOnlySharedBlocksError extends MemgptError {
  constructor(scope: BlockScope) {
    super(
      'read_only',
      `The ${scope} memory cannot be changed in this window: another window holds this workspace's memory. Make the change there.`,
    );
  }
}

const EMPTY: SharedBlocks = { revision: 0, lastModified: '', blocks: [] };

export class SharedBlockFile {
  constructor(
    readonly file: string,
    readonly scope: Exclude<BlockScope, 'agent'>,
    private readonly options: { readOnly?: boolean; notice?: (message: string) => void } = {},
  ) {}

  get readOnly(): boolean {
    return this.options.readOnly === true;
  }

  /** What changes whenever the file is replaced or written; '' when it does not exist. */
  async stamp(): Promise<string> {
    const s = await fsp.stat(this.file).catch(() => null);
    return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '';
  }

  /**
   * The newest content. A damaged file is kept aside (the blocks start empty, the user is told);
   * one this window may not move, or one written by a newer version, is left alone and shown as
   * empty here (`strict`: thrown, so an edit never writes over it).
   */
  async read(strict = false): Promise<SharedBlocks> {
    try {
      return (await readJsonFile(this.file, (v) => this.validate(v), { readOnly: this.readOnly })) ?? { ...EMPTY, blocks: [] };
    } catch (err) {
      if (!strict && (err instanceof UnsupportedFileError || (err instanceof UnreadableFileError && !(err instanceof CorruptFileError)))) {
        this.options.notice?.(`The ${this.scope} memory is not shown: ${err.message}`);
        return { ...EMPTY, blocks: [] };
      }
      if (!(err instanceof CorruptFileError)) throw err;
      this.options.notice?.(
        `The ${this.scope} memory file ${path.basename(this.file)} was unreadable (${err.reason}); it was kept aside as ${path.basename(err.keptAs)} and the ${this.scope} blocks start empty. ` +
          'Copy what you need from the kept file by hand.',
      );
      return { ...EMPTY, blocks: [] };
    }
  }

  /**
   * Changes the newest content under the lock. `change` edits the blocks in place or throws to
   * change nothing; returning false means "nothing to write".
   */
  async update(change: (blocks: CoreMemoryBlock[]) => boolean | void): Promise<SharedBlocks> {
    if (this.readOnly) throw new ReadOnlySharedBlocksError(this.scope);
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    return withFileLock(
      `${this.file}.lock`,
      async () => {
        const current = await this.read(true);
        const blocks = current.blocks.map((b) => ({ ...b }));
        if (change(blocks) === false) return current;
        const next: SharedBlocksFileJSON = {
          format: SHARED_BLOCKS_FORMAT,
          version: SHARED_BLOCKS_VERSION,
          revision: current.revision + 1,
          lastModified: new Date().toISOString(),
          blocks: blocks.map((b) => ({ ...b, scope: this.scope })),
        };
        await atomicWriteJson(this.file, next);
        return { revision: next.revision, lastModified: next.lastModified, blocks: next.blocks };
      },
      { timeoutMs: SHARED_MEMORY_LOCK_TIMEOUT_MS, staleMs: SHARED_MEMORY_LOCK_STALE_MS },
    );
  }

  private validate(value: unknown): SharedBlocks {
    const o = value as Partial<SharedBlocksFileJSON> | null;
    if (!o || typeof o !== 'object' || o.format !== SHARED_BLOCKS_FORMAT)
      throw new Error(`not a MemGPT memory-blocks file (expected "format": "${SHARED_BLOCKS_FORMAT}")`);
    if (typeof o.version !== 'number' || o.version < 1) throw new Error('"version" must be a positive number');
    if (o.version > SHARED_BLOCKS_VERSION) throw new SharedBlocksTooNewError(this.file, o.version);
    if (!Array.isArray(o.blocks)) throw new Error('"blocks" must be an array');
    const blocks = parseBlocks(o.blocks, path.basename(this.file)).map((b) => ({ ...b, scope: this.scope }));
    return {
      revision: typeof o.revision === 'number' && Number.isInteger(o.revision) ? o.revision : 0,
      lastModified: typeof o.lastModified === 'string' ? o.lastModified : '',
      blocks,
    };
  }
}
