import { promises as fs } from 'node:fs';
import type { WorkspaceRoot } from '../index/discovery';
import { BINARY_SNIFF_BYTES, EDIT_MAX_FILE_BYTES } from '../limits';
import { atomicWriteFile } from '../storage/atomicFile';
import { ActingError } from './actingError';
import type { WriteRequest } from './actingArguments';
import type { CheckpointStore } from './checkpointStore';
import { confineFile } from './confinement';
import { applyEdit, type EditRequest } from './editEngine';
import { unifiedDiff } from './lineDiff';

/**
 * edit_file and write_file on disk, in two steps with the user's approval between them:
 * prepare (confine the path, read the file, compute the new text and the diff the card shows,
 * write nothing) and apply (only if the file is still what the diff was made from, after the
 * turn's checkpoint, atomically, keeping its permission bits). The wait for approval can be long;
 * if the user or a formatter changed the file meanwhile, applying the old plan would silently undo
 * their work, so a stale plan is refused and the model is asked to prepare it again.
 *
 * In VS Code the adapter applies through WorkspaceEdit instead (Undo, unsaved buffers) and can use
 * `before` for the same staleness check against the document; the CLI uses applyChange.
 */

/** `refused`: the editor would not apply the change (a read-only file system, a document it cannot edit). */
export type FileChangeErrorCode = 'missing' | 'binary' | 'not-utf8' | 'too-large' | 'stale' | 'refused';

export class FileChangeError extends ActingError<FileChangeErrorCode> {
  constructor(code: FileChangeErrorCode, message: string) {
    super(code, message);
    this.name = 'FileChangeError';
  }
}

export interface PreparedChange {
  kind: 'edit' | 'write';
  /** Workspace path (display form). */
  path: string;
  /** Real path checked by confinement. */
  abs: string;
  existed: boolean;
  /** The text the diff was made from; undefined for a new file. */
  before: string | undefined;
  after: string;
  diff: string;
  added: number;
  removed: number;
  /** edit_file only: how many occurrences were replaced. */
  replacements: number;
  /** 1-based first changed line (1 for a new file). */
  firstLine: number;
}

/**
 * The text of a file as the user sees it when that differs from the disk: an editor buffer with
 * unsaved changes (VS Code). The change is then prepared from, and applied to, that text.
 */
export type OpenText = (abs: string) => string | undefined;

export async function prepareEdit(roots: readonly WorkspaceRoot[], request: EditRequest, openText?: OpenText): Promise<PreparedChange> {
  const file = await confineFile(roots, request.path);
  if (!file.exists) {
    throw new FileChangeError(
      'missing',
      `${file.display} does not exist. Use write_file to create it, or list_files to find the right path.`,
    );
  }
  const before = openText?.(file.abs) ?? (await readText(file.abs, file.display));
  const out = applyEdit(before, { ...request, path: file.display });
  return {
    kind: 'edit',
    path: file.display,
    abs: file.abs,
    existed: true,
    before,
    after: out.text,
    diff: out.diff,
    added: out.added,
    removed: out.removed,
    replacements: out.replacements,
    firstLine: out.firstLine,
  };
}

export async function prepareWrite(roots: readonly WorkspaceRoot[], request: WriteRequest, openText?: OpenText): Promise<PreparedChange> {
  if (Buffer.byteLength(request.content, 'utf8') > EDIT_MAX_FILE_BYTES) {
    throw new FileChangeError(
      'too-large',
      `The content is larger than ${EDIT_MAX_FILE_BYTES} bytes; write_file does not write files that large.`,
    );
  }
  const file = await confineFile(roots, request.path);
  const before = file.exists ? (openText?.(file.abs) ?? (await readText(file.abs, file.display))) : undefined;
  const d = unifiedDiff(file.display, before, request.content);
  const firstLine = /^@@ -\d+(?:,\d+)? \+(\d+)/m.exec(d.text)?.[1];
  return {
    kind: 'write',
    path: file.display,
    abs: file.abs,
    existed: file.exists,
    before,
    after: request.content,
    diff: d.text,
    added: d.added,
    removed: d.removed,
    replacements: 0,
    firstLine: Math.max(1, Number(firstLine ?? 1)),
  };
}

/**
 * Writes a prepared change: confines the path again (it must still resolve to the same file),
 * refuses if the file changed since prepare, records the turn's checkpoint, then writes.
 */
export async function applyChange(
  roots: readonly WorkspaceRoot[],
  change: PreparedChange,
  checkpoint?: { store: CheckpointStore; turnId: string },
): Promise<void> {
  const file = await confineFile(roots, change.path);
  const now = file.exists ? await readText(file.abs, file.display) : undefined;
  if (file.abs !== change.abs || now !== change.before) {
    const what = now === undefined ? 'was deleted' : change.before === undefined ? 'was created by someone else' : 'was changed';
    throw new FileChangeError(
      'stale',
      `${change.path} ${what} after the change was proposed, so it was not applied (it would undo that). Read the file again and propose the change anew.`,
    );
  }
  if (checkpoint) await checkpoint.store.snapshot(checkpoint.turnId, [{ path: change.path, abs: file.abs }]);
  const mode = file.exists ? (await fs.stat(file.abs)).mode & 0o7777 : undefined;
  await atomicWriteFile(file.abs, change.after);
  // The atomic rename makes a new file: give it the old one's permission bits (an executable stays executable).
  if (mode !== undefined) await fs.chmod(file.abs, mode);
}

async function readText(abs: string, display: string): Promise<string> {
  const st = await fs.stat(abs);
  if (st.size > EDIT_MAX_FILE_BYTES)
    throw new FileChangeError(
      'too-large',
      `${display} is ${st.size} bytes; files over ${EDIT_MAX_FILE_BYTES} bytes are not changed by the agent.`,
    );
  const bytes = await fs.readFile(abs);
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0))
    throw new FileChangeError('binary', `${display} is a binary file; edit_file and write_file change text files only.`);
  const text = bytes.toString('utf8');
  // Writing back a file that is not UTF-8 would replace its bytes with U+FFFD: refuse rather than corrupt it.
  if (!Buffer.from(text, 'utf8').equals(bytes))
    throw new FileChangeError('not-utf8', `${display} is not UTF-8 text (another encoding); it is not changed, to avoid corrupting it.`);
  return text;
}
