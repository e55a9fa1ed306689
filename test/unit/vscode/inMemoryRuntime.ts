/**
 * A small working AgentRuntimePort for unit tests of the adapters: agents with core memory
 * (CoreMemory, real limits), a scripted turn per user message, recorded calls. Not a fake of the
 * agent loop: the loop has its own tests (test/unit/agent); this checks what the adapters do with a port.
 * One object answers for every service (`chat`, `memory`, `agents`, …), which is all the adapters see.
 */
import type { AgentEvent, AgentInput } from '../../../src/core/agent/events';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { CoreMemory } from '../../../src/core/memory/coreMemory';
import type { AgentInfo, AgentRuntimePort, NewAgent, RuntimeActivity, TurnOutcome } from '../../../src/core/runtime/runtimePort';

interface Agent {
  info: AgentInfo;
  memory: CoreMemory;
  queue: AgentInput[];
}

export type TurnScript = (input: AgentInput, emit: (e: AgentEvent) => void) => TurnOutcome;

export class InMemoryRuntime implements AgentRuntimePort {
  readonly agentList: Agent[] = [];
  readonly chat = this;
  readonly memory = this;
  readonly agents = this;
  readonly files = this;
  readonly index = this;
  readonly models = this;
  readonly calls: string[] = [];
  private readonly listeners = new Set<(e: AgentEvent) => void>();
  private state: RuntimeActivity = { kind: 'idle' };
  private readonly activityListeners = new Set<(a: RuntimeActivity) => void>();
  script: TurnScript = () => ({ reason: 'done', messages: [] });

  constructor() {
    this.add({ name: 'MemGPT' }, true);
  }

  private add(init: NewAgent, active: boolean): Agent {
    const memory = CoreMemory.create({
      ...(init.personaPreset ? { personaPreset: init.personaPreset } : {}),
      ...(init.humanPreset ? { humanPreset: init.humanPreset } : {}),
    });
    if (init.persona !== undefined) memory.setBlock('persona', init.persona);
    if (init.human !== undefined) memory.setBlock('human', init.human);
    const agent: Agent = { info: { id: `agent-${this.agentList.length + 1}`, name: init.name, active }, memory, queue: [] };
    this.agentList.push(agent);
    return agent;
  }

  get active(): Agent {
    return this.agentList.find((a) => a.info.active)!;
  }
  private byId(id: string | undefined): Agent {
    const a = id === undefined ? this.active : this.agentList.find((x) => x.info.id === id);
    if (!a) throw new Error(`no agent ${id}`);
    return a;
  }

  async handle(input: AgentInput, options: { onEvent?: (e: AgentEvent) => void } = {}): Promise<TurnOutcome> {
    this.calls.push(`handle:${input.type}`);
    const emit = (e: AgentEvent) => {
      options.onEvent?.(e);
      for (const l of this.listeners) l(e);
    };
    return this.script(input, emit);
  }
  async enqueue(input: AgentInput): Promise<void> {
    this.calls.push(`enqueue:${input.type}`);
    this.active.queue.push(input);
  }
  onEvent(listener: (e: AgentEvent) => void) {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  isBusy(): boolean {
    return false;
  }
  async lastLogin(): Promise<string | null> {
    return null;
  }
  /** No recall here: the conversation is empty (the login's check finds no unanswered message). */
  async conversation(): Promise<RecallRecord[]> {
    return [];
  }
  async remember(): Promise<string> {
    return 'mem-1';
  }
  async searchMemory() {
    return { recall: [], archival: [] };
  }
  matchSymbols() {
    return [];
  }
  async coreMemory(agentId?: string) {
    const m = this.byId(agentId).memory;
    return m.labels.map((label) => ({ label, value: m.get(label), limit: m.limit(label) }));
  }
  async setCoreMemoryBlock(label: string, value: string): Promise<void> {
    this.active.memory.setBlock(label, value);
    await this.enqueue({ type: 'core_memory_edited_by_user', label });
  }
  async memoryStats(agentId?: string) {
    this.byId(agentId);
    return { recallCount: 3, archivalCount: 7 };
  }
  async listAgents(): Promise<AgentInfo[]> {
    return this.agentList.map((a) => ({ ...a.info }));
  }
  async createAgent(init: NewAgent) {
    this.calls.push(`create:${init.name}:${init.personaPreset ?? '-'}:${init.persona === undefined ? '-' : 'text'}`);
    const agent = this.add(init, false);
    if (init.makeActive !== false) await this.switchAgent(agent.info.id);
    return { id: agent.info.id, name: agent.info.name };
  }
  async switchAgent(id: string): Promise<void> {
    this.calls.push(`switch:${id}`);
    const target = this.byId(id);
    for (const a of this.agentList) a.info.active = a === target;
  }
  async resetAgent(id: string): Promise<void> {
    this.calls.push(`reset:${id}`);
  }
  async exportAgent(id: string): Promise<unknown> {
    return { id };
  }
  async importAgent(): Promise<{ id: string; name: string }> {
    const a = this.add({ name: 'Imported' }, false);
    return { id: a.info.id, name: a.info.name };
  }
  async indexWorkspace() {
    return { indexed: 0, unchanged: 0, removed: 0, skipped: 0, shared: 0, chunks: 0, ms: 0, cancelled: false };
  }
  pauseIndexing(): void {}
  resumeIndexing(): void {}
  async fileChanged(): Promise<void> {}
  async fileRemoved(): Promise<void> {}
  async fileRenamed(): Promise<void> {}
  instructionFiles() {
    return { blocks: [], listed: [], skipped: [] };
  }
  onDidChangeInstructionFiles() {
    return { dispose: () => undefined };
  }
  async setActiveFile(): Promise<void> {}
  onIndexProgress() {
    return { dispose: () => undefined };
  }
  async listModels(): Promise<string[]> {
    return ['m'];
  }
  activity(): RuntimeActivity {
    return this.state;
  }
  onDidChangeActivity(listener: (a: RuntimeActivity) => void) {
    this.activityListeners.add(listener);
    return { dispose: () => this.activityListeners.delete(listener) };
  }
  async setWorkspaceTrusted(): Promise<void> {}
  storageDirs(): string[] {
    return [];
  }
}
