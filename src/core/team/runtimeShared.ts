/**
 * How a workspace runtime (the extension's or the CLI's) reads the shared index: only when the
 * configuration names a repository (`memgpt.index.sharedStore`, MEMGPT_SHARED_STORE) and a
 * connection string is at hand (SecretStorage, MEMGPT_POSTGRES_URL). The overlay connects in
 * the background and searches fall back to the local index until (and whenever) it cannot.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchivalIndex } from '../index/archivalIndex';
import type { FilesLeftToShared } from '../interfaces/publishedFiles';
import { OverlayArchivalStore } from './overlayStore';
import { gitHead, resolveRepoId } from './repoIdentity';
import { TeamStoreError } from './teamError';

export interface SharedStoreConfig {
  /** 'auto': the id from the git remote "origin"; anything else: the repository id itself. */
  repository: string;
  /** Never from a setting in clear: SecretStorage or the environment. */
  connectionString?: string;
}

export function openSharedOverlay(options: {
  config: SharedStoreConfig | undefined;
  /** The workspace folders; the shared index serves a single-folder workspace (its git checkout names the repository and the commit). */
  folders: readonly string[];
  local: ArchivalIndex;
  notice: (message: string) => void;
  log: (message: string) => void;
  /** The files the local indexer left to the shared index (see OverlayOptions.covered). */
  covered?: FilesLeftToShared;
}): OverlayArchivalStore | null {
  const { config, local } = options;
  if (!config || config.repository.trim() === '') return null;
  const folder = options.folders[0];
  if (!folder) return null;
  if (options.folders.length > 1) {
    // Paths of a multi-root workspace start with the folder's name; a publish is of one repository.
    options.notice(
      'Shared index not used: it serves single-folder workspaces (this window has several folders). Searching the local index.',
    );
    return null;
  }
  const overlay = new OverlayArchivalStore({
    local,
    notice: options.notice,
    log: options.log,
    ...(options.covered ? { covered: options.covered } : {}),
    exists: (rel) =>
      fs.stat(path.join(folder, ...rel.split('/'))).then(
        (st) => st.isFile(),
        () => false,
      ),
    openShared: async () => {
      if (!config.connectionString) {
        throw new TeamStoreError(
          'no_connection',
          'memgpt.index.sharedStore is on but no connection string is stored. Run "MemGPT: Set Shared Index Connection" (kept in SecretStorage) or set MEMGPT_POSTGRES_URL.',
        );
      }
      // pg is loaded only by windows that use the shared store.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { parseConnection } = require('./connection') as typeof import('./connection');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PgArchivalStore } = require('./pgArchivalStore') as typeof import('./pgArchivalStore');
      const connection = parseConnection(config.connectionString);
      const repoId = await resolveRepoId(config.repository, folder);
      const commit = await gitHead(folder).catch(() => undefined);
      return PgArchivalStore.open({ connection, repoId, embedder: local.embedder, ...(commit ? { commit } : {}) });
    },
  });
  overlay.warm();
  return overlay;
}
