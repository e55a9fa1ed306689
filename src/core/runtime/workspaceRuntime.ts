/**
 * WorkspaceRuntime: the composition root of one workspace's agent, shared by the extension and
 * the command line. It opens the memory in the safe order (storage lock, recall, agent states),
 * the archival index with the configured embedder, the workspace indexer and the read-only
 * workspace view, builds the model client, and keeps one AgentDirectory over all of it.
 *
 * Everything the model client, the embedder, trust or the index rules depend on is rebuilt when
 * they change (`configure`, `setWorkspaceTrusted`), between turns, never under a running one.
 * It implements AgentRuntimePort, so the editor adapters and the CLI drive the same object.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Actor } from '../acting/actor';
import type { FileChangeApplier } from '../acting/changeApplier';
import type { OpenText } from '../acting/fileChange';
import type { Checkpoint, RestoreReport } from '../acting/checkpointStore';
import { Agent } from '../agent/agent';
import type { ApprovalRequester } from '../interfaces/approval';
import { AgentDirectory } from '../agent/agentDirectory';
import type { AgentEvent, AgentEventListener, AgentInput } from '../agent/events';
import { LocalHashEmbedder } from '../embed/localEmbedder';
import { OpenAIEmbedder } from '../embed/openaiEmbedder';
import { ArchivalIndex } from '../index/archivalIndex';
import { WorkspaceIndexer, type IndexProgress } from '../index/workspaceIndexer';
import type { ArchivalHit } from '../interfaces/archivalStore';
import type { Embedder } from '../interfaces/embedder';
import type { RecallRecord } from '../interfaces/recallStore';
import type { SymbolDefinition, SymbolLookup } from '../interfaces/symbols';
import { contextWindowFor } from '../llm/knownModels';
import { CheckpointService } from './checkpointService';
import { createChatModel } from './chatModelFactory';
import { registerSecrets } from '../security/redact';
import { CoreMemory } from '../memory/coreMemory';
import { readJsonFile, atomicWriteJson } from '../storage/atomicFile';
import { openWorkspaceStorage, type WorkspaceStorage } from '../storage/workspaceStorage';
import { createTokenCounter } from '../tokens/tokenCounter';
import { NodeWorkspace } from '../workspace/nodeWorkspace';
import type { OverlayArchivalStore } from '../team/overlayStore';
import { openSharedOverlay } from '../team/runtimeShared';
import { archivalPublishSource } from '../team/archivalSource';
import type { PublishSource } from '../team/publisher';
import { DEFAULT_ANTHROPIC_MODEL, DEFAULT_OPENAI_MODEL, MODEL_LIST_TIMEOUT_MS, OLLAMA_DEFAULT_CONTEXT_TOKENS, OLLAMA_PROBE_TIMEOUT_MS } from '../limits';
import {
  chatBaseUrl,
  chatProvider,
  configImpact,
  effectiveBaseUrl,
  embeddingsApiKey,
  folderKeyUri,
  isOpenAIEndpoint,
  requestTimeoutMs,
  type ChatProvider,
  type RuntimeConfig,
  type RuntimeFolder,
} from './runtimeConfig';
import type {
  AgentInfo,
  AgentRuntimePort,
  CoreMemoryBlockView,
  IndexProgressView,
  IndexRunSummary,
  MemoryStats,
  NewAgent,
  PortDisposable,
  RuntimeActivity,
  TurnOutcome,
} from './runtimePort';

export type RuntimeLogLevel = 'info' | 'warn' | 'error';
export type RuntimeLog = (level: RuntimeLogLevel, message: string) => void;

/** Where a user message came from: the chat echoes its own, every other source is shown by the view. */
export type InputSource = 'chat' | 'editor' | 'api' | 'cli';

/** A user message entering the runtime (the agent itself has no event for it). */
export interface UserMessageNotice {
  text: string;
  source: InputSource;
}

export interface WorkspaceRuntimeOptions {
  /** Global storage root: the extension's globalStorage folder, or the CLI's state folder. */
  storageRoot: string;
  folders: readonly RuntimeFolder[];
  trusted: boolean;
  config: RuntimeConfig;
  /** Shown to a second window that finds the memory locked, e.g. "VS Code window" or "memgpt CLI". */
  owner?: string;
  /** Extra exclude globs from the editor (`files.exclude`, `search.exclude`). */
  editorExcludes?: readonly string[];
  /** Open for reading only, without taking the storage lock (one-shot readers: search, memory, export). */
  readOnly?: boolean;
  log?: RuntimeLog;
}

/** View state kept per agent: the newest record the user hid with "Clear view". */
interface ViewFile {
  hiddenThroughSeq: Record<string, number>;
}

