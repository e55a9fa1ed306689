/**
 * VS Code → WorkspaceRuntime: the parsed `memgpt.*` settings and the API key become a
 * RuntimeConfig, the window's folders become runtime folders, and `files.exclude` /
 * `search.exclude` become extra index excludes (what the user hid in the editor stays unindexed).
 */
import * as vscode from 'vscode';
import { resolveLocalModelPath } from '../core/embed/modelDownload';
import type { RuntimeConfig, RuntimeFolder } from '../core/runtime/runtimeConfig';
import { runtimeConfigFromSettings, type MemGptSettings } from '../core/runtime/settingsSchema';

/** `storageRoot`: the extension's global storage, where a downloaded embedding model is found. */
export function runtimeConfig(
  settings: MemGptSettings,
  apiKey: string | undefined,
  sharedStoreConnection?: string,
  storageRoot?: string,
): RuntimeConfig {
  const localModelPath =
    storageRoot !== undefined ? resolveLocalModelPath(settings.embeddings.localModelPath, storageRoot) : settings.embeddings.localModelPath;
  return runtimeConfigFromSettings(settings, {
    ...(apiKey ? { apiKey } : {}),
    ...(sharedStoreConnection ? { sharedStoreConnection } : {}),
    localModelPath: localModelPath ?? '',
  });
}

/** Local (file-scheme) folders only: virtual workspaces are declared unsupported. */
export function runtimeFolders(): RuntimeFolder[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => ({ name: f.name, path: f.uri.fsPath }));
}

/** Globs whose value is `true` in `files.exclude` and `search.exclude` (conditional `when` entries are kept out). */
export function editorExcludeGlobs(): string[] {
  const globs = new Set<string>();
  for (const section of ['files', 'search'] as const) {
    const value = vscode.workspace.getConfiguration(section).get<Record<string, unknown>>('exclude') ?? {};
    for (const [glob, on] of Object.entries(value)) if (on === true) globs.add(glob);
  }
  return [...globs];
}
