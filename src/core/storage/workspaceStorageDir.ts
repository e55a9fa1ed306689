import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { atomicWriteJson } from './atomicFile';
import { WORKSPACE_KEY_HEX_CHARS } from '../limits';

/**
 * One storage folder per workspace, under the extension's global storage:
 * `<root>/workspaces/<key>`. The key is a hash of the sorted folder URIs, so
 * reopening the same set of folders (in any order) finds the same memory, and
 * a `workspace.json` inside names the folders for a human browsing the disk.
 */

/** Key of the storage folder for a window that has no workspace folder open. */
export const NO_FOLDER = 'no-folder';

export function workspaceStorageKey(folderUris: readonly string[]): string {
  if (folderUris.length === 0) return NO_FOLDER;
  const sorted = [...new Set(folderUris)].sort();
  return createHash('sha256').update(sorted.join('\n'), 'utf8').digest('hex').slice(0, WORKSPACE_KEY_HEX_CHARS);
}

export interface WorkspaceDescription {
  key: string;
  folders: string[];
  createdAt: string;
}

/** Creates (if needed) and returns the storage folder of this set of workspace folders. */
export async function workspaceStorageDir(globalRoot: string, folderUris: readonly string[]): Promise<string> {
  const key = workspaceStorageKey(folderUris);
  const dir = path.join(globalRoot, 'workspaces', key);
  await fsp.mkdir(dir, { recursive: true });
  const descriptionFile = path.join(dir, 'workspace.json');
  const folders = [...new Set(folderUris)].sort();
  let existing: Partial<WorkspaceDescription> | undefined;
  try {
    existing = JSON.parse(await fsp.readFile(descriptionFile, 'utf8')) as Partial<WorkspaceDescription>;
  } catch {
    existing = undefined;
  }
  const same = Array.isArray(existing?.folders) && JSON.stringify(existing.folders) === JSON.stringify(folders);
  if (!same) {
    const description: WorkspaceDescription = {
      key,
      folders,
      createdAt: typeof existing?.createdAt === 'string' ? existing.createdAt : new Date().toISOString(),
    };
    await atomicWriteJson(descriptionFile, description);
  }
  return dir;
}
