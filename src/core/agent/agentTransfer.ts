import type { ArchivalStore } from '../interfaces/archivalStore';
import type { RecallRecord, RecallStore } from '../interfaces/recallStore';
import { CoreMemory } from '../memory/coreMemory';
import { combinedView, type MemoryScopes } from '../memory/memoryScopes';
import type { AgentExport, AgentStateStore } from './agentStateStore';
import type { AgentState } from './agentState';

/**
 * Moving an agent between workspaces or machines: the export carries its state, its whole recall,
 * what it remembered (archival memory) and every block it sees with its scope; the import puts
 * each part back where it belongs in the target state folder.
 */

export interface TransferParts {
  states: AgentStateStore;
  recall: Pick<RecallStore, 'append'> & { records(agentId: string): RecallRecord[] };
  archival: Pick<ArchivalStore, 'memoriesOf' | 'importMemories'>;
  scopes?: MemoryScopes;
}

export async function exportAgentWithMemory(id: string, parts: TransferParts): Promise<AgentExport> {
  const state = await parts.states.load(id);
  const view = parts.scopes ? await combinedView(state.coreMemory, parts.scopes) : CoreMemory.fromJSON(state.coreMemory);
  return parts.states.exportAgent(id, parts.recall, { memories: parts.archival.memoriesOf?.(id) ?? [], blocks: view.allBlocks() });
}

/** Throws, changing nothing, when the file is not a valid export (AgentStateStore.importAgent checks it whole first). */
export function importAgentWithMemory(data: unknown, parts: TransferParts): Promise<AgentState> {
  return parts.states.importAgent(data, parts.recall, { archival: parts.archival, ...(parts.scopes ? { scopes: parts.scopes } : {}) });
}
