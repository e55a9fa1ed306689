import type { Actor } from '../acting/actor';
import type { Agent } from '../agent/agent';
import { AgentDirectory } from '../agent/agentDirectory';
import type { AgentEvent } from '../agent/events';
import type { Emitter } from '../base/emitter';
import type { ProjectInstructions } from '../interfaces/instructions';
import type { ExternalFunctions } from '../interfaces/externalFunctions';
import { SerialQueue } from '../base/serialQueue';
import { contextWindowFor } from '../llm/knownModels';
import { createTokenCounter } from '../tokens/tokenCounter';
import type { ArchivalStore } from '../interfaces/archivalStore';
import { openMemoryScopes, type MemoryScopes } from '../memory/memoryScopes';
import { userBlocksFile } from '../storage/layout';
import type { ArchivalService } from './archivalService';
import { createChatModel } from './chatModelFactory';
import type { ModelResolver } from './modelResolver';
import type { RuntimeConfig, RuntimeFolder } from './runtimeConfig';
import type { RuntimeGuard } from './runtimeGuard';
import type { WorkspaceStorage } from './workspaceStorage';

export interface AgentHostOptions {
  storage: WorkspaceStorage;
  /** The state folder: the user's core-memory blocks, shared by every workspace, live under it. */
  stateRoot: string;
  folders: readonly RuntimeFolder[];
  config: () => RuntimeConfig;
  trusted: () => boolean;
  guard: RuntimeGuard;
  models: ModelResolver;
  archival: ArchivalService;
  actor: Actor;
  /** The MCP servers' functions, offered in trusted, writable windows. */
  external?: ExternalFunctions;
  /** Every event of the active agent, whichever agent that is now. */
  agentEvents: Emitter<AgentEvent>;
  /** The active agent changed (built, switched, rebuilt). */
  agentChanged: () => void;
  /** The project's instruction files, shown read-only in the system message; their budget follows the window. */
  instructions?: () => ProjectInstructions & { setWindow(windowTokens: number): void };
}

/**
 * Keeps the active agent and the directory of agents it comes from, built over the current model,
 * index and trust, and rebuilt (between turns) once any of them changes. Builds are serialised, so
 * callers at once (the chat, the login event, commands) never build two directories.
 */
export class AgentHost {
  private directory: AgentDirectory | null = null;
  private stale = true;
  private subscribed: Agent | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly builds = new SerialQueue();
  private sharedScopes: MemoryScopes | null = null;

  constructor(private readonly options: AgentHostOptions) {}

  /** The active agent, (re)built as needed, with its events forwarded. */
  agent(): Promise<Agent> {
    return this.builds.run(() => this.resolveAgent());
  }

  /** The directory for callers outside agent(): built in the same queue, so never twice. */
  agentDirectory(): Promise<AgentDirectory> {
    return this.builds.run(() => this.buildDirectory());
  }

  /** What the agent depends on changed: the next call builds anew (after the running turn). */
  markStale(): void {
    this.stale = true;
  }

  /** Forgets the subscribed agent, so the next agent() subscribes afresh (after a reset). */
  forgetActive(): void {
    this.subscribed = null;
  }

  /** The active agent as built now, when it is current; never builds. */
  get current(): Agent | null {
    return this.subscribed && !this.stale ? this.subscribed : null;
  }

  /** The subscribed agent even when a rebuild is due (its turn may still be running). */
  get lastBuilt(): Agent | null {
    return this.subscribed;
  }

  /** The shared core-memory scopes for the settings in force (made anew with each directory). */
  scopes(): MemoryScopes {
    if (!this.sharedScopes) {
      const { storage, guard } = this.options;
      const config = this.options.config();
      this.sharedScopes = openMemoryScopes({
        userFile: userBlocksFile(this.options.stateRoot),
        workspaceFile: storage.layout.blocksFile,
        readOnly: guard.readOnly,
        ...(config.humanScope ? { humanScope: config.humanScope } : {}),
        ...(config.coreMemoryLimits ? { limits: config.coreMemoryLimits } : {}),
        notice: (key, text) => storage.notices.post(key, text),
      });
    }
    return this.sharedScopes;
  }

  /** What export and import need besides the agent files and recall. */
  memoryParts(): { archival: ArchivalStore; scopes: MemoryScopes } {
    return { archival: this.options.archival.store, scopes: this.scopes() };
  }

  /** Waits for the active agent's running turn, if a directory exists. */
  async settle(): Promise<void> {
    if (this.directory) await (await this.directory.active()).idle();
  }

  dispose(): void {
    this.unsubscribe?.();
  }

  private async resolveAgent(): Promise<Agent> {
    this.options.guard.assertOpen();
    const agent = await (await this.buildDirectory()).active();
    if (agent !== this.subscribed) {
      this.unsubscribe?.();
      this.subscribed = agent;
      this.unsubscribe = agent.onEvent((e) => this.options.agentEvents.fire(e));
      this.options.agentChanged();
    }
    return agent;
  }

  private async buildDirectory(): Promise<AgentDirectory> {
    if (this.directory && !this.stale) return this.directory;
    const old = this.directory;
    if (old) await (await old.active()).idle();
    const { models, archival, storage, guard } = this.options;
    const config = this.options.config();
    const hosted = await models.hostModel();
    const model = hosted ? hosted.model.model : await models.modelName();
    const contextWindow = hosted
      ? contextWindowFor(model, config.contextWindow || hosted.contextWindow)
      : await models.contextWindowOf(model);
    const instructions = this.options.instructions?.();
    instructions?.setWindow(contextWindow);
    const chatModel = hosted?.model ?? createChatModel(config, model);
    const canAct = this.options.trusted() && this.options.folders.length > 0 && !guard.readOnly;
    this.sharedScopes = null;
    this.directory = new AgentDirectory({
      states: storage.agents,
      recall: storage.recall,
      scopes: this.scopes(),
      notice: (key, text) => storage.notices.post(key, text),
      deps: {
        model: chatModel,
        counter: hosted?.counter ?? (await createTokenCounter(model)),
        archival: archival.store,
        workspace: archival.workspaceView(),
        ...(instructions ? { instructions } : {}),
        // Restricted Mode, no folder, or a read-only window: the agent is offered no way to change anything.
        ...(canAct ? { acting: this.options.actor } : {}),
        ...(this.options.external && this.options.trusted() && !guard.readOnly ? { external: this.options.external } : {}),
      },
      settings: {
        contextWindow,
        pressureFraction: config.pressureFraction,
        stepLimit: config.stepLimit,
        embedderId: archival.embedderId,
        ...(config.coreMemoryLimits ? { coreMemoryLimits: config.coreMemoryLimits } : {}),
      },
    });
    this.stale = false;
    this.subscribed = null;
    return this.directory;
  }
}
