/**
 * WorkspaceRuntime: the composition root of one workspace's agent, shared by the extension and
 * the command line. It opens the memory in the safe order (storage lock, recall, agent states),
 * then wires the services that do the work — conversation, agent catalog, memory, workspace
 * files, archival and index, model resolution, acting, MCP servers — which its users call
 * directly (`runtime.chat.handle(…)`, `runtime.memory.remember(…)`).
 *
 * Everything the model client, the embedder, trust or the index rules depend on is rebuilt when
 * they change (`configure`, `setWorkspaceTrusted`), between turns, never under a running one.
 */
import type { HostModelSource } from './hostModels';
import { McpHub } from '../mcpClient/mcpHub';
import type { Agent } from '../agent/agent';
import type { AgentEvent } from '../agent/events';
import { Emitter } from '../base/emitter';
import { errorMessage } from '../base/errors';
import { SerialQueue } from '../base/serialQueue';
import { registerSecrets } from '../security/redact';
import { ActingService } from './actingService';
import { ActivityTracker } from './activityTracker';
import { AgentCatalog } from './agentCatalog';
import { AgentHost } from './agentHost';
import { ArchivalService } from './archivalService';
import { ConversationService } from './conversationService';
import { ReflectionService } from './reflectionService';
import { MemoryService } from './memoryService';
import { ModelResolver } from './modelResolver';
import { configImpact, folderKeyUri, type RuntimeConfig, type RuntimeFolder } from './runtimeConfig';
import { RuntimeGuard } from './runtimeGuard';
import type { RuntimeLog } from './runtimeLog';
import type { PortDisposable, RuntimeActivity, WorkspaceRuntimePort } from './runtimePort';
import { WorkspaceFilesService } from './workspaceFiles';
import { openWorkspaceStorage, type WorkspaceStorage } from './workspaceStorage';

export { RuntimeUnavailableError } from './runtimeGuard';
export type { RuntimeLog, RuntimeLogLevel } from './runtimeLog';
export type { InputSource, UserMessageNotice } from './runtimePort';

export interface WorkspaceRuntimeOptions {
  /** Global storage root: the extension's globalStorage folder, or the CLI's state folder. */
  storageRoot: string;
  folders: readonly RuntimeFolder[];
  trusted: boolean;
  config: RuntimeConfig;
  /** Shown to a second process that finds the memory locked, e.g. "editor window" or "memgpt CLI". */
  owner?: string;
  /** Extra exclude globs from the editor (`files.exclude`, `search.exclude`). */
  editorExcludes?: readonly string[];
  /** Open for reading only, without taking the storage lock (one-shot readers: search, memory, export). */
  readOnly?: boolean;
  /** Sent to MCP servers in the handshake. */
  clientVersion?: string;
  log?: RuntimeLog;
  /** The editor's own chat models (memgpt.provider "vscode-lm"); absent on the command line. */
  hostModels?: HostModelSource;
}

export class WorkspaceRuntime implements WorkspaceRuntimePort {
  private config: RuntimeConfig;
  private trusted: boolean;
  private readonly log: RuntimeLog;
  private readonly guard: RuntimeGuard;
  /** Serialises rebuilds (config, trust, rebuild index) so two never interleave. */
  private readonly rebuilds = new SerialQueue();
  private readonly agentEvents = new Emitter<AgentEvent>();
  private readonly stateEvents = new Emitter<void>();
  private readonly host: AgentHost;
  private readonly tracker: ActivityTracker;
  private readonly stopNotices: () => void;
  private closing: Promise<void> | null = null;

  readonly models: ModelResolver;
  readonly index: ArchivalService;
  /** Each file change reaches the instruction files, the cited code and the index. */
  readonly files: WorkspaceFilesService;
  /** edit_file, write_file, run_command of this workspace's agents (trusted, writable windows only). */
  readonly acting: ActingService;
  /** The MCP servers the user configured, as functions for the agent (trusted windows only). */
  readonly mcp: McpHub;
  /** Turns and the conversation as the chat shows it. */
  readonly chat: ConversationService;
  readonly agents: AgentCatalog;
  readonly memory: MemoryService;
  /** The background pass that merges duplicate items and tightens blocks, with its records and undo. */
  readonly reflection: ReflectionService;

