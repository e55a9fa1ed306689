/**
 * Reads one workspace file as text for the memory itself (instruction files, checking a cited
 * range), never for the model directly. The same hard rules as read_file: secret-looking names
 * and version-control folders are refused, a path (or a link's target) must stay inside its
 * folder, hard-linked files are refused (one of their names may be outside), binaries and
 * folders are refused, and at most `maxBytes` are read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isSecretPath, statExclusion, type WorkspaceRoot } from '../index/discovery';
import { BINARY_SNIFF_BYTES } from '../limits';

export type SafeReadResult =
  { ok: true; text: string; truncated: boolean; abs: string; size: number } | { ok: false; reason: 'missing' | 'refused'; detail: string };

const VCS = new Set(['.git', '.hg', '.svn', '.bzr', '_darcs']);

/** The root and in-root segments of a workspace-relative path (multi-root: first segment names the folder). */
export function locateRelative(roots: readonly WorkspaceRoot[], relPath: string): { root: WorkspaceRoot; segments: string[] } | undefined {
  const clean = relPath
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (clean.some((s) => s === '..')) return undefined;
  if (roots.length === 1) return { root: roots[0]!, segments: clean };
  const root = roots.find((r) => r.name === clean[0]);
  return root ? { root, segments: clean.slice(1) } : undefined;
}

/** The workspace-relative path (forward slashes; multi-root: folder-prefixed) of an absolute one. */
export function relativeOf(roots: readonly WorkspaceRoot[], absPath: string): string | undefined {
  const resolved = path.resolve(absPath);
  for (const root of roots) {
    const rel = path.relative(path.resolve(root.path), resolved);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const posix = rel.split(path.sep).join('/');
    return roots.length > 1 ? `${root.name}/${posix}` : posix;
  }
  return undefined;
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export async function readWorkspaceText(roots: readonly WorkspaceRoot[], relPath: string, maxBytes: number): Promise<SafeReadResult> {
  const located = locateRelative(roots, relPath);
  if (!located || located.segments.length === 0) return { ok: false, reason: 'refused', detail: 'not a file inside the workspace' };
  const { root, segments } = located;
  if (isSecretPath(segments.join('/')) || segments.some((s) => VCS.has(s.toLowerCase()))) {
    return { ok: false, reason: 'refused', detail: 'a secret or version-control file' };
  }
  const lexical = path.join(root.path, ...segments);
  let real: string;
  let rootReal: string;
  try {
    rootReal = await fs.realpath(root.path);
    real = await fs.realpath(lexical);
  } catch {
    return { ok: false, reason: 'missing', detail: 'no such file' };
  }
  if (!inside(rootReal, real)) return { ok: false, reason: 'refused', detail: 'it leads outside the workspace' };
  const realRel = path.relative(rootReal, real);
  if (isSecretPath(realRel) || realRel.split(path.sep).some((s) => VCS.has(s.toLowerCase()))) {
    return { ok: false, reason: 'refused', detail: 'it leads to a secret or version-control file' };
  }
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(real, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'refused', detail: 'not a regular file' };
    if (statExclusion(stat)) return { ok: false, reason: 'refused', detail: 'a hard-linked file' };
    const want = Math.min(stat.size, maxBytes);
    const buffer = Buffer.alloc(want);
    let read = 0;
    while (read < want) {
      const { bytesRead } = await handle.read(buffer, read, want - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const bytes = buffer.subarray(0, read);
    if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { ok: false, reason: 'refused', detail: 'a binary file' };
    // A cut in the middle of a multi-byte character decodes to U+FFFD at the end: dropped.
    const text = bytes.toString('utf8').replace(/\uFFFD$/, '');
    return { ok: true, text, truncated: stat.size > read, abs: real, size: stat.size };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? { ok: false, reason: 'missing', detail: 'no such file' }
      : { ok: false, reason: 'refused', detail: (error as Error).message };
  } finally {
    await handle?.close();
  }
}