function validateViewFile(value: unknown): ViewFile {
  const hidden = (value as Partial<ViewFile> | null)?.hiddenThroughSeq;
  if (!hidden || typeof hidden !== 'object') throw new Error('hiddenThroughSeq is missing');
  return { hiddenThroughSeq: Object.fromEntries(Object.entries(hidden).filter(([, v]) => typeof v === 'number')) };
}

class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();
  on(listener: (value: T) => void): PortDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }
  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch {
        // A failing listener (a closed view) must not break the agent or other listeners.
      }
    }
  }
}

export class RuntimeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUnavailableError';
  }
}

export class WorkspaceRuntime implements AgentRuntimePort {
  private config: RuntimeConfig;
  private trusted: boolean;
  private archival!: ArchivalIndex;
  /** The shared team index with local changes laid over it (memgpt.index.sharedStore), else null. */
  private shared: OverlayArchivalStore | null = null;
  private embedder!: Embedder;
  private indexer: WorkspaceIndexer | null = null;
  private indexerProgress: { dispose(): void } | null = null;
  /** The agent's read-only view of the files; its cached listing is dropped when files come and go. */
  private workspace: NodeWorkspace | null = null;
  private directory: AgentDirectory | null = null;
  private directoryStale = true;
  private resolvedModel: string | null = null;
  private subscribedAgent: Agent | null = null;
  private unsubscribeAgent: (() => void) | null = null;
  private busyTurns = 0;
  private readonly turnControllers = new Set<AbortController>();
  private indexing: { controller: AbortController; run: Promise<IndexRunSummary> } | null = null;
  private lastIndexProgress: IndexProgress | null = null;
  private currentActivity: RuntimeActivity = { kind: 'starting' };
  private agentChain: Promise<unknown> = Promise.resolve();
  /** Serialises rebuilds (config, trust, rebuild index) so two never interleave. */
  private rebuildChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** edit_file, write_file, run_command of this workspace's agents (trusted, writable windows only). */
  readonly actor: Actor;
  private readonly checkpoints: CheckpointService;

  private readonly agentEvents = new Emitter<AgentEvent>();
  private readonly userMessages = new Emitter<UserMessageNotice>();
  private readonly activityEvents = new Emitter<RuntimeActivity>();
  private readonly indexEvents = new Emitter<IndexProgressView>();
  private readonly stateEvents = new Emitter<void>();
  private readonly log: RuntimeLog;

  private constructor(
    private readonly options: WorkspaceRuntimeOptions,
    readonly storage: WorkspaceStorage,
  ) {
    this.config = options.config;
    // The keys are masked in everything this process stores or exports, wherever that happens.
    registerSecrets(options.config.apiKey);
    this.trusted = options.trusted;
    this.log = options.log ?? (() => undefined);
    this.checkpoints = new CheckpointService({
      dir: storage.layout.checkpointsDir,
      roots: () => this.options.folders,
      reindexFile: (abs) => this.reindexFile(abs),
      removeFile: (abs) => this.removeFile(abs),
      tell: async (text) => {
        try {
          await this.enqueue({ type: 'system_alert', text });
        } catch (error) {
          this.log('warn', `The agent could not be told about the restore: ${message(error)}`);
        }
      },
    });
    this.actor = new Actor({
      roots: () => this.options.folders,
      settings: () => this.config.approval ?? { edits: 'ask', commands: 'ask', allowedCommands: [] },
      checkpoints: () => this.checkpoints.store(),
      secretValues: () => [this.config.apiKey],
    });
    // Damage found while opening was posted before this runtime existed: say it now, then as it comes.
    for (const n of storage.notices.list()) this.log('warn', n);
    this.stopNotices = storage.notices.onPost((n) => {
      this.log('warn', n);
      this.stateEvents.fire();
    });
  }

  private readonly stopNotices: () => void;

  /**
   * What the user must know about this memory: damaged files kept aside, a pointer recovered, an
   * index rebuilt. Shown by the chat (standing notice), the CLI (stderr) and `memgpt memory`.
   */
  notices(): string[] {
    return this.storage.notices.list();
  }

  /** Opens the workspace's memory and index. Fails only when the storage itself cannot be used. */
  static async open(options: WorkspaceRuntimeOptions): Promise<WorkspaceRuntime> {
    const storage = await openWorkspaceStorage(
      options.storageRoot,
      options.folders.map((f) => folderKeyUri(f.path)),
      { owner: options.owner ?? 'VS Code window', ...(options.readOnly ? { lock: false } : {}) },
    );
    const runtime = new WorkspaceRuntime(options, storage);
    try {
      await runtime.openArchival();
      runtime.buildIndexer();
    } catch (error) {
      await storage.close();
      throw error;
    }
    runtime.setActivity(storage.readOnly ? { kind: 'read-only', reason: storage.readOnlyReason ?? 'Another window holds this memory.' } : { kind: 'idle' });
    // A reader that chose read-only hears about it only when someone else really holds the memory.
    if (storage.readOnly && (storage.lockHolder !== null || !options.readOnly)) {
      runtime.log('warn', storage.readOnlyReason ?? 'The memory of this workspace is read-only in this window.');
    }
    return runtime;
  }