  private constructor(
    private readonly options: WorkspaceRuntimeOptions,
    readonly storage: WorkspaceStorage,
  ) {
    this.config = options.config;
    // The keys are masked in everything this process stores or exports, wherever that happens.
    registerSecrets(options.config.apiKey);
    this.trusted = options.trusted;
    const log = (this.log = options.log ?? (() => undefined));
    const guard = (this.guard = new RuntimeGuard(storage));
    const config = (): RuntimeConfig => this.config;
    const trusted = (): boolean => this.trusted;
    const folders = options.folders;
    const rebuildsSettled = (): Promise<void> => this.rebuilds.idle();
    const coreMemoryOptions = (): { limits?: { block: number; project: number } } =>
      this.config.coreMemoryLimits ? { limits: this.config.coreMemoryLimits } : {};
    const refresh = (): void => this.tracker.refresh();

    this.models = new ModelResolver(config, log, options.hostModels);
    this.index = new ArchivalService({
      storage,
      folders,
      editorExcludes: options.editorExcludes ?? [],
      config,
      trusted,
      guard,
      log,
      rebuild: (work) => this.rebuilds.run(work),
      settleTurns: () => this.host.settle(),
      replaced: () => this.host.markStale(),
      changed: () => this.agentEvents.fire({ type: 'memory_changed', what: 'archival' }),
      cite: (store) => this.files.archival(store),
    });
    this.files = new WorkspaceFilesService(this.index);
    this.acting = new ActingService({
      checkpointsDir: storage.layout.checkpointsDir,
      roots: () => folders,
      config,
      guard,
      files: this.files,
      tell: async (text) => {
        try {
          await this.chat.enqueue({ type: 'system_alert', text });
        } catch (error) {
          log('warn', `The agent could not be told about the restore: ${errorMessage(error)}`);
        }
      },
    });
    this.mcp = new McpHub({
      folders: () => folders,
      trusted,
      settingServers: () => this.config.mcpServers,
      secretValues: () => [this.config.apiKey],
      approver: () => this.acting.actor.approver,
      log: (level, m) => log(level, m),
      ...(options.clientVersion ? { clientVersion: options.clientVersion } : {}),
    });
    this.host = new AgentHost({
      storage,
      stateRoot: options.storageRoot,
      folders,
      config,
      trusted,
      guard,
      models: this.models,
      archival: this.index,
      actor: this.acting.actor,
      external: this.mcp,
      agentEvents: this.agentEvents,
      agentChanged: () => this.stateEvents.fire(),
      instructions: () => this.files.instructions,
    });
    this.chat = new ConversationService({
      storage,
      guard,
      host: this.host,
      agentEvents: this.agentEvents,
      rebuildsSettled,
      busyChanged: refresh,
    });
    this.agents = new AgentCatalog({
      storage,
      guard,
      host: this.host,
      log,
      agentEvents: this.agentEvents,
      coreMemoryOptions,
      rebuildsSettled,
      clearView: (id) => this.chat.clearView(id),
      stateChanged: () => this.stateEvents.fire(),
    });
    this.memory = new MemoryService({
      storage,
      guard,
      host: this.host,
      archival: this.index,
      agentEvents: this.agentEvents,
      coreMemoryOptions,
      rebuildsSettled,
      rerank: { enabled: () => this.config.rerank === true, model: () => this.models.chatModel(), log },
    });
    this.reflection = new ReflectionService({
      storageDir: storage.dir,
      guard,
      config,
      models: this.models,
      archival: this.index,
      citations: () => this.files.citations,
      chat: this.chat,
      agentEvents: this.agentEvents,
      log,
      queue: new SerialQueue(),
    });
    this.tracker = new ActivityTracker({
      closed: () => guard.closed,
      readOnlyReason: () => (guard.readOnly ? guard.readOnlyReason : null),
      busy: () => this.chat.isBusy(),
      indexing: () => this.index.indexingState(),
    });
    this.index.onDidChangeIndexing(refresh);
    // Damage found while opening was posted before this runtime existed: say it now, then as it comes.
    for (const n of storage.notices.list()) log('warn', n);
    this.stopNotices = storage.notices.onPost((n) => {
      log('warn', n);
      this.stateEvents.fire();
    });
  }

