/**
 * The runtime of one workspace as its users see it: one small interface per service
 * (conversation, agent catalog, memory, index, models, acting, window state), implemented by the
 * services in this folder and put together by WorkspaceRuntime. The editor adapters and the
 * command line depend on these interfaces, never on the classes, so they are tested against small
 * in-memory ports. AgentRuntimePort is the part the editor integration (commands, file events,
 * status bar, extension API) needs.
 *
 * "Active agent" = the agent the chat shows. Every method that fails throws an Error whose
 * message is fit for the user (what happened, why, what to do); adapters redact and show it.
 */
import type { FileChangeApplier } from '../acting/changeApplier';
import type { Checkpoint, RestoreReport } from '../acting/checkpointStore';
import type { OpenText } from '../acting/fileChange';
import type { Agent } from '../agent/agent';
import type { AgentEvent, AgentInput, ContextUsage } from '../agent/events';
import type { ApprovalRequester } from '../interfaces/approval';
import type { ChatModel } from '../interfaces/chatModel';
import type { BlockScope } from '../memory/coreMemory';
import type { ArchivalHit } from '../interfaces/archivalStore';
import type { RecallRecord } from '../interfaces/recallStore';
import type { SymbolDefinition, SymbolLookup } from '../interfaces/symbols';
import type { IndexRunResult } from '../index/workspaceIndexer';
import type { InstructionSnapshot } from '../memory/instructionFiles';
import type { Disposable } from '../base/disposable';
import type { WorkspaceStorage } from './workspaceStorage';
import type { PublishSource } from '../team/publisher';
import type { ChatProvider, RuntimeConfig, RuntimeFolder } from './runtimeConfig';
import type { McpHub } from '../mcpClient/mcpHub';
import type { ReflectionPort } from './reflectionService';

/** The project's instruction files as the agent sees them (read-only), with what was left out and why. */
export type InstructionFilesView = InstructionSnapshot;

export type PortDisposable = Disposable;

/** Where a user message came from: the chat echoes its own, every other source is shown by the view. */
export type InputSource = 'chat' | 'editor' | 'api' | 'cli';

/** A user message entering the runtime (the agent itself has no event for it). */
export interface UserMessageNotice {
  text: string;
  source: InputSource;
}

export interface TurnOptions {
  signal?: AbortSignal;
  onEvent?: (event: AgentEvent) => void;
  source?: InputSource;
  /** Who approves this turn's edits and commands; else the runtime's own approver (the chat card). */
  approver?: ApprovalRequester;
  /** The model that answers this turn (a chat view's own model picker); else the agent's. */
  model?: ChatModel;
  /**
   * A turn nobody asked for; default: login, timer and file wake-ups are, everything else is not.
   * A turn that is not automatic cancels the automatic ones first (they end as `preempted`).
   */
  automatic?: boolean;
}

/** What the status bar shows. */
export type RuntimeActivity =
  | { kind: 'starting' }
  | { kind: 'idle' }
  | { kind: 'thinking' }
  | { kind: 'indexing'; filesDone: number; filesTotal: number; paused: boolean }
  /** Another window of this workspace holds the storage lock: chat works, memory is not written. */
  | { kind: 'read-only'; reason: string }
  | { kind: 'failed'; message: string };

export interface TurnOutcome {
  reason: Extract<AgentEvent, { type: 'turn_finished' }>['reason'];
  /** Texts the agent sent with send_message in this turn. */
  messages: string[];
  error?: string;
}

export interface CoreMemoryBlockView {
  label: string;
  value: string;
  /** Character limit (Unicode code points, as CoreMemory counts). */
  limit: number;
  /** Who shares the block: the user (every workspace), this workspace's agents, or the agent alone (also when absent). */
  scope?: BlockScope;
  /** What belongs in it (blocks the agent created). */
  description?: string;
}

export interface MemoryStats {
  recallCount: number;
  archivalCount: number;
  /** Undefined before the agent's first step in this window. */
  contextUsage?: ContextUsage;
}

export interface AgentInfo {
  id: string;
  name: string;
  active: boolean;
  personaPreset?: string;
  humanPreset?: string;
}

export interface NewAgent {
  name: string;
  /** Preset names (PERSONA_PRESETS / HUMAN_PRESETS); default presets when absent. */
  personaPreset?: string;
  humanPreset?: string;
  /** Own starting text for the block, instead of the preset's (MemGPT's create_agent persona=/human=). */
  persona?: string;
  human?: string;
  /** Default true: the new agent becomes the active one. */
  makeActive?: boolean;
}

/** What one index pass did (the indexer's own result). */
export type IndexRunSummary = IndexRunResult;

export interface IndexProgressView {
  phase: 'discovering' | 'indexing' | 'done' | 'cancelled' | 'failed';
  filesDone: number;
  filesTotal: number;
  currentFile?: string;
  error?: string;
}