  // ─── Building the parts ───────────────────────────────────────────────────

  get folders(): readonly RuntimeFolder[] {
    return this.options.folders;
  }

  get readOnly(): boolean {
    return this.storage.readOnly;
  }

  get isTrusted(): boolean {
    return this.trusted;
  }

  get embedderId(): string {
    return this.embedder.id;
  }

  get currentConfig(): RuntimeConfig {
    return this.config;
  }

  private async makeEmbedder(): Promise<Embedder> {
    const e = this.config.embeddings;
    if (e.baseUrl.trim() === '') return new LocalHashEmbedder();
    try {
      const apiKey = embeddingsApiKey(this.config);
      return await OpenAIEmbedder.connect({
        baseUrl: effectiveBaseUrl(e.baseUrl),
        model: e.model,
        timeoutMs: requestTimeoutMs(this.config),
        ...(apiKey ? { apiKey } : {}),
      });
    } catch (error) {
      // Searching with the local embedder beats no archival memory at all; the user is told.
      this.log('warn', `The embeddings endpoint ${e.baseUrl} could not be used (${message(error)}). Archival memory uses the local embedder until it can.`);
      return new LocalHashEmbedder();
    }
  }

  private async openArchival(): Promise<void> {
    this.embedder = await this.makeEmbedder();
    this.archival = await ArchivalIndex.open({
      dir: this.storage.layout.archivalDir,
      embedder: this.embedder,
      log: (m: string) => this.log('info', m),
      // Derived data rebuilt, or damaged lines in what the user asked to remember: said, never silent.
      notice: (m: string) => this.storage.notices.post(m, m),
      readOnly: this.storage.readOnly,
    });
    await this.shared?.close();
    this.shared = openSharedOverlay({
      config: this.config.sharedStore,
      folders: this.options.folders.map((f) => f.path),
      local: this.archival,
      notice: (m: string) => this.storage.notices.post(m, m),
      log: (m: string) => this.log('info', m),
    });
  }

  /** The local index's workspace chunks, for publishing to the shared store (`memgpt index --store`). */
  publishSource(): PublishSource {
    return archivalPublishSource(this.archival);
  }

  private buildIndexer(): void {
    this.indexerProgress?.dispose();
    this.indexer = null;
    if (!this.trusted || this.options.folders.length === 0) return;
    this.indexer = new WorkspaceIndexer({
      roots: this.options.folders,
      archival: this.archival,
      excludeGlobs: [...this.config.index.exclude, ...(this.options.editorExcludes ?? [])],
      includeGlobs: this.config.index.include,
      maxFileBytes: this.config.index.maxFileBytes,
      log: (m) => this.log('info', m),
    });
    this.indexerProgress = this.indexer.onProgress((p) => this.onIndexerProgress(p));
  }

  private workspaceView(): NodeWorkspace {
    this.workspace = new NodeWorkspace(this.options.folders, {
      trusted: this.trusted,
      excludeGlobs: [...this.config.index.exclude, ...(this.options.editorExcludes ?? [])],
    });
    return this.workspace;
  }

  /**
   * The window to plan for: the setting, else the known-model table, except on Ollama, which runs
   * models with a smaller context than they were trained for unless told otherwise.
   */
  private async contextWindowOf(model: string): Promise<number> {
    if (this.config.contextWindow > 0) return contextWindowFor(model, this.config.contextWindow);
    const known = contextWindowFor(model);
    if (isOpenAIEndpoint(this.config.baseUrl) || chatProvider(this.config) === 'anthropic' || known <= OLLAMA_DEFAULT_CONTEXT_TOKENS) return known;
    if (!(await isOllama(this.config.baseUrl))) return known;
    this.log(
      'warn',
      `The server is Ollama, which runs "${model}" with ${OLLAMA_DEFAULT_CONTEXT_TOKENS} tokens of context by default and silently cuts longer prompts, ` +
        `so MemGPT plans for ${OLLAMA_DEFAULT_CONTEXT_TOKENS} (the model was trained for ${known}). For more, start Ollama with OLLAMA_CONTEXT_LENGTH=<n> ` +
        'and set MemGPT: Context Window (or --context-window) to the same n.',
    );
    return OLLAMA_DEFAULT_CONTEXT_TOKENS;
  }

