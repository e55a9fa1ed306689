import type { RecallRecord, RecallStore } from '../interfaces/recallStore';
import { CoreMemory } from '../memory/coreMemory';
import type { AgentExport, AgentList, AgentStateStore } from './agentStateStore';
import type { AgentState } from './agentState';
import { exportAgentWithMemory, importAgentWithMemory, type TransferParts } from './agentTransfer';
import type { MemoryScopes } from '../memory/memoryScopes';
import { personaPreset } from '../memory/presets';
import { Agent, type AgentDependencies, type AgentSettings } from './agent';
import { SerialQueue } from '../base/serialQueue';

/**
 * The agents of one workspace, one of them active: create (with presets),
 * switch, reset, export/import, delete. Storage is the AgentStateStore's
 * (one file per agent, `active.json`); this class adds the running Agent for
 * the active one, so the extension and the CLI hold one object.
 */

export interface AgentDirectoryOptions {
  states: AgentStateStore;
  /** The user's and the workspace's shared core-memory blocks; absent: every block is the agent's. */
  scopes?: MemoryScopes;
  /** What the user must be told (memory converted to scopes, remembered items given an owner). */
  notice?: (key: string, message: string) => void;
  recall: RecallStore & { records(agentId: string): RecallRecord[] };
  /** Everything an Agent needs except the state store, which is `states`. */
  deps: Omit<AgentDependencies, 'states' | 'recall'>;
  settings: AgentSettings;
}

export class AgentDirectory {
  private activeAgent: Agent | null = null;
  private readonly queue = new SerialQueue();

  constructor(private readonly options: AgentDirectoryOptions) {}

  private deps(): AgentDependencies {
    return {
      ...this.options.deps,
      recall: this.options.recall,
      states: this.options.states,
      ...(this.options.scopes ? { scopes: this.options.scopes } : {}),
    };
  }

  /**
   * Before an agent runs: the shared blocks are read, memory saved before scopes existed is
   * converted (its `human` and `project` go to their shared scopes, see MemoryScopes.adopt),
   * and remembered items stored before items had owners become this agent's: it is the one
   * that was using the workspace. Read-only windows convert nothing.
   */
  private async prepare(state: AgentState): Promise<AgentState> {
    const scopes = this.options.scopes;
    if (scopes) await scopes.load();
    if (this.options.states.readOnly) return state;
    let prepared = state;
    const adopted = scopes ? await scopes.adopt(state.coreMemory, state.name) : null;
    if (adopted) {
      prepared = { ...state, coreMemory: adopted };
      await this.options.states.save(prepared);
    }
    const archival = this.options.deps.archival;
    const claimed = (await archival.claimUnowned?.(state.id)) ?? 0;
    if (claimed > 0) {
      this.options.notice?.(
        `archival:claimed:${state.id}`,
        `Remembered items now belong to the agent that stored them. The ${claimed} item(s) stored before that were given to agent "${state.name}", the agent in use; other agents of this workspace no longer see them (export "${state.name}" to move them).`,
      );
    }
    return prepared;
  }

  list(): Promise<AgentList> {
    return this.options.states.list();
  }

  /**
   * The active agent, opened on first use. With no agent yet, one named
   * "MemGPT" is created from the default presets. Calls are serialised: two
   * callers at once (the chat and the login event at activation) get the same
   * agent, never two new ones.
   */
  active(): Promise<Agent> {
    return this.serial(() => this.activeNow());
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }

  private async activeNow(): Promise<Agent> {
    const id = await this.options.states.activeAgentId();
    if (this.activeAgent && this.activeAgent.id === id) return this.activeAgent;
    if (this.activeAgent) await this.activeAgent.idle();
    // loadActive, not load(id): an active agent file found damaged now is recovered, not fatal.
    const loaded = id ? await this.options.states.loadActive() : null;
    const created = loaded ?? (await this.options.states.create({ name: 'MemGPT', settingsUsed: this.settingsUsed() }));
    if (!loaded) await this.options.states.setActive(created.id);
    const state = await this.prepare(created);
    this.activeAgent = Agent.fromState(this.deps(), this.options.settings, state);
    return this.activeAgent;
  }

  async create(init: { name: string; personaPreset?: string; humanPreset?: string; makeActive?: boolean }): Promise<AgentState> {
    const state = await this.options.states.create({
      name: init.name,
      ...(init.personaPreset ? { personaPreset: init.personaPreset } : {}),
      ...(init.humanPreset ? { humanPreset: init.humanPreset } : {}),
      settingsUsed: this.settingsUsed(),
    });
    if (init.makeActive !== false) await this.switchTo(state.id);
    return state;
  }

  switchTo(id: string): Promise<Agent> {
    return this.serial(async () => {
      if (this.activeAgent) await this.activeAgent.idle();
      await this.options.states.setActive(id);
      return this.activeNow();
    });
  }

  /**
   * Starts an agent over: core memory back to its presets, empty queue, no
   * summary, counters zeroed. Its old messages stay in recall (the log is
   * append-only) and remain searchable.
   */
  async reset(id: string): Promise<AgentState> {
    if (this.activeAgent?.id === id) await this.activeAgent.idle();
    const old = await this.options.states.load(id);
    // With scopes only the agent's own blocks start over: the user's and the workspace's are shared.
    const coreMemory = this.options.scopes
      ? {
          blocks: [{ label: 'persona', value: personaPreset(old.personaPreset).text, limit: 0, scope: 'agent' as const }],
          lastModified: new Date().toISOString(),
          scoped: true,
        }
      : CoreMemory.create({ personaPreset: old.personaPreset, humanPreset: old.humanPreset }).toJSON();
    const reset: AgentState = {
      ...old,
      coreMemory: CoreMemory.fromJSON(
        coreMemory,
        this.options.settings.coreMemoryLimits ? { limits: this.options.settings.coreMemoryLimits } : {},
      ).toJSON(),
      inContextIds: [],
      summary: null,
      pressureWarned: false,
      counters: { steps: 0, messages: 0, flushes: 0 },
    };
    await this.options.states.save(reset);
    if (this.activeAgent?.id === id) this.activeAgent = Agent.fromState(this.deps(), this.options.settings, await this.prepare(reset));
    return reset;
  }

  async exportAgent(id: string): Promise<AgentExport> {
    if (this.activeAgent?.id === id) await this.activeAgent.idle();
    return exportAgentWithMemory(id, this.transferParts());
  }

  async importAgent(data: unknown): Promise<AgentState> {
    return importAgentWithMemory(data, this.transferParts());
  }

  private transferParts(): TransferParts {
    return {
      states: this.options.states,
      recall: this.options.recall,
      archival: this.options.deps.archival,
      ...(this.options.scopes ? { scopes: this.options.scopes } : {}),
    };
  }

  async delete(id: string): Promise<void> {
    if (this.activeAgent?.id === id) {
      await this.activeAgent.idle();
      this.activeAgent = null;
    }
    await this.options.states.delete(id);
  }

  private settingsUsed(): Partial<AgentState['settingsUsed']> {
    return {
      model: this.options.deps.model.model,
      contextWindow: this.options.settings.contextWindow,
      ...(this.options.settings.embedderId ? { embedderId: this.options.settings.embedderId } : {}),
    };
  }
}
