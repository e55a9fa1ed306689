/**
 * Real parts for agent tests: the real `openai` client (OpenAIChatModel)
 * against the scripted fake server on 127.0.0.1, the real token counter, the
 * real FileRecallStore and AgentStateStore on disk, a real ArchivalIndex
 * (Vectra, local hash embedder) and a NodeWorkspace over a temp folder.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type FakeOpenAIServerOptions,
  type RecordedChatRequest,
} from '../../fixtures/fakeOpenAIServer';
import { OpenAIChatModel } from '../../../src/core/llm/openaiChatModel';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import { FileRecallStore } from '../../../src/core/memory/recallStore';
import { AgentStateStore } from '../../../src/core/agent/agentStateStore';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { Agent, type AgentDependencies, type AgentSettings } from '../../../src/core/agent/agent';
import type { AgentEvent } from '../../../src/core/agent/events';

export interface Harness {
  dir: string;
  server: FakeOpenAIServer;
  deps: AgentDependencies;
  recall: FileRecallStore;
  states: AgentStateStore;
  archival: ArchivalIndex;
  agent: Agent;
  agentId: string;
  events: AgentEvent[];
  /** Reopens every store from disk and restores the agent (a restart). */
  restart(settings?: Partial<AgentSettings>): Promise<Agent>;
  close(): Promise<void>;
}

export async function makeHarness(
  options: {
    settings?: Partial<AgentSettings>;
    server?: FakeOpenAIServerOptions;
    files?: Record<string, string>;
    workspace?: boolean;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-agent-'));
  const wsDir = path.join(dir, 'ws');
  mkdirSync(wsDir, { recursive: true });
  for (const [rel, text] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(wsDir, rel)), { recursive: true });
    writeFileSync(path.join(wsDir, rel), text);
  }
  const server = await startFakeOpenAIServer(options.server);
  const settings: AgentSettings = { contextWindow: 8192, replyNudge: false, ...options.settings };

  const open = async () => {
    const model = new OpenAIChatModel({ baseUrl: server.url, apiKey: 'test', model: 'gpt-4o-mini', maxRetries: 0 });
    const counter = await createTokenCounter('gpt-4o-mini');
    const recall = await FileRecallStore.open(path.join(dir, 'recall'));
    const states = await AgentStateStore.open(path.join(dir, 'agents'));
    const archival = await ArchivalIndex.open({ dir: path.join(dir, 'archival'), embedder: new LocalHashEmbedder() });
    const workspace = options.workspace === false ? new NodeWorkspace([]) : new NodeWorkspace([{ name: 'ws', path: wsDir }]);
    const deps: AgentDependencies = { model, counter, recall, archival, workspace, states };
    return { deps, recall, states, archival };
  };

  let parts = await open();
  const state = await parts.states.create({ name: 'Test agent' });
  const events: AgentEvent[] = [];
  const h: Harness = {
    dir,
    server,
    ...parts,
    agent: Agent.fromState(parts.deps, settings, state),
    agentId: state.id,
    events,
    async restart(more = {}) {
      await h.agent.idle();
      await parts.recall.close();
      await parts.archival.close();
      parts = await open();
      Object.assign(h, parts);
      h.agent = await Agent.open(parts.deps, { ...settings, ...more }, state.id);
      h.agent.onEvent((e) => events.push(e));
      return h.agent;
    },
    async close() {
      await h.agent.idle();
      await parts.recall.close();
      await parts.archival.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  h.agent.onEvent((e) => events.push(e));
  return h;
}

/** The `content` of the tool message answering call `callId` in a recorded request. */
export function toolResultIn(req: RecordedChatRequest, callId?: string): { status: string; message: string } | undefined {
  const msgs = req.body.messages;
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role === 'tool' && (callId === undefined || m.tool_call_id === callId))
      return JSON.parse(m.content) as { status: string; message: string };
  }
  return undefined;
}

/** Tool results of the last recorded request, oldest first, parsed. */
export function lastToolResults(server: FakeOpenAIServer): { status: string; message: string }[] {
  const reqs = server.chatRequests();
  const last = reqs[reqs.length - 1]!;
  const out: { status: string; message: string }[] = [];
  for (let i = last.body.messages.length - 1; i >= 0 && last.body.messages[i]!.role === 'tool'; i--) {
    out.unshift(JSON.parse(last.body.messages[i]!.content as string) as { status: string; message: string });
  }
  return out;
}

/** Every request that had tools (agent steps, not summaries). */
export function stepRequests(server: FakeOpenAIServer): RecordedChatRequest[] {
  return server.chatRequests().filter((r) => (r.body.tools?.length ?? 0) > 0);
}

export function summaryRequests(server: FakeOpenAIServer): RecordedChatRequest[] {
  return server.chatRequests().filter((r) => (r.body.tools?.length ?? 0) === 0);
}
