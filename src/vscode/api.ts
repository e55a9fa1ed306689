/**
 * The extension's public API: what `activate` returns to other extensions and tests, shaped like
 * MemGPT's Python client (`create_agent`, `user_message`, `get_agent_memory`, `list_agents`).
 * Editor-free: implemented over AgentRuntimePort, so it is unit-tested with an in-memory port.
 *
 *   const memgpt = await vscode.extensions.getExtension<MemGptClientApi>('memgpt-vscode.memgpt-vscode')!.activate();
 *   const { id } = await memgpt.createAgent({ name: 'Reviewer', persona: 'terse' });
 *   const { reply, functionCalls } = await memgpt.userMessage(id, 'What does src/app.ts do?');
 */
import type { AgentEvent } from '../core/agent/events';
import { HUMAN_PRESETS, PERSONA_PRESETS } from '../core/memory/presets';
import type { AgentInfo, AgentRuntimePort, MemoryStats, PortDisposable } from '../core/runtime/runtimePort';

export interface CreateAgentOptions {
  /** Shown in the agent picker; default "MemGPT <n>". */
  name?: string;
  /** A persona preset name (e.g. "coding-assistant", "terse") or the persona text itself. */
  persona?: string;
  /** A human preset name (e.g. "developer", "learner") or the human text itself. */
  human?: string;
}

export interface FunctionCallRecord {
  name: string;
  /** The raw JSON arguments the model produced. */
  arguments: string;
  status: 'OK' | 'Failed';
  /** The function's result as the model read it. */
  result: string;
}

export interface UserMessageResponse {
  /** What the agent said with send_message, in order (what a user sees). */
  reply: string[];
  /** Every function the agent called in this turn, in order. */
  functionCalls: FunctionCallRecord[];
  /** Every AgentEvent of the turn (monologue, deltas, memory changes, usage…). */
  events: AgentEvent[];
  /** Why the turn ended: 'done', 'step_limit', 'cancelled', 'preempted', 'error' or 'paused'. */
  finishReason: string;
  /** Set when the turn ended in an error (redacted, user-facing text). */
  error?: string;
}

export interface AgentMemory extends MemoryStats {
  /** Core memory: block label → text. */
  core: Record<string, string>;
  /** Character limit of each block. */
  limits: Record<string, number>;
}

export interface MemGptClientApi {
  /** Creates an agent and makes it the active one (the chat shows it). */
  createAgent(options?: CreateAgentOptions): Promise<{ id: string }>;
  /**
   * Sends `text` as the user to `agentId` and resolves when the agent's turn is over. The agent
   * becomes the active one first (the chat follows), as only the active agent runs in a window.
   */
  userMessage(agentId: string, text: string, options?: { signal?: AbortSignal }): Promise<UserMessageResponse>;
  /** Core memory and the sizes of recall and archival memory of `agentId`. */
  getMemory(agentId: string): Promise<AgentMemory>;
  listAgents(): Promise<AgentInfo[]>;
  /** Every event of the active agent; returns a handle whose `dispose()` unsubscribes. */
  onEvent(listener: (event: AgentEvent) => void): PortDisposable;
}

function preset(value: string | undefined, presets: Readonly<Record<string, unknown>>): { preset?: string; text?: string } {
  if (value === undefined || value.trim() === '') return {};
  return Object.prototype.hasOwnProperty.call(presets, value.trim()) ? { preset: value.trim() } : { text: value };
}

export function createClientApi(runtime: AgentRuntimePort, redact: (text: string) => Promise<string> = async (t) => t): MemGptClientApi {
  const requireAgent = async (agentId: string): Promise<AgentInfo> => {
    if (typeof agentId !== 'string' || agentId === '') throw new TypeError('agentId must be the id returned by createAgent or listAgents.');
    const agent = (await runtime.agents.listAgents()).find((a) => a.id === agentId);
    if (!agent) throw new Error(`No agent with id "${agentId}" in this workspace. Call listAgents() for the ids there are.`);
    return agent;
  };

  return {
    async createAgent(options = {}) {
      const count = (await runtime.agents.listAgents()).length;
      const persona = preset(options.persona, PERSONA_PRESETS);
      const human = preset(options.human, HUMAN_PRESETS);
      const created = await runtime.agents.createAgent({
        name: options.name?.trim() || `MemGPT ${count + 1}`,
        ...(persona.preset ? { personaPreset: persona.preset } : {}),
        ...(persona.text !== undefined ? { persona: persona.text } : {}),
        ...(human.preset ? { humanPreset: human.preset } : {}),
        ...(human.text !== undefined ? { human: human.text } : {}),
        makeActive: true,
      });
      return { id: created.id };
    },

    async userMessage(agentId, text, options = {}) {
      if (typeof text !== 'string' || text.trim() === '') throw new TypeError('userMessage needs a non-empty text.');
      const agent = await requireAgent(agentId);
      if (!agent.active) await runtime.agents.switchAgent(agentId);
      const events: AgentEvent[] = [];
      const outcome = await runtime.chat.handle(
        { type: 'user_message', text },
        { ...(options.signal ? { signal: options.signal } : {}), onEvent: (e) => events.push(e) },
      );
      const reply: string[] = [];
      const functionCalls: FunctionCallRecord[] = [];
      for (const e of events) {
        if (e.type === 'message_complete') reply.push(e.text);
        if (e.type === 'function_call_finished')
          functionCalls.push({ name: e.name, arguments: e.arguments, status: e.status, result: e.result });
      }
      // Some runtimes report send_message texts only in the outcome.
      if (reply.length === 0) reply.push(...outcome.messages);
      return {
        reply,
        functionCalls,
        events,
        finishReason: outcome.reason,
        ...(outcome.error !== undefined ? { error: await redact(outcome.error) } : {}),
      };
    },

    async getMemory(agentId) {
      await requireAgent(agentId);
      const [blocks, stats] = await Promise.all([runtime.memory.coreMemory(agentId), runtime.memory.memoryStats(agentId)]);
      return {
        core: Object.fromEntries(blocks.map((b) => [b.label, b.value])),
        limits: Object.fromEntries(blocks.map((b) => [b.label, b.limit])),
        ...stats,
      };
    },

    listAgents: () => runtime.agents.listAgents(),
    onEvent: (listener) => runtime.chat.onEvent(listener),
  };
}
