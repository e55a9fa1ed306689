/**
 * AgentRuntimePort: exactly what the editor integration (commands, file events, status bar,
 * extension API) needs from the agent runtime of one workspace. The lead implements it over
 * src/core/runtime (Agent, AgentDirectory, ArchivalIndex, WorkspaceIndexer, RecallStore); the
 * adapters here never reach past it, so they are tested against a small in-memory port.
 *
 * "Active agent" = the agent the chat shows. Every method that fails throws an Error whose
 * message is fit for the user (what happened, why, what to do); adapters redact and show it.
 */
import type { AgentEvent, AgentInput, ContextUsage } from '../agent/events';
import type { ArchivalHit } from '../interfaces/archivalStore';
import type { RecallRecord } from '../interfaces/recallStore';
import type { SymbolDefinition } from '../interfaces/symbols';
import type { IndexRunResult } from '../index/workspaceIndexer';

export interface PortDisposable {
  dispose(): void;
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

export interface AgentRuntimePort {
  // ─── The active agent ──────────────────────────────────────────────────────
  /** Runs one event to completion on the active agent (a user message, a wake-up). */
  handle(input: AgentInput, options?: { signal?: AbortSignal; onEvent?: (event: AgentEvent) => void }): Promise<TurnOutcome>;
  /** Queues an event for the active agent's next step, without a model call. Durable on return. */
  enqueue(input: AgentInput): Promise<void>;
  /** Every AgentEvent of the active agent. */
  onEvent(listener: (event: AgentEvent) => void): PortDisposable;
  /** A turn is running on the active agent. */
  isBusy(): boolean;
  /** When the user last opened a window on this agent (ISO), or null the first time. */
  lastLogin(): Promise<string | null>;

  // ─── Memory ───────────────────────────────────────────────────────────────
  /** Inserts into archival memory, with provenance when the text came from a file; returns the memory id. */
  remember(text: string, provenance?: { path: string; startLine: number; endLine: number }): Promise<string>;
  /** Recall (active agent's messages) and archival (memories + workspace) results for `query`. */
  searchMemory(query: string, options: { limit: number; signal?: AbortSignal }): Promise<{ recall: RecallRecord[]; archival: ArchivalHit[] }>;
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

  // ─── Agents ───────────────────────────────────────────────────────────────
  listAgents(): Promise<AgentInfo[]>;
  createAgent(init: NewAgent): Promise<{ id: string; name: string }>;
  switchAgent(id: string): Promise<void>;
  /** Core memory back to presets, empty queue; old messages stay in recall. */
  resetAgent(id: string): Promise<void>;
  /** One JSON-serialisable object (state + recall), never the API key. */
  exportAgent(id: string): Promise<unknown>;
  /** Validates and imports an export (new id if it clashes). */
  importAgent(data: unknown): Promise<{ id: string; name: string }>;

  // ─── Workspace index ──────────────────────────────────────────────────────
  /** Indexes changed files (rebuild: drops the index first). Resolves when done or cancelled via `signal`. */
  indexWorkspace(options: { rebuild?: boolean; signal?: AbortSignal }): Promise<IndexRunSummary>;
  pauseIndexing(): void;
  resumeIndexing(): void;
  /** Re-indexes one saved file (absolute path); files the index rules skip are ignored. */
  reindexFile(absPath: string): Promise<void>;
  onIndexProgress(listener: (progress: IndexProgressView) => void): PortDisposable;

  // ─── Model server ─────────────────────────────────────────────────────────
  /** Model ids from the server (`GET /models`); with `apiKey`/`baseUrl` tests those instead of the current ones. */
  listModels(options?: { baseUrl?: string; apiKey?: string; signal?: AbortSignal }): Promise<string[]>;

  // ─── Window state ─────────────────────────────────────────────────────────
  activity(): RuntimeActivity;
  onDidChangeActivity(listener: (activity: RuntimeActivity) => void): PortDisposable;
  /** Restricted mode off/on: with false, no file functions for the agent and no indexing. */
  setWorkspaceTrusted(trusted: boolean): Promise<void>;
  /** Absolute folders of this extension's storage: never reported as file events. */
  storageDirs(): string[];
  /** True once for a file the agent itself just wrote (its save is not news for the agent). */
  isAgentWrite?(absPath: string): boolean;
}