/** Turns of the active agent, and the conversation as the chat shows it. */
export interface ConversationPort {
  /** Runs one event to completion on the active agent (a user message, a wake-up). */
  handle(input: AgentInput, options?: TurnOptions): Promise<TurnOutcome>;
  /** Queues an event for the active agent's next step, without a model call. Durable on return. */
  enqueue(input: AgentInput): Promise<void>;
  /** Stops every running or waiting turn, whoever started it (chat, a command, the API). */
  cancelTurns(): void;
  /** Every AgentEvent of the active agent. */
  onEvent(listener: (event: AgentEvent) => void): PortDisposable;
  /** User messages entering the runtime, with where they came from. */
  onUserMessage(listener: (notice: UserMessageNotice) => void): PortDisposable;
  /** A turn is running on the active agent. */
  isBusy(): boolean;
  /** When the user last opened a window on this agent (ISO), or null the first time. */
  lastLogin(): Promise<string | null>;
  /** Recall records of the active agent before `beforeSeq`, oldest first, not hidden by clearView. */
  conversation(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]>;
  hasConversationBefore(seq: number): Promise<boolean>;
  /** Recall records of the active agent before `beforeSeq`, oldest first, including those clearView hides. */
  recallPage(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]>;
  /** Hides the conversation so far from the chat (memory untouched), also after a reload. */
  clearView(agentId?: string): Promise<void>;
  /** Usage of the active agent's window, when it is open. */
  contextUsage(): ContextUsage | undefined;
  activeAgentIdNow(): string | undefined;
}

/** The agents of this workspace. */
export interface AgentCatalogPort {
  listAgents(): Promise<AgentInfo[]>;
  createAgent(init: NewAgent): Promise<{ id: string; name: string }>;
  switchAgent(id: string): Promise<void>;
  /** Core memory back to presets, empty queue; old messages stay in recall. */
  resetAgent(id: string): Promise<void>;
  /** One JSON-serialisable object (state + recall), never the API key. */
  exportAgent(id: string): Promise<unknown>;
  /** Validates and imports an export (new id if it clashes). */
  importAgent(data: unknown): Promise<{ id: string; name: string }>;
}

/** Core, recall and archival memory, read and written from outside a turn. */
export interface MemoryPort {
  /** Inserts into archival memory, with provenance when the text came from a file; returns the memory id. */
  remember(text: string, provenance?: { path: string; startLine: number; endLine: number }): Promise<string>;
  /** Recall (active agent's messages) and archival (memories + workspace) results for `query`. */
  searchMemory(
    query: string,
    options: { limit: number; signal?: AbortSignal },
  ): Promise<{ recall: RecallRecord[]; archival: ArchivalHit[] }>;
  /** Archival search alone (hybrid, both sources unless filtered). */
  searchArchival(query: string, options: ArchivalSearchOptions): Promise<ArchivalHit[]>;
  /** Code definitions whose name contains `text`, best first (the Search Memory list). */
  matchSymbols(text: string, limit: number): SymbolDefinition[];
  /** Core memory blocks of `agentId` (default: the active agent), in display order. */
  coreMemory(agentId?: string): Promise<CoreMemoryBlockView[]>;
  /**
   * The user's edit of a block of the active agent. Over the limit (or unknown label): throws and
   * changes nothing. On success the agent is told (`core_memory_edited_by_user`) at its next step.
   */
  setCoreMemoryBlock(label: string, value: string): Promise<void>;
  memoryStats(agentId?: string): Promise<MemoryStats>;
  /** Archival counts by source (workspace chunks, memories). */
  /** With `agentId`, remembered items are counted for that agent only. */
  archivalCounts(agentId?: string): { workspace: number; memory: number };
  /**
   * What the user must know about this memory: damaged files kept aside, a pointer recovered, an
   * index rebuilt. Shown by the chat (standing notice), the CLI (stderr) and `memgpt memory`.
   */
  notices(): string[];
}

/**
 * Files of the workspace as they change (saved, changed on disk, deleted, renamed): each change
 * reaches the index, the instruction files and the code remembered items cite.
 */
export interface WorkspaceFilesPort {
  /** A file was saved, changed or created (absolute path); files the index rules skip are not indexed. */
  fileChanged(absPath: string): Promise<void>;
  /** A file or folder was deleted: its chunks leave the index. */
  fileRemoved(absPath: string): Promise<void>;
  fileRenamed(oldAbs: string, newAbs: string): Promise<void>;
  /** The project's instruction files (AGENTS.md, CLAUDE.md, …): read-only, never edited through MemGPT. */
  instructionFiles(): InstructionFilesView;
  /** The instruction files were read again and changed (saved, trust granted, another active folder). */
  onDidChangeInstructionFiles(listener: () => void): PortDisposable;
  /** The file the user looks at (workspace-relative), or undefined: nested AGENTS.md files follow it. */
  setActiveFile(relPath: string | undefined): Promise<void>;
}

export interface ArchivalSearchOptions {
  limit: number;
  source?: 'workspace' | 'memory';
  pathGlob?: string;
  signal?: AbortSignal;
}

