import type {
  ArchivalSearchOptions,
  ArchivalSearchResult,
  ArchivalSource,
  ArchivalStore,
  RememberedItem,
} from '../interfaces/archivalStore';

/**
 * Archival memory as one agent sees it: the workspace's indexed code, and of the remembered items
 * only those this agent stored. What it remembers is stored as its own. A new agent is therefore
 * told about, and finds, nothing another agent chose to remember.
 */
export function agentArchival(store: ArchivalStore, agentId: string): ArchivalStore {
  return {
    insertMemory: (text, provenance) => store.insertMemory(text, { ...provenance, agentId }),
    search: (query: string, options: ArchivalSearchOptions = {}): Promise<ArchivalSearchResult> =>
      store.search(query, { ...options, agentId }),
    count: (source?: ArchivalSource) => store.count(source, agentId),
    memoriesOf: (id: string): RememberedItem[] => store.memoriesOf?.(id) ?? [],
    // The store belongs to the workspace: one agent's view never closes it.
    close: () => Promise.resolve(),
    ...(store.symbols ? { symbols: store.symbols } : {}),
    ...(store.insertNotice ? { insertNotice: (id: string) => store.insertNotice?.(id) } : {}),
  };
}
