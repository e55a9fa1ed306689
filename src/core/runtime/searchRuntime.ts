/**
 * A workspace's memory opened for one search, as `memgpt search` needs it: the archival index
 * (read-only, with the shared index laid over it when one is configured), the agent states to know
 * whose remembered items are searched, and the citations that mark stale ones. The recall log, the
 * instruction files, the MCP servers and the agents themselves are never opened, and the chat
 * model is built only when a rerank asks for it. The index is opened by the same ArchivalService
 * as in the full runtime, so a search answers the same here and there.
 */
import { CitedArchival } from '../memory/citedArchival';
import { registerSecrets } from '../security/redact';
import { ArchivalService } from './archivalService';
import { MemoryFilesService } from './memoryFilesService';
import { searchArchivalOf } from './memoryService';
import { ModelResolver } from './modelResolver';
import { folderKeyUri } from './runtimeConfig';
import { RuntimeGuard } from './runtimeGuard';
import type { ArchivalSearchOptions, MemoryPort } from './runtimePort';
import type { WorkspaceRuntimeOptions } from './workspaceRuntime';
import { openSearchStorage } from './workspaceStorage';

export interface SearchRuntime {
  readonly memory: Pick<MemoryPort, 'searchArchival' | 'archivalCounts'>;
  /** Releases the index files. Idempotent. */
  close(): Promise<void>;
}

export type SearchRuntimeOptions = Pick<WorkspaceRuntimeOptions, 'storageRoot' | 'folders' | 'trusted' | 'config' | 'owner' | 'log'>;

export async function openSearchRuntime(options: SearchRuntimeOptions): Promise<SearchRuntime> {
  const { config, folders } = options;
  // Keys are masked in whatever this process logs, as in the full runtime.
  registerSecrets(config.apiKey);
  const log = options.log ?? (() => undefined);
  const storage = await openSearchStorage(
    options.storageRoot,
    folders.map((f) => folderKeyUri(f.path)),
    options.owner ?? 'editor window',
  );
  const citations = await MemoryFilesService.openCitations({
    storageDir: storage.dir,
    roots: () => folders,
    trusted: () => options.trusted,
    readOnly: true,
    notice: (m) => storage.notices.post(m, m),
  });
  const models = new ModelResolver(() => config, log);
  const index = new ArchivalService({
    storage,
    folders,
    editorExcludes: [],
    config: () => config,
    trusted: () => options.trusted,
    guard: new RuntimeGuard(storage),
    log,
    // Nothing rebuilds, replaces or changes the index in a search: it is read once and closed.
    rebuild: (work) => work(),
    settleTurns: () => Promise.resolve(),
    replaced: () => undefined,
    changed: () => undefined,
    cite: (store) => new CitedArchival(store, citations),
  });
  try {
    await index.open();
  } catch (error) {
    await citations.close();
    throw error;
  }
  // Damage found while opening is said, as the full runtime says it.
  for (const n of storage.notices.list()) log('warn', n);
  const stopNotices = storage.notices.onPost((n) => log('warn', n));
  if (storage.lockHolder !== null) log('warn', storage.readOnlyReason ?? 'The memory of this workspace is read-only in this window.');
  const rerank = { enabled: () => config.rerank === true, model: () => models.chatModel(), log };
  let closing: Promise<void> | null = null;
  return {
    memory: {
      searchArchival: (query: string, searchOptions: ArchivalSearchOptions) =>
        searchArchivalOf({ agents: storage.agents, archival: index, rerank }, query, searchOptions),
      archivalCounts: (agentId?: string) => index.counts(agentId),
    },
    close() {
      closing ??= (async () => {
        stopNotices();
        await index.close();
        await index.dispose();
        await citations.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