/** The workspace index (single files reach it through WorkspaceFilesPort). */
export interface IndexPort {
  /** Indexes changed files (rebuild: drops the index first). Resolves when done or cancelled via `signal`. */
  indexWorkspace(options: { rebuild?: boolean; signal?: AbortSignal }): Promise<IndexRunSummary>;
  pauseIndexing(): void;
  resumeIndexing(): void;
  onIndexProgress(listener: (progress: IndexProgressView) => void): PortDisposable;
  /** Which embedder built the index ("lexical search only" without a semantic model). */
  readonly embedderId: string;
  /** Definitions and references of the locally indexed code (`memgpt symbols`). */
  readonly symbols: SymbolLookup;
  /** The local index's workspace chunks, for publishing to the shared store. */
  publishSource(): PublishSource;
}

export interface ModelListOptions {
  baseUrl?: string;
  provider?: ChatProvider;
  apiKey?: string;
  signal?: AbortSignal;
}

/** The model server. */
export interface ModelPort {
  /** Model ids from the server; with `apiKey`/`baseUrl` tests those instead of the current ones. */
  listModels(options?: ModelListOptions): Promise<string[]>;
}

/** Edits and commands the agent makes with the user's approval, and the checkpoints that undo them. */
export interface ActingPort {
  /** Who approves edits and commands when a turn brings no requester of its own (the chat card). */
  setApprover(approver: ApprovalRequester | undefined): void;
  /** How approved changes are written (the editor's own edit API); default straight to disk. */
  setFileChangeApplier(applier: FileChangeApplier, openText?: OpenText): void;
  /** True once for a file the agent itself just wrote (its save is not news for the agent). */
  isAgentWrite(absPath: string): boolean;
  /** Checkpoints of this workspace, newest first. */
  listCheckpoints(): Promise<Checkpoint[]>;
  /** Brings a checkpoint's files back and tells the agent. */
  restoreCheckpoint(id: string): Promise<RestoreReport>;
}

/** The state of this window's runtime. */
export interface WindowPort {
  activity(): RuntimeActivity;
  onDidChangeActivity(listener: (activity: RuntimeActivity) => void): PortDisposable;
  /** Agents added, switched, reset or rebuilt; settings applied. */
  onDidChangeState(listener: () => void): PortDisposable;
  /** Restricted mode off/on: with false, no file functions for the agent and no indexing. */
  setWorkspaceTrusted(trusted: boolean): Promise<void>;
  /** Absolute folders of this extension's storage: never reported as file events. */
  storageDirs(): string[];
}

/** What the editor integration (commands, file events, status bar, extension API) needs. */
export interface AgentRuntimePort extends Omit<WindowPort, 'onDidChangeState'> {
  readonly chat: Pick<ConversationPort, 'handle' | 'enqueue' | 'onEvent' | 'isBusy' | 'lastLogin' | 'conversation'>;
  readonly memory: Pick<MemoryPort, 'remember' | 'searchMemory' | 'matchSymbols' | 'coreMemory' | 'setCoreMemoryBlock' | 'memoryStats'>;
  readonly files: WorkspaceFilesPort;
  readonly agents: AgentCatalogPort;
  readonly index: Pick<IndexPort, 'indexWorkspace' | 'pauseIndexing' | 'resumeIndexing' | 'onIndexProgress'>;
  readonly models: ModelPort;
  readonly acting?: Pick<ActingPort, 'isAgentWrite'>;
  /** The background pass that tidies memory, its records and undo (absent in small test ports). */
  readonly reflection?: ReflectionPort;
}

/**
 * The whole runtime of one workspace, for the chat backend, the command line and the MCP server:
 * every service, plus what only those callers need (the storage, the live agent, settings).
 */
export interface WorkspaceRuntimePort extends WindowPort {
  /** Turns and the conversation as the chat shows it. */
  readonly chat: ConversationPort;
  readonly agents: AgentCatalogPort;
  readonly memory: MemoryPort;
  readonly files: WorkspaceFilesPort;
  readonly index: IndexPort;
  readonly models: ModelPort;
  /** Edits and commands with the user's approval, and their checkpoints (trusted, writable windows only). */
  readonly acting: ActingPort;
  /** The MCP servers the user configured, as functions for the agent. */
  readonly mcp: McpHub;
  readonly storage: WorkspaceStorage;
  readonly folders: readonly RuntimeFolder[];
  readonly readOnly: boolean;
  readonly isTrusted: boolean;
  readonly currentConfig: RuntimeConfig;
  /** The background pass that tidies memory, its records and undo. */
  readonly reflection: ReflectionPort;
  /** The active agent, built as needed. */
  agent(): Promise<Agent>;
  /** Applies new settings: what they invalidate is rebuilt before the next turn. */
  configure(next: RuntimeConfig | Promise<RuntimeConfig>): Promise<void>;
  /** Waits for the running turn and indexing (cancelled), saves, closes and releases the lock. Idempotent. */
  close(): Promise<void>;
}
