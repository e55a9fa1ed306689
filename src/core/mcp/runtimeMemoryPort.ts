/**
 * The memory tools over one open WorkspaceRuntime. Reading goes straight to the stores, never
 * through `listAgents()` or `agent()`: those create a first agent when there is none, and a read
 * tool must write nothing.
 */
import type { WorkspaceRuntimePort } from '../runtime/runtimePort';
import { MemoryToolError, type MemoryToolsPort } from './memoryTools';

export function runtimeMemoryPort(runtime: WorkspaceRuntimePort): MemoryToolsPort {
  return {
    searchArchival: (query, options) => runtime.memory.searchArchival(query, options),
    findSymbol: async (name) => runtime.index.symbols.find(name),
    async searchConversation(query, page, pageSize) {
      const agentId = await runtime.storage.agents.activeAgentId();
      if (!agentId) return null;
      return runtime.storage.recall.search(agentId, query, page, pageSize);
    },
    async coreMemory() {
      const agentId = await runtime.storage.agents.activeAgentId();
      if (!agentId) return null;
      const list = await runtime.storage.agents.list();
      const name = list.agents.find((a) => a.id === agentId)?.name ?? agentId;
      return { agent: { id: agentId, name }, blocks: await runtime.memory.coreMemory(agentId) };
    },
    async rememberNote(text) {
      if (runtime.readOnly) {
        const reason = runtime.storage.readOnlyReason ?? 'another process holds this workspace’s memory.';
        throw new MemoryToolError(
          'read_only',
          `Cannot remember this note: the memory is open read-only here (${reason.replace(/\.$/, '')}). Remember it from the window that holds the memory (MemGPT chat), or try again once it is closed; searching and reading work meanwhile.`,
        );
      }
      return runtime.memory.remember(text);
    },
  };
}
