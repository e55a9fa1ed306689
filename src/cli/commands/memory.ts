/** `memgpt memory <folder>`: core memory, recall and archival counts, context-window breakdown. */
import type { ContextUsage } from '../../core/agent/events';
import { describeEmbedder } from '../../core/embed/embedderInfo';
import { scopeDescription } from '../../core/memory/coreMemory';
import type { CoreMemoryBlockView } from '../../core/runtime/runtimePort';
import type { WorkspaceRuntimePort } from '../../core/runtime/runtimePort';
import { ExitCode } from '../exitCodes';
import { cliWording } from '../output';
import { chosenAgent } from '../session';
import { withRuntime, type CommandRunner } from './context';
import type { ReflectionRecord } from '../../core/runtime/reflectionService';
import { describeReflection } from '../../core/runtime/reflectionText';

/** Reflections the text report spells out (the JSON has every kept one). */
const REFLECTIONS_SHOWN = 3;

export interface MemoryReport {
  folder: string;
  readOnly: boolean;
  agent: { id: string; name: string; active: boolean } | null;
  coreMemory: CoreMemoryBlockView[];
  recall: { count: number };
  archival: { total: number; workspace: number; memory: number };
  /** What archival search can do: the embedder's id, and whether it matches by meaning or by words only. */
  search: { embedder: string; semantic: boolean; description: string };
  /** The active agent's window; null for another agent, or when the model could not be resolved. */
  context: ContextUsage | null;
  contextUnavailable?: string;
  /** Damage found in this memory and what was done about it (files kept aside, a pointer recovered). */
  notices: string[];
  /** What reflection passes changed in this agent's memory, newest first, each block and item before and after. */
  reflections: ReflectionRecord[];
}

export async function memoryReport(runtime: WorkspaceRuntimePort, folder: string, wantedAgent: string | undefined): Promise<MemoryReport> {
  const agent = await chosenAgent(runtime, wantedAgent);
  // Remembered items are counted for the agent shown: each agent has its own.
  const counts = runtime.memory.archivalCounts(agent?.id);
  const archival = { total: counts.workspace + counts.memory, ...counts };
  const described = describeEmbedder(runtime.index.embedderId);
  const search = { embedder: runtime.index.embedderId, semantic: described.semantic, description: described.label };
  if (!agent) {
    return {
      folder,
      readOnly: runtime.storage.lockHolder !== null,
      agent: null,
      coreMemory: [],
      recall: { count: 0 },
      archival,
      search,
      context: null,
      contextUnavailable: 'this workspace has no agent yet',
      notices: runtime.memory.notices(),
      reflections: [],
    };
  }
  const coreMemory = await runtime.memory.coreMemory(agent.id);
  const stats = await runtime.memory.memoryStats(agent.id);
  let context: ContextUsage | null = null;
  let contextUnavailable: string | undefined;
  if (agent.active) {
    try {
      // Loading the agent builds its window (no model call; a server is asked only to name an unset model).
      await runtime.agent();
      context = runtime.chat.contextUsage() ?? null;
    } catch (error) {
      contextUnavailable = cliWording(`the agent could not be loaded: ${(error as Error).message}`);
    }
  } else {
    contextUnavailable = 'shown for the active agent only (ask or chat with --agent makes it active)';
  }
  return {
    folder,
    readOnly: runtime.storage.lockHolder !== null,
    agent: { id: agent.id, name: agent.name, active: agent.active },
    coreMemory,
    recall: { count: stats.recallCount },
    archival,
    search,
    context,
    ...(contextUnavailable ? { contextUnavailable } : {}),
    // Read last: loading the agent above is what finds (and recovers) a damaged agent file.
    notices: runtime.memory.notices(),
    reflections: await runtime.reflection.records(agent.id),
  };
}

function indent(text: string, prefix: string): string {
  return text === ''
    ? `${prefix}(empty)`
    : text
        .split('\n')
        .map((l) => `${prefix}${l}`)
        .join('\n');
}

export function renderMemoryReport(r: MemoryReport): string {
  const lines: string[] = [];
  lines.push(r.agent ? `Agent: ${r.agent.name} (${r.agent.id})${r.agent.active ? '' : ', not the active agent'}` : 'Agent: none yet');
  if (r.readOnly) lines.push('(read-only: another process holds this memory)');
  if (r.notices.length > 0) {
    lines.push('', 'Notices:');
    for (const n of r.notices) lines.push(`  ! ${n}`);
  }
  lines.push('', 'Core memory:');
  for (const b of r.coreMemory) {
    const about = b.description ? ` — ${b.description}` : '';
    lines.push(
      `  ${b.label} [${scopeDescription(b.scope ?? 'agent')}] (${Array.from(b.value).length}/${b.limit} chars)${about}`,
      indent(b.value, '    '),
    );
  }
  lines.push('', `Recall: ${r.recall.count} messages`);
  lines.push(
    `Archival: ${r.archival.total} items (${r.archival.workspace} workspace chunks, ${r.archival.memory} remembered by this agent)`,
  );
  lines.push(
    `Search: ${r.search.description}${r.search.semantic ? '' : ' (give --local-model <folder> or set MEMGPT_LOCAL_MODEL for semantic search)'}`,
  );
  if (r.reflections.length > 0) {
    lines.push('', `Reflections (${r.reflections.length}, newest first; undo one with memgpt reflect ${r.folder} --undo <id>):`);
    for (const record of r.reflections.slice(0, REFLECTIONS_SHOWN)) lines.push(indent(describeReflection(record).trimEnd(), '  '));
  }
  lines.push('');
  const c = r.context;
  if (!c) {
    lines.push(`Context window: ${r.contextUnavailable ?? 'not available'}`);
  } else {
    const pct = (n: number): string => `${((100 * n) / c.windowTokens).toFixed(1)}%`;
    const row = (label: string, n: number): string => `  ${label.padEnd(14)} ${String(n).padStart(8)}  ${pct(n).padStart(6)}`;
    lines.push(`Context window: ${c.windowTokens} tokens, pressure ${c.pressure}`);
    lines.push(row('system', c.systemTokens), row('core memory', c.coreMemoryTokens), row('functions', c.functionsTokens));
    lines.push(row('summary', c.summaryTokens), row('messages', c.messagesTokens), row('used', c.usedTokens));
    lines.push(row('free', Math.max(0, c.windowTokens - c.usedTokens)));
  }
  return `${lines.join('\n')}\n`;
}

export const runMemory: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime, folder) => {
    const report = await memoryReport(runtime, folder, ctx.options.agent);
    if (ctx.options.json === true) ctx.out.json(report);
    else ctx.out.content(renderMemoryReport(report));
    return ExitCode.ok;
  });