  /** Opens the workspace's memory and index. Fails only when the storage itself cannot be used. */
  static async open(options: WorkspaceRuntimeOptions): Promise<WorkspaceRuntime> {
    const storage = await openWorkspaceStorage(
      options.storageRoot,
      options.folders.map((f) => folderKeyUri(f.path)),
      { owner: options.owner ?? 'editor window', ...(options.readOnly ? { lock: false } : {}) },
    );
    const runtime = new WorkspaceRuntime(options, storage);
    try {
      await runtime.index.open();
      await runtime.files.open({
        storageDir: storage.dir,
        roots: () => options.folders,
        trusted: () => runtime.trusted,
        readOnly: storage.readOnly,
        notice: (m) => storage.notices.post(m, m),
        log: (m) => runtime.log('warn', m),
      });
    } catch (error) {
      await storage.close();
      throw error;
    }
    runtime.tracker.refresh();
    // A reader that chose read-only hears about it only when someone else really holds the memory.
    if (storage.readOnly && (storage.lockHolder !== null || !options.readOnly)) {
      runtime.log('warn', storage.readOnlyReason ?? 'The memory of this workspace is read-only in this window.');
    }
    return runtime;
  }

  get folders(): readonly RuntimeFolder[] {
    return this.options.folders;
  }

  get readOnly(): boolean {
    return this.storage.readOnly;
  }

  get isTrusted(): boolean {
    return this.trusted;
  }

  get currentConfig(): RuntimeConfig {
    return this.config;
  }

  /** Applies new settings: what they invalidate is rebuilt before the next turn. */
  configure(pending: RuntimeConfig | Promise<RuntimeConfig>): Promise<void> {
    // Queued at once, even while the new values are still being read (a key from SecretStorage),
    // so a turn started after a settings change never runs on the old ones.
    return this.rebuilds.run(async () => {
      const next = await pending;
      const impact = configImpact(this.config, next);
      this.config = next;
      registerSecrets(next.apiKey);
      if (impact.chat) this.models.forget();
      if (impact.embeddings) await this.index.reopen();
      else if (impact.index) await this.index.rebuildIndexer();
      if (impact.chat || impact.embeddings || impact.index) this.host.markStale();
      if (impact.mcp) await this.mcp.reload();
      this.stateEvents.fire();
    });
  }

  setWorkspaceTrusted(trusted: boolean): Promise<void> {
    if (trusted === this.trusted) return Promise.resolve();
    return this.rebuilds.run(async () => {
      this.trusted = trusted;
      await this.index.rebuildIndexer();
      await this.files.refresh();
      this.host.markStale();
      await this.mcp.reload();
      this.stateEvents.fire();
    });
  }

  onDidChangeState(listener: () => void): PortDisposable {
    return this.stateEvents.on(listener);
  }

  storageDirs(): string[] {
    return [this.options.storageRoot, this.storage.dir];
  }

  /** Waits for the running turn and indexing (cancelled), saves, closes the index and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    // Automatic work (a login, a reflection pass) is not worth keeping the window open for.
    this.reflection.dispose();
    this.chat.preemptAutomatic();
    await this.index.close();
    await this.rebuilds.idle();
    await this.host.lastBuilt?.idle();
    this.guard.close();
    this.host.dispose();
    this.stopNotices();
    await this.files.close();
    await this.mcp.close();
    await this.index.dispose();
    await this.storage.close();
  }

  /** The active agent, built as needed. */
  agent(): Promise<Agent> {
    return this.host.agent();
  }

  activity(): RuntimeActivity {
    return this.tracker.activity();
  }

  onDidChangeActivity(listener: (activity: RuntimeActivity) => void): PortDisposable {
    return this.tracker.onDidChange(listener);
  }
}