  /** The model name to use: the setting, else OpenAI's default, else the server's first model. */
  private async modelName(): Promise<string> {
    if (this.config.model.trim() !== '') return this.config.model.trim();
    if (chatProvider(this.config) === 'anthropic') return DEFAULT_ANTHROPIC_MODEL;
    if (isOpenAIEndpoint(this.config.baseUrl)) return DEFAULT_OPENAI_MODEL;
    if (this.resolvedModel) return this.resolvedModel;
    const models = await this.listModels({ signal: AbortSignal.timeout(MODEL_LIST_TIMEOUT_MS) }).catch((error: unknown) => {
      throw new RuntimeUnavailableError(
        `No model is set and the server at ${chatBaseUrl(this.config)} did not list its models (${message(error)}). ` +
          'Set MemGPT: Model (or --model), or check that the server is running.',
      );
    });
    const first = models[0];
    if (!first) {
      throw new RuntimeUnavailableError(
        `The server at ${chatBaseUrl(this.config)} lists no models. Load or pull a model there (e.g. \`ollama pull llama3.1\`), then try again.`,
      );
    }
    this.resolvedModel = first;
    this.log('info', `No model set; using "${first}", the first model the server lists.`);
    return first;
  }

  private async agentDirectory(): Promise<AgentDirectory> {
    if (this.directory && !this.directoryStale) return this.directory;
    const old = this.directory;
    if (old) await (await old.active()).idle();
    const model = await this.modelName();
    const contextWindow = await this.contextWindowOf(model);
    const chatModel = createChatModel(this.config, model);
    this.directory = new AgentDirectory({
      states: this.storage.agents,
      recall: this.storage.recall,
      deps: {
        model: chatModel,
        counter: await createTokenCounter(model),
        archival: this.shared ?? this.archival,
        workspace: this.workspaceView(),
        // Restricted Mode, no folder, or a read-only window: the agent is offered no way to change anything.
        ...(this.trusted && this.options.folders.length > 0 && !this.readOnly ? { acting: this.actor } : {}),
      },
      settings: {
        contextWindow,
        pressureFraction: this.config.pressureFraction,
        stepLimit: this.config.stepLimit,
        embedderId: this.embedder.id,
        ...(this.config.coreMemoryLimits ? { coreMemoryLimits: this.config.coreMemoryLimits } : {}),
      },
    });
    this.directoryStale = false;
    this.subscribedAgent = null;
    return this.directory;
  }

  /**
   * The active agent, (re)built as needed, with its events forwarded to this runtime's listeners.
   * Serialised, so callers at once (chat, login event, commands) never build two directories.
   */
  agent(): Promise<Agent> {
    const run = this.agentChain.then(() => this.resolveAgent());
    this.agentChain = run.catch(() => undefined);
    return run;
  }

  /** The directory for callers outside agent(): built in the same queue, so never twice. */
  private sharedDirectory(): Promise<AgentDirectory> {
    const run = this.agentChain.then(() => this.agentDirectory());
    this.agentChain = run.catch(() => undefined);
    return run;
  }

  private async resolveAgent(): Promise<Agent> {
    this.assertOpen();
    const agent = await (await this.agentDirectory()).active();
    if (agent !== this.subscribedAgent) {
      this.unsubscribeAgent?.();
      this.subscribedAgent = agent;
      this.unsubscribeAgent = agent.onEvent((e) => this.agentEvents.fire(e));
      this.stateEvents.fire();
    }
    return agent;
  }

  private rebuild<T>(work: () => Promise<T>): Promise<T> {
    const run = this.rebuildChain.then(work);
    this.rebuildChain = run.catch(() => undefined);
    return run;
  }

  /** Applies new settings: what they invalidate is rebuilt before the next turn. */
  configure(next: RuntimeConfig): Promise<void> {
    return this.rebuild(async () => {
      const impact = configImpact(this.config, next);
      this.config = next;
      registerSecrets(next.apiKey);
      if (impact.chat) this.resolvedModel = null;
      if (impact.embeddings) {
        await this.cancelIndexing();
        await this.settleTurns();
        await this.archival.close();
        await this.openArchival();
        this.buildIndexer();
      } else if (impact.index) {
        await this.cancelIndexing();
        this.buildIndexer();
      }
      if (impact.chat || impact.embeddings || impact.index) this.directoryStale = true;
      this.stateEvents.fire();
    });
  }

  private async settleTurns(): Promise<void> {
    if (this.directory) await (await this.directory.active()).idle();
  }

  // ─── AgentRuntimePort: the active agent ────────────────────────────────────

