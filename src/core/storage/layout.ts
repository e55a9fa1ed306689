import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Migration } from './schemaVersion';

/**
 * Where each kind of memory lives inside one workspace's storage folder.
 * Everything that opens a part of the folder takes its path from here.
 */
export interface StorageLayout {
  root: string;
  /** Agent states (`<id>.json`) and the active agent pointer. */
  agentsDir: string;
  /** The recall log. */
  recallDir: string;
  /** The archival Vectra index and the workspace-index catalog. */
  archivalDir: string;
  /** Core-memory blocks shared by the workspace's agents (`project`); created on the first write. */
  blocksFile: string;
  /** Checkpoints of the agent's file changes (a shadow store, never the user's git); created on first use. */
  checkpointsDir: string;
}

export function storageLayout(root: string): StorageLayout {
  return {
    root,
    agentsDir: path.join(root, 'agents'),
    recallDir: path.join(root, 'recall'),
    archivalDir: path.join(root, 'archival'),
    checkpointsDir: path.join(root, 'checkpoints'),
    blocksFile: path.join(root, 'blocks.json'),
  };
}

/** The user's core-memory blocks (`human`), shared by every workspace under one state folder. */
export function userBlocksFile(stateRoot: string): string {
  return path.join(stateRoot, 'user', 'blocks.json');
}

/** Ordered storage migrations; the last one's version is the current storage schema. */
export const STORAGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'initial layout: agents/, recall/, archival/',
    async up(dir) {
      const l = storageLayout(dir);
      for (const d of [l.agentsDir, l.recallDir, l.archivalDir]) await fsp.mkdir(d, { recursive: true });
    },
  },
];
