import type { RecallRecord, RecallStore } from '../interfaces/recallStore';
import { CoreMemory } from '../memory/coreMemory';
import type { AgentExport, AgentList, AgentStateStore } from './agentStateStore';
import type { AgentState } from './agentState';
import { Agent, type AgentDependencies, type AgentSettings } from './agent';

/**
 * The agents of one workspace, one of them active: create (with presets),
 * switch, reset, export/import, delete. Storage is the AgentStateStore's
 * (one file per agent, `active.json`); this class adds the running Agent for
 * the active one, so the extension and the CLI hold one object.
 */

export interface AgentDirectoryOptions {
  states: AgentStateStore;
  recall: RecallStore & { records(agentId: string): RecallRecord[] };
  /** Everything an Agent needs except the state store, which is `states`. */
  deps: Omit<AgentDependencies, 'states' | 'recall'>;
  settings: AgentSettings;
}

export class AgentDirectory {
  private activeAgent: Agent | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AgentDirectoryOptions) {}

  private deps(): AgentDependencies {
    return { ...this.options.deps, recall: this.options.recall, states: this.options.states };
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
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async activeNow(): Promise<Agent> {
    const id = await this.options.states.activeAgentId();
    if (this.activeAgent && this.activeAgent.id === id) return this.activeAgent;
    if (this.activeAgent) await this.activeAgent.idle();
    // loadActive, not load(id): an active agent file found damaged now is recovered, not fatal.
    const loaded = id ? await this.options.states.loadActive() : null;
    const state = loaded ?? (await this.options.states.create({ name: 'MemGPT', settingsUsed: this.settingsUsed() }));
    if (!loaded) await this.options.states.setActive(state.id);
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
    const reset: AgentState = {
      ...old,
      coreMemory: CoreMemory.create({ personaPreset: old.personaPreset, humanPreset: old.humanPreset }).toJSON(),
      inContextIds: [],
      summary: null,
      pressureWarned: false,
      counters: { steps: 0, messages: 0, flushes: 0 },
    };
    await this.options.states.save(reset);
    if (this.activeAgent?.id === id) this.activeAgent = Agent.fromState(this.deps(), this.options.settings, reset);
    return reset;
  }

  async exportAgent(id: string): Promise<AgentExport> {
    if (this.activeAgent?.id === id) await this.activeAgent.idle();
    return this.options.states.exportAgent(id, this.options.recall);
  }

  async importAgent(data: unknown): Promise<AgentState> {
    return this.options.states.importAgent(data, this.options.recall);
  }

  async delete(id: string): Promise<void> {
    if (this.activeAgent?.id === id) {
      await this.activeAgent.idle();
      this.activeAgent = null;
    }
    await this.options.states.delete(id);
  }

  private settingsUsed(): Partial<AgentState['settingsUsed']> {
    return { model: this.options.deps.model.model, contextWindow: this.options.settings.contextWindow, ...(this.options.settings.embedderId ? { embedderId: this.options.settings.embedderId } : {}) };
  }
}
