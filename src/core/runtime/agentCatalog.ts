import type { AgentEvent } from '../agent/events';
import { exportAgentWithMemory } from '../agent/agentTransfer';
import type { Emitter } from '../base/emitter';
import { CoreMemory } from '../memory/coreMemory';
import type { AgentHost } from './agentHost';
import { RuntimeUnavailableError, type RuntimeGuard } from './runtimeGuard';
import type { RuntimeLog } from './runtimeLog';
import type { AgentCatalogPort, AgentInfo, NewAgent } from './runtimePort';
import type { WorkspaceStorage } from './workspaceStorage';

export interface AgentCatalogOptions {
  storage: WorkspaceStorage;
  guard: RuntimeGuard;
  host: AgentHost;
  log: RuntimeLog;
  agentEvents: Emitter<AgentEvent>;
  /** The core memory limits the settings ask for. */
  coreMemoryOptions: () => { limits?: { block: number; project: number } };
  /** Resolves once no settings or trust change is being applied. */
  rebuildsSettled: () => Promise<void>;
  /** Hides an agent's conversation so far from the chat (after a reset). */
  clearView: (agentId: string) => Promise<void>;
  /** Agents added, switched or reset. */
  stateChanged: () => void;
}

/** The agents of one workspace: list, create, switch, reset, export and import. */
export class AgentCatalog implements AgentCatalogPort {
  constructor(private readonly options: AgentCatalogOptions) {}

  async listAgents(): Promise<AgentInfo[]> {
    const { storage, guard, host, log } = this.options;
    const list = await storage.agents.list();
    if (list.agents.length === 0 && !guard.readOnly) {
      await host.agent(); // creates the default agent
      return this.listAgents();
    }
    const activeId = await storage.agents.activeAgentId();
    for (const u of list.unavailable) log('warn', `Agent file ${u.file} is unavailable: ${u.reason}`);
    return list.agents.map((a) => ({
      id: a.id,
      name: a.name,
      active: a.id === activeId,
      personaPreset: a.personaPreset,
      humanPreset: a.humanPreset,
    }));
  }

  async createAgent(init: NewAgent): Promise<{ id: string; name: string }> {
    const { storage, guard, host } = this.options;
    guard.assertWritable('create agents');
    await this.options.rebuildsSettled();
    const directory = await host.agentDirectory();
    const state = await directory.create({
      name: init.name,
      ...(init.personaPreset ? { personaPreset: init.personaPreset } : {}),
      ...(init.humanPreset ? { humanPreset: init.humanPreset } : {}),
      makeActive: false,
    });
    if (init.persona !== undefined || init.human !== undefined) {
      // Own texts (MemGPT's create_agent persona=/human=): validated against the block limits.
      const core = CoreMemory.fromJSON(state.coreMemory, this.options.coreMemoryOptions());
      if (init.persona !== undefined) core.setBlock('persona', init.persona);
      if (init.human !== undefined) core.setBlock('human', init.human);
      await storage.agents.save({ ...state, coreMemory: core.toJSON() });
    }
    if (init.makeActive !== false) await this.switchAgent(state.id);
    this.options.stateChanged();
    return { id: state.id, name: state.name };
  }

  async switchAgent(id: string): Promise<void> {
    const { storage, guard, host } = this.options;
    guard.assertWritable('switch agents');
    await this.options.rebuildsSettled();
    if (!(await storage.agents.exists(id)))
      throw new RuntimeUnavailableError('agent_not_found', `There is no agent with id "${id}" in this workspace.`);
    await (await host.agentDirectory()).switchTo(id);
    await host.agent();
    this.options.stateChanged();
  }

  async resetAgent(id: string): Promise<void> {
    const { guard, host } = this.options;
    guard.assertWritable('reset agents');
    await this.options.rebuildsSettled();
    await (await host.agentDirectory()).reset(id);
    await this.options.clearView(id);
    host.forgetActive();
    await host.agent();
    this.options.agentEvents.fire({ type: 'memory_changed', what: 'core' });
    this.options.stateChanged();
  }

  /** Needs no model: a running turn of that agent is awaited, then its state and recall are read. */
  async exportAgent(id: string): Promise<unknown> {
    const { storage, host } = this.options;
    await this.options.rebuildsSettled();
    const running = host.lastBuilt;
    if (running?.id === id) await running.idle();
    return exportAgentWithMemory(id, { states: storage.agents, recall: storage.recall, ...host.memoryParts() });
  }

  async importAgent(data: unknown): Promise<{ id: string; name: string }> {
    const { guard, host } = this.options;
    guard.assertWritable('import agents');
    await this.options.rebuildsSettled();
    const state = await (await host.agentDirectory()).importAgent(data);
    this.options.stateChanged();
    return { id: state.id, name: state.name };
  }
}
