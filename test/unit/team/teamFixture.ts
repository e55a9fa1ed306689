/**
 * The set-up every shared-store test file repeats: its own PGlite server for the file (started
 * once, stopped after its last test), temporary folders removed at the end, a workspace written
 * to disk, indexed locally as CI does, and published.
 */
import { after, before } from 'node:test';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { archivalPublishSource } from '../../../src/core/team/archivalSource';
import { connectTeamStore, parseConnection, type TeamConnection } from '../../../src/core/team/connection';
import { publishIndex, type PublishResult } from '../../../src/core/team/publisher';
import { startPgliteServer, type TestServer } from './pgliteServer';

export interface TeamFixture {
  /** The file's server (available once its `before` hook ran). */
  readonly server: TestServer;
  readonly connection: TeamConnection;
  /** A new temporary folder, removed after the file's last test. */
  tmp(prefix: string): string;
  /** Writes `tree` (relative path → text) under `root`. */
  writeTree(root: string, tree: Record<string, string>): void;
  /** `tree` written to a new temporary folder; returns it. */
  writeWorkspace(tree: Record<string, string>, prefix?: string): string;
  /** A local index of the folder, built as CI builds it (local embedder). */
  indexWorkspace(root: string): Promise<ArchivalIndex>;
  /** Runs `fn` with a connection of its own, closed afterwards. */
  withClient<T>(fn: (c: Client) => Promise<T>): Promise<T>;
  /** Publishes a local index as the commit of a repository, as `memgpt index --publish` does. */
  publish(repoId: string, commit: string, archival: ArchivalIndex): Promise<PublishResult>;
}

/** Registers the file's `before` / `after` hooks and returns the helpers bound to its server. */
export function useTeamServer(): TeamFixture {
  let server: TestServer | undefined;
  const tmpDirs: string[] = [];
  before(async () => {
    server = await startPgliteServer();
  });
  after(async () => {
    // A test may have stopped the server itself (to show the fallback).
    await server?.stop().catch(() => undefined);
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  });
  const started = (): TestServer => {
    if (!server) throw new Error('the PGlite server is not started yet: use the fixture inside a test');
    return server;
  };
  const tmp = (prefix: string): string => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    tmpDirs.push(d);
    return d;
  };
  const writeTree = (root: string, tree: Record<string, string>): void => {
    for (const [rel, text] of Object.entries(tree)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
  };
  const fixture: TeamFixture = {
    get server() {
      return started();
    },
    get connection() {
      return parseConnection(started().url);
    },
    tmp,
    writeTree,
    writeWorkspace(tree, prefix = 'team-ws-') {
      const root = tmp(prefix);
      writeTree(root, tree);
      return root;
    },
    async indexWorkspace(root) {
      const archival = await ArchivalIndex.open({ dir: tmp('team-idx-'), embedder: new LocalHashEmbedder() });
      await new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival }).indexAll();
      return archival;
    },
    async withClient(fn) {
      const c = await connectTeamStore(fixture.connection);
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    },
    publish(repoId, commit, archival) {
      return fixture.withClient((c) => publishIndex(c, fixture.connection, { repoId, commit, source: archivalPublishSource(archival) }));
    },
  };
  return fixture;
}