  async handle(
    input: AgentInput,
    options: { signal?: AbortSignal; onEvent?: (event: AgentEvent) => void; source?: InputSource; approver?: ApprovalRequester } = {},
  ): Promise<TurnOutcome> {
    this.assertWritable('chat');
    await this.rebuildChain;
    this.busyTurns++;
    this.refreshActivity();
    const controller = new AbortController();
    this.turnControllers.add(controller);
    try {
      if (input.type === 'user_message') this.userMessages.fire({ text: input.text, source: options.source ?? 'api' });
      const agent = await this.agent();
      const result = await agent.handle(input, {
        signal: options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.approver ? { approver: options.approver } : {}),
      });
      return { reason: result.reason, messages: result.messages, ...(result.error !== undefined ? { error: result.error } : {}) };
    } catch (error) {
      // The agent never rejects for model errors; this is setup (no model, tiny window): tell the view too.
      const text = message(error);
      const event: AgentEvent = { type: 'error', message: text, recoverable: false };
      options.onEvent?.(event);
      this.agentEvents.fire(event);
      this.agentEvents.fire({ type: 'turn_finished', reason: 'error' });
      return { reason: 'error', messages: [], error: text };
    } finally {
      this.turnControllers.delete(controller);
      this.busyTurns--;
      this.refreshActivity();
    }
  }

  /** Stops every running or waiting turn, whoever started it (chat, a command, the API). */
  cancelTurns(): void {
    for (const c of this.turnControllers) c.abort();
  }

  async enqueue(input: AgentInput): Promise<void> {
    this.assertWritable('record editor events');
    await (await this.agent()).enqueue(input);
  }

  onEvent(listener: AgentEventListener): PortDisposable {
    return this.agentEvents.on(listener);
  }

  /** User messages entering the runtime, with where they came from. */
  onUserMessage(listener: (notice: UserMessageNotice) => void): PortDisposable {
    return this.userMessages.on(listener);
  }

  /** Agents added, switched, reset or rebuilt; settings applied. */
  onDidChangeState(listener: () => void): PortDisposable {
    return this.stateEvents.on(listener);
  }

  isBusy(): boolean {
    return this.busyTurns > 0;
  }

  async lastLogin(): Promise<string | null> {
    return (await this.storage.agents.loadActive())?.lastLogin ?? null;
  }

  // ─── Acting: approval, how files are written, checkpoints ──────────────────

  /** Who approves edits and commands when a turn brings no requester of its own (the chat card). */
  setApprover(approver: ApprovalRequester | undefined): void {
    this.actor.approver = approver;
  }

  /** How approved changes are written (VS Code: WorkspaceEdit); default straight to disk. */
  setFileChangeApplier(applier: FileChangeApplier, openText?: OpenText): void {
    this.actor.applier = applier;
    this.actor.openText = openText;
  }

  /** True once for a file the agent itself just wrote: its save is not news for the agent. */
  isAgentWrite(absPath: string): boolean {
    return this.actor.isOwnWrite(absPath);
  }

  /** Checkpoints of this workspace, newest first. */
  listCheckpoints(): Promise<Checkpoint[]> {
    return this.checkpoints.list();
  }

  /** Brings checkpoint `id`'s files back and tells the agent (CheckpointService.restore). */
  async restoreCheckpoint(id: string): Promise<RestoreReport> {
    this.assertWritable('restore checkpoints');
    return this.checkpoints.restore(id);
  }

  // ─── Memory ───────────────────────────────────────────────────────────────

  async remember(text: string, provenance?: { path: string; startLine: number; endLine: number }): Promise<string> {
    this.assertWritable('remember anything');
    const id = await this.archival.insertMemory(text, provenance);
    await this.archival.flush();
    this.agentEvents.fire({ type: 'memory_changed', what: 'archival' });
    return id;
  }

  async searchMemory(query: string, options: { limit: number; signal?: AbortSignal }): Promise<{ recall: RecallRecord[]; archival: ArchivalHit[] }> {
    const agentId = await this.storage.agents.activeAgentId();
    const recall = agentId ? this.storage.recall.search(agentId, query, 0, options.limit).records : [];
    const archival = await this.searchArchival(query, options);
    return { recall, archival };
  }

  /** The live core memory of the running agent, else the saved one. */
  private async coreMemoryOf(agentId?: string): Promise<CoreMemory> {
    const activeId = await this.storage.agents.activeAgentId();
    if (agentId === undefined || agentId === activeId) {
      if (this.subscribedAgent && !this.directoryStale && this.subscribedAgent.id === (agentId ?? activeId)) return this.subscribedAgent.coreMemory;
      if (!activeId) return (await this.agent()).coreMemory;
      agentId = activeId;
    }
    return CoreMemory.fromJSON((await this.storage.agents.load(agentId)).coreMemory, this.coreMemoryOptions());
  }

  private coreMemoryOptions(): { limits?: { block: number; project: number } } {
    return this.config.coreMemoryLimits ? { limits: this.config.coreMemoryLimits } : {};
  }

  async coreMemory(agentId?: string): Promise<CoreMemoryBlockView[]> {
    const core = await this.coreMemoryOf(agentId);
    return core.labels.map((label) => ({ label, value: core.get(label), limit: core.limit(label) }));
  }

  async setCoreMemoryBlock(label: string, value: string): Promise<void> {
    this.assertWritable('change core memory');
    await this.rebuildChain;
    await (await this.agent()).editCoreMemory(label, value);
  }

  async memoryStats(agentId?: string): Promise<MemoryStats> {
    const activeId = await this.storage.agents.activeAgentId();
    const id = agentId ?? activeId ?? undefined;
    const isActive = id !== undefined && id === activeId;
    const agent = isActive && this.subscribedAgent?.id === id ? this.subscribedAgent : null;
    return {
      recallCount: id ? this.storage.recall.count(id) : 0,
      archivalCount: this.archival.count(),
      ...(agent ? { contextUsage: agent.usage() } : {}),
    };
  }

  /** Definitions and references of the locally indexed code (`memgpt symbols`). */
  get symbols(): SymbolLookup {
    return this.archival.symbols;
  }

  matchSymbols(text: string, limit: number): SymbolDefinition[] {
    return this.archival.symbols.match(text, limit);
  }

  /** Archival counts by source (workspace chunks, memories). */
  archivalCounts(): { workspace: number; memory: number } {
    return { workspace: this.archival.count('workspace'), memory: this.archival.count('memory') };
  }

  // ─── Agents ───────────────────────────────────────────────────────────────

  async listAgents(): Promise<AgentInfo[]> {
    const list = await this.storage.agents.list();
    if (list.agents.length === 0 && !this.readOnly) {
      await this.agent(); // creates the default agent
      return this.listAgents();
    }
    const activeId = await this.storage.agents.activeAgentId();
    for (const u of list.unavailable) this.log('warn', `Agent file ${u.file} is unavailable: ${u.reason}`);
    return list.agents.map((a) => ({
      id: a.id,
      name: a.name,
      active: a.id === activeId,
      personaPreset: a.personaPreset,
      humanPreset: a.humanPreset,
    }));
  }

  async createAgent(init: NewAgent): Promise<{ id: string; name: string }> {
    this.assertWritable('create agents');
    await this.rebuildChain;
    const directory = await this.sharedDirectory();
    const state = await directory.create({
      name: init.name,
      ...(init.personaPreset ? { personaPreset: init.personaPreset } : {}),
      ...(init.humanPreset ? { humanPreset: init.humanPreset } : {}),
      makeActive: false,
    });
    if (init.persona !== undefined || init.human !== undefined) {
      // Own texts (MemGPT's create_agent persona=/human=): validated against the block limits.
      const core = CoreMemory.fromJSON(state.coreMemory, this.coreMemoryOptions());
      if (init.persona !== undefined) core.setBlock('persona', init.persona);
      if (init.human !== undefined) core.setBlock('human', init.human);
      await this.storage.agents.save({ ...state, coreMemory: core.toJSON() });
    }
    if (init.makeActive !== false) await this.switchAgent(state.id);
    this.stateEvents.fire();
    return { id: state.id, name: state.name };
  }

  async switchAgent(id: string): Promise<void> {
    this.assertWritable('switch agents');
    await this.rebuildChain;
    if (!(await this.storage.agents.exists(id))) throw new Error(`There is no agent with id "${id}" in this workspace.`);
    await (await this.sharedDirectory()).switchTo(id);
    await this.agent();
    this.stateEvents.fire();
  }

  async resetAgent(id: string): Promise<void> {
    this.assertWritable('reset agents');
    await this.rebuildChain;
    await (await this.sharedDirectory()).reset(id);
    await this.clearView(id);
    this.subscribedAgent = null;
    await this.agent();
    this.agentEvents.fire({ type: 'memory_changed', what: 'core' });
    this.stateEvents.fire();
  }

  /** Needs no model: a running turn of that agent is awaited, then its state and recall are read. */
  async exportAgent(id: string): Promise<unknown> {
    await this.rebuildChain;
    if (this.subscribedAgent?.id === id) await this.subscribedAgent.idle();
    return this.storage.agents.exportAgent(id, this.storage.recall);
  }

  async importAgent(data: unknown): Promise<{ id: string; name: string }> {
    this.assertWritable('import agents');
    await this.rebuildChain;
    const state = await (await this.sharedDirectory()).importAgent(data);
    this.stateEvents.fire();
    return { id: state.id, name: state.name };
  }

  // ─── The conversation as the chat shows it ─────────────────────────────────

  private viewFile(): string {
    return path.join(this.storage.dir, 'view.json');
  }

  private async hiddenThrough(agentId: string): Promise<number> {
    const view = await readJsonFile(this.viewFile(), validateViewFile, { readOnly: this.readOnly }).catch(() => null);
    const seq = view?.hiddenThroughSeq?.[agentId];
    return typeof seq === 'number' ? seq : -1;
  }

  /** Hides the conversation so far from the chat (memory untouched), also after a reload. */
  async clearView(agentId?: string): Promise<void> {
    const id = agentId ?? (await this.agent()).id;
    const newest = this.storage.recall.page(id, undefined, 1)[0];
    if (!newest || this.readOnly) return;
    const view = (await readJsonFile(this.viewFile(), validateViewFile, { readOnly: this.readOnly }).catch(() => null)) ?? { hiddenThroughSeq: {} };
    await atomicWriteJson(this.viewFile(), { hiddenThroughSeq: { ...view.hiddenThroughSeq, [id]: newest.seq } } satisfies ViewFile);
  }

  /** Recall records of the active agent before `beforeSeq`, oldest first, not hidden by clearView. */
  async conversation(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]> {
    const id = await this.storage.agents.activeAgentId();
    if (!id) return [];
    const hidden = await this.hiddenThrough(id);
    return this.storage.recall.page(id, beforeSeq, limit).filter((r) => r.seq > hidden);
  }

  async hasConversationBefore(seq: number): Promise<boolean> {
    return (await this.conversation(seq, 1)).length > 0;
  }

  /** Usage of the active agent's window, when it is open. */
  contextUsage(): ReturnType<Agent['usage']> | undefined {
    return this.subscribedAgent && !this.directoryStale ? this.subscribedAgent.usage() : undefined;
  }

  activeAgentIdNow(): string | undefined {
    return this.subscribedAgent?.id;
  }

  // ─── Workspace index ──────────────────────────────────────────────────────

  indexWorkspace(options: { rebuild?: boolean; signal?: AbortSignal } = {}): Promise<IndexRunSummary> {
    if (this.indexing && !options.rebuild) return this.indexing.run;
    const controller = new AbortController();
    const relay = (): void => controller.abort();
    options.signal?.addEventListener('abort', relay, { once: true });
    const run = (async (): Promise<IndexRunSummary> => {
      if (options.rebuild && this.indexing) await this.cancelIndexing();
      this.assertWritable('index the workspace');
      if (!this.trusted) {
        throw new Error('This workspace is in Restricted Mode: MemGPT indexes no files until you trust it (Manage Workspace Trust).');
      }
      if (this.options.folders.length === 0) throw new Error('No folder is open, so there is nothing to index. Open a folder first.');
      if (options.rebuild) await this.rebuild(() => this.dropWorkspaceIndex());
      const indexer = this.indexer;
      if (!indexer) throw new Error('The workspace index is not available in this window.');
      const result = await indexer.indexAll({ signal: controller.signal });
      await this.archival.flush();
      this.agentEvents.fire({ type: 'memory_changed', what: 'archival' });
      return result;
    })();
    const entry = { controller, run };
    this.indexing = entry;
    const done = (): void => {
      options.signal?.removeEventListener('abort', relay);
      if (this.indexing === entry) this.indexing = null;
      this.lastIndexProgress = null;
      this.refreshActivity();
    };
    run.then(done, done);
    return run;
  }

  /** Rebuild: the workspace chunks and catalog go; remembered items stay (they are re-embedded from their log). */
  private async dropWorkspaceIndex(): Promise<void> {
    await this.settleTurns();
    const folder = this.archival.folder;
    await this.archival.close();
    await fsp.rm(folder, { recursive: true, force: true });
    await this.openArchival();
    this.buildIndexer();
    this.directoryStale = true;
  }

  private async cancelIndexing(): Promise<void> {
    const current = this.indexing;
    if (!current) return;
    current.controller.abort();
    this.indexer?.resume();
    await current.run.catch(() => undefined);
  }

  pauseIndexing(): void {
    this.indexer?.pause();
    this.refreshActivity();
  }

  resumeIndexing(): void {
    this.indexer?.resume();
    this.refreshActivity();
  }

  async reindexFile(absPath: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.readOnly) return;
    await this.indexer.indexFile(absPath);
  }

  /** A file was deleted (or a folder): its chunks leave the index. */
  async removeFile(absPath: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.readOnly) return;
    await this.indexer.removeFile(absPath);
  }

  async renameFile(oldAbs: string, newAbs: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.readOnly) return;
    await this.indexer.renameFile(oldAbs, newAbs);
  }

  onIndexProgress(listener: (progress: IndexProgressView) => void): PortDisposable {
    return this.indexEvents.on(listener);
  }

  private onIndexerProgress(p: IndexProgress): void {
    this.lastIndexProgress = p.phase === 'discovering' || p.phase === 'indexing' ? p : null;
    this.indexEvents.fire({
      phase: p.phase,
      filesDone: p.filesDone,
      filesTotal: p.filesTotal,
      ...(p.currentFile !== undefined ? { currentFile: p.currentFile } : {}),
      ...(p.error !== undefined ? { error: p.error } : {}),
    });
    this.refreshActivity();
  }

  /** Archival search for the CLI and tests (hybrid, both sources unless filtered). */
  searchArchival(query: string, options: { limit: number; source?: 'workspace' | 'memory'; pathGlob?: string; signal?: AbortSignal }): Promise<ArchivalHit[]> {
    return (this.shared ?? this.archival)
      .search(query, {
        pageSize: options.limit,
        ...(options.source ? { source: options.source } : {}),
        ...(options.pathGlob ? { pathGlob: options.pathGlob } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      .then((r) => r.hits);
  }

  // ─── Model server ─────────────────────────────────────────────────────────

  async listModels(options: { baseUrl?: string; provider?: ChatProvider; apiKey?: string; signal?: AbortSignal } = {}): Promise<string[]> {
    const baseUrl = options.baseUrl ?? this.config.baseUrl;
    const apiKey = options.apiKey ?? (options.baseUrl === undefined ? this.config.apiKey : undefined);
    // The configured provider for the configured server; another URL (a local server being probed) by its own address.
    const configured = options.provider ?? (options.baseUrl === undefined ? this.config.provider : undefined);
    const provider = chatProvider({ baseUrl, ...(configured ? { provider: configured } : {}) });
    const client = createChatModel(
      { provider, baseUrl, ...(apiKey ? { apiKey } : {}), temperature: this.config.temperature, ...(this.config.requestTimeoutSeconds !== undefined ? { requestTimeoutSeconds: this.config.requestTimeoutSeconds } : {}) },
      'model-list',
      { maxRetries: 0 },
    );
    return client.listModels(options.signal);
  }

  // ─── Window state ─────────────────────────────────────────────────────────

  activity(): RuntimeActivity {
    return this.currentActivity;
  }

  onDidChangeActivity(listener: (activity: RuntimeActivity) => void): PortDisposable {
    return this.activityEvents.on(listener);
  }

  private setActivity(next: RuntimeActivity): void {
    if (JSON.stringify(next) === JSON.stringify(this.currentActivity)) return;
    this.currentActivity = next;
    this.activityEvents.fire(next);
  }

  private refreshActivity(): void {
    if (this.closed) return;
    if (this.readOnly) {
      this.setActivity({ kind: 'read-only', reason: this.storage.readOnlyReason ?? 'Another window holds this memory.' });
    } else if (this.busyTurns > 0) {
      this.setActivity({ kind: 'thinking' });
    } else if (this.indexing) {
      const p = this.lastIndexProgress;
      this.setActivity({ kind: 'indexing', filesDone: p?.filesDone ?? 0, filesTotal: p?.filesTotal ?? 0, paused: this.indexer?.isPaused ?? false });
    } else {
      this.setActivity({ kind: 'idle' });
    }
  }

  setWorkspaceTrusted(trusted: boolean): Promise<void> {
    if (trusted === this.trusted) return Promise.resolve();
    return this.rebuild(async () => {
      this.trusted = trusted;
      if (!trusted) await this.cancelIndexing();
      this.buildIndexer();
      this.directoryStale = true;
      this.stateEvents.fire();
    });
  }

  storageDirs(): string[] {
    return [this.options.storageRoot, this.storage.dir];
  }

  // ─── Lifecycle ────────────────────────────────────────────────────────────

  private assertOpen(): void {
    if (this.closed) throw new RuntimeUnavailableError('The MemGPT runtime of this window was closed.');
  }

  private assertWritable(what: string): void {
    this.assertOpen();
    if (this.readOnly) {
      throw new RuntimeUnavailableError(
        `MemGPT cannot ${what} in this window: ${this.storage.readOnlyReason ?? 'another window holds this workspace’s memory'}`,
      );
    }
  }

  private closing: Promise<void> | null = null;

  /** Waits for the running turn and indexing (cancelled), saves, closes the index and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    await this.cancelIndexing();
    await this.rebuildChain;
    if (this.directory && this.subscribedAgent) await this.subscribedAgent.idle();
    this.closed = true;
    this.unsubscribeAgent?.();
    this.stopNotices();
    this.indexerProgress?.dispose();
    await this.indexer?.dispose();
    await this.shared?.close();
    await this.archival.close();
    await this.storage.close();
  }
}

/** Ollama answers GET <origin>/api/version with {"version": ...}; other servers do not. */
async function isOllama(baseUrl: string): Promise<boolean> {
  try {
    const origin = new URL(effectiveBaseUrl(baseUrl)).origin;
    const response = await fetch(`${origin}/api/version`, { signal: AbortSignal.timeout(OLLAMA_PROBE_TIMEOUT_MS) });
    if (!response.ok) return false;
    const body = (await response.json()) as { version?: unknown };
    return typeof body.version === 'string';
  } catch {
    return false;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
