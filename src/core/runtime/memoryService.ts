import type { AgentStateStore } from '../agent/agentStateStore';
import type { AgentEvent } from '../agent/events';
import type { Emitter } from '../base/emitter';
import { errorMessage } from '../base/errors';
import type { ArchivalHit } from '../interfaces/archivalStore';
import type { ChatModel } from '../interfaces/chatModel';
import { rerank } from '../index/rerank';
import { RERANK_CANDIDATES } from '../limits';
import type { RecallRecord } from '../interfaces/recallStore';
import type { SymbolDefinition } from '../interfaces/symbols';
import type { CoreMemory } from '../memory/coreMemory';
import { combinedView } from '../memory/memoryScopes';
import type { AgentHost } from './agentHost';
import type { ArchivalService } from './archivalService';
import type { RuntimeGuard } from './runtimeGuard';
import type { ArchivalSearchOptions, CoreMemoryBlockView, MemoryPort, MemoryStats } from './runtimePort';
import type { RuntimeLog } from './runtimeLog';
import type { WorkspaceStorage } from './workspaceStorage';

export interface MemoryServiceOptions {
  storage: WorkspaceStorage;
  guard: RuntimeGuard;
  host: AgentHost;
  archival: ArchivalService;
  agentEvents: Emitter<AgentEvent>;
  coreMemoryOptions: () => { limits?: { block: number; project: number } };
  rebuildsSettled: () => Promise<void>;
  /** Whether searches are reranked by the chat model now (the setting), the model to ask, and where a skipped rerank is noted. */
  rerank?: { enabled: () => boolean; model: () => Promise<ChatModel>; log: RuntimeLog };
}

/** What a search of archival memory reads: which agent is active, the index, and the model for a rerank. */
export interface ArchivalSearchDeps {
  agents: Pick<AgentStateStore, 'activeAgentId'>;
  archival: Pick<ArchivalService, 'search'>;
  rerank?: MemoryServiceOptions['rerank'];
}

/**
 * Archival search as the active agent sees it (its remembered items and the workspace's code),
 * reranked by the chat model when the setting asks; shared by the full runtime and the
 * search-only open of the command line, so both answer alike.
 */
export async function searchArchivalOf(deps: ArchivalSearchDeps, query: string, options: ArchivalSearchOptions): Promise<ArchivalHit[]> {
  const agentId = await deps.agents.activeAgentId().catch(() => null);
  const reranking = deps.rerank;
  if (!reranking?.enabled()) return deps.archival.search(query, options, agentId ?? undefined);
  // More candidates than asked for, so the model can lift a good one from below the cut.
  const limit = Math.max(options.limit, RERANK_CANDIDATES);
  const hits = await deps.archival.search(query, { ...options, limit }, agentId ?? undefined);
  let model: ChatModel;
  try {
    model = await reranking.model();
  } catch (error) {
    reranking.log('warn', `Search results are in the search's own order: no chat model to rerank them (${errorMessage(error)}).`);
    return hits.slice(0, options.limit);
  }
  const outcome = await rerank(query, hits, { model, ...(options.signal ? { signal: options.signal } : {}) });
  if (!outcome.reranked) reranking.log('info', `Search results are in the search's own order: the rerank was skipped (${outcome.detail}).`);
  return outcome.order.slice(0, options.limit).map((i) => hits[i]!);
}

/** The three memories read and written from outside a turn: the memory view, commands, the CLI. */
export class MemoryService implements MemoryPort {
  constructor(private readonly options: MemoryServiceOptions) {}

  async remember(text: string, provenance?: { path: string; startLine: number; endLine: number }): Promise<string> {
    this.options.guard.assertWritable('remember anything');
    // The active agent's item, as if it had stored it itself.
    const agentId = (await this.options.storage.agents.activeAgentId()) ?? undefined;
    return this.options.archival.remember(text, provenance, agentId);
  }

  async searchMemory(
    query: string,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<{ recall: RecallRecord[]; archival: ArchivalHit[] }> {
    const { storage } = this.options;
    const agentId = await storage.agents.activeAgentId();
    const recall = agentId ? storage.recall.search(agentId, query, 0, options.limit).records : [];
    const archival = await this.searchArchival(query, options);
    return { recall, archival };
  }

  /** Remembered items are the active agent's, as its own search sees them. */
  searchArchival(query: string, options: ArchivalSearchOptions): Promise<ArchivalHit[]> {
    return searchArchivalOf(
      {
        agents: this.options.storage.agents,
        archival: this.options.archival,
        ...(this.options.rerank ? { rerank: this.options.rerank } : {}),
      },
      query,
      options,
    );
  }

  matchSymbols(text: string, limit: number): SymbolDefinition[] {
    return this.options.archival.matchSymbols(text, limit);
  }

  async coreMemory(agentId?: string): Promise<CoreMemoryBlockView[]> {
    const core = await this.coreMemoryOf(agentId);
    return core.allBlocks().map((b) => ({
      label: b.label,
      value: b.value,
      limit: b.limit,
      scope: b.scope ?? 'agent',
      ...(b.description ? { description: b.description } : {}),
    }));
  }

  async setCoreMemoryBlock(label: string, value: string): Promise<void> {
    this.options.guard.assertWritable('change core memory');
    await this.options.rebuildsSettled();
    await (await this.options.host.agent()).editCoreMemory(label, value);
  }

  async memoryStats(agentId?: string): Promise<MemoryStats> {
    const { storage, host, archival } = this.options;
    const activeId = await storage.agents.activeAgentId();
    const id = agentId ?? activeId ?? undefined;
    const isActive = id !== undefined && id === activeId;
    const running = host.lastBuilt;
    const agent = isActive && running?.id === id ? running : null;
    return {
      recallCount: id ? storage.recall.count(id) : 0,
      archivalCount: archival.count(id),
      ...(agent ? { contextUsage: agent.usage() } : {}),
    };
  }

  archivalCounts(agentId?: string): { workspace: number; memory: number } {
    return this.options.archival.counts(agentId);
  }

  notices(): string[] {
    return this.options.storage.notices.list();
  }

  /** The live core memory of the running agent, else the saved one. */
  private async coreMemoryOf(agentId?: string): Promise<CoreMemory> {
    const { storage, host } = this.options;
    const activeId = await storage.agents.activeAgentId();
    if (agentId === undefined || agentId === activeId) {
      const current = host.current;
      if (current && current.id === (agentId ?? activeId)) return current.coreMemory;
      if (!activeId) return (await host.agent()).coreMemory;
      agentId = activeId;
    }
    return combinedView((await storage.agents.load(agentId)).coreMemory, host.scopes());
  }
}
