import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RecallRecord, RecallStore } from '../interfaces/recallStore';
import { AGENT_STATE_SCHEMA_VERSION, createAgentState, validateAgentState, type AgentState } from './agentState';
import { maskSecretsDeep } from '../security/redact';
import { atomicWriteJson, CorruptFileError, readJsonFile, UnreadableFileError, UnsupportedFileError } from '../storage/atomicFile';
import type { NoticeBoard } from '../storage/notices';
import { MemgptError } from '../base/errors';
import type { ArchivalStore, RememberedItem } from '../interfaces/archivalStore';
import { parseBlocks, type CoreMemoryBlock } from '../memory/coreMemory';
import type { MemoryScopes } from '../memory/memoryScopes';

/**
 * The agents of one workspace: one `<id>.json` per agent (written atomically)
 * and `active.json` naming the one the chat talks to. Export and import move
 * an agent with its whole recall between workspaces or machines as one JSON
 * object; secrets never go into it.
 */

export const AGENT_EXPORT_FORMAT = 'memgpt-vscode-agent';
/** 2: with the agent's remembered items and every block with its scope (1 had neither; still read). */
export const AGENT_EXPORT_FORMAT_VERSION = 2;
const ACTIVE_FILE = 'active.json';
const SAFE_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** Field names never exported, at any depth (an API key must not leave the machine in a file). */
const SECRET_KEY = /api[_-]?key|secret|password|authorization|bearer/i;

export interface AgentExport {
  format: typeof AGENT_EXPORT_FORMAT;
  formatVersion: number;
  exportedAt: string;
  agent: AgentState;
  /** The agent's recall records, oldest first (ids as they were in the exporting store). */
  recall: RecallRecord[];
  /** What the agent chose to remember (archival memory), oldest first. */
  memories?: RememberedItem[];
  /** Every block the agent sees, each with its scope (shared ones included: user, workspace). */
  blocks?: CoreMemoryBlock[];
}

/** Where an import puts what is not the agent's own file: its remembered items and its shared blocks. */
export interface ImportTargets {
  archival?: Pick<ArchivalStore, 'importMemories'>;
  scopes?: MemoryScopes;
}

export interface AgentListing {
  id: string;
  name: string;
  createdAt: string;
  personaPreset: string;
  humanPreset: string;
}

export interface AgentList {
  agents: AgentListing[];
  /** Files that could not be read: moved aside (corrupt) or left alone (newer schema). */
  unavailable: { file: string; reason: string }[];
}

export class AgentNotFoundError extends MemgptError {
  constructor(readonly agentId: string) {
    super(
      'agent_not_found',
      `No agent with id ${agentId} in this workspace. It may have been deleted in another window; pick another agent or create one.`,
    );
  }
}

function scrubSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!SECRET_KEY.test(k)) out[k] = scrubSecrets(v);
    return out as T;
  }
  return value;
}

/** The remembered items of an export, checked one by one (absent in exports made before they were carried). */
function validateMemories(value: unknown): RememberedItem[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error('The "memories" of this export must be an array. Nothing was imported.');
  return value.map((m: unknown, i: number) => {
    const o = m as Partial<Record<keyof RememberedItem, unknown>> | null;
    if (
      !o ||
      typeof o !== 'object' ||
      typeof o.text !== 'string' ||
      o.text.trim() === '' ||
      typeof o.time !== 'string' ||
      Number.isNaN(Date.parse(o.time))
    ) {
      throw new Error(
        `Remembered item ${i} of this export is malformed (needs a non-empty "text" and an ISO "time"). Nothing was imported.`,
      );
    }
    const item: RememberedItem = { text: o.text, time: o.time };
    if (o.path !== undefined) {
      if (typeof o.path !== 'string')
        throw new Error(`Remembered item ${i} of this export has a "path" that is not a string. Nothing was imported.`);
      item.path = o.path;
    }
    for (const k of ['startLine', 'endLine'] as const) {
      const v = o[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new Error(`Remembered item ${i} of this export has a "${k}" that is not a line number. Nothing was imported.`);
      item[k] = v;
    }
    return item;
  });
}

export class ReadOnlyAgentsError extends MemgptError {
  constructor() {
    super(
      'read_only',
      "Agents cannot be changed in this window: another window holds this workspace's memory. Make the change there, or close it.",
    );
  }
}

export interface AgentStateStoreOptions {
  /** Without the workspace lock: list and load only; every write throws ReadOnlyAgentsError. */
  readOnly?: boolean;
  /** Where damage found and repaired is reported to the user. */
  notices?: NoticeBoard;
  /** How many recall records an agent has: an agent whose file is lost but whose recall is not can be restored. */
  recallCount?: (agentId: string) => number;
}

/** What `active.json` says, or why it says nothing usable. */
type ActivePointer =
  { kind: 'agent'; id: string } | { kind: 'none' } | { kind: 'missing' } | { kind: 'damaged'; reason: string; keptAs: string | null };

export class AgentStateStore {
  /** Agent files found damaged by load(): where they were kept, so the recovery can say so. */
  private readonly damaged = new Map<string, UnreadableFileError>();

  private constructor(
    readonly dir: string,
    /** Without the workspace lock: list and load only; every write throws ReadOnlyAgentsError. */
    readonly readOnly: boolean,
    private readonly options: AgentStateStoreOptions,
  ) {}

  static async open(dir: string, options: AgentStateStoreOptions = {}): Promise<AgentStateStore> {
    if (!options.readOnly) await fsp.mkdir(dir, { recursive: true });
    return new AgentStateStore(dir, options.readOnly === true, options);
  }

  private notice(key: string, message: string): void {
    this.options.notices?.post(key, message);
  }

  /** A path the user can find: relative to the storage folder. */
  private shown(file: string): string {
    return path.join(path.basename(this.dir), path.relative(this.dir, file));
  }

  private writable(): void {
    if (this.readOnly) throw new ReadOnlyAgentsError();
  }

  private fileOf(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error(`Invalid agent id ${JSON.stringify(id)}: ids are letters, digits, '-' and '_'.`);
    return path.join(this.dir, `${id}.json`);
  }

  async list(): Promise<AgentList> {
    const result: AgentList = { agents: [], unavailable: [] };
    const names = await fsp.readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || name === ACTIVE_FILE || name.startsWith('.')) continue;
      const file = path.join(this.dir, name);
      try {
        const s = await readJsonFile(file, (v) => validateAgentState(v), { readOnly: this.readOnly });
        if (s)
          result.agents.push({
            id: s.id,
            name: s.name,
            createdAt: s.createdAt,
            personaPreset: s.personaPreset,
            humanPreset: s.humanPreset,
          });
      } catch (err) {
        if (err instanceof CorruptFileError || err instanceof UnsupportedFileError || this.readOnly)
          result.unavailable.push({ file, reason: (err as Error).message });
        else throw err;
        if (err instanceof UnreadableFileError) this.noticeDamagedAgent(err);
      }
    }
    result.agents.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return result;
  }

  /** Creates and saves a new agent; it becomes the active one if none is. */
  async create(init: Parameters<typeof createAgentState>[0]): Promise<AgentState> {
    this.writable();
    // Asked before the save: afterwards the new file would look like an agent that lost its pointer.
    const hadActive = (await this.activeAgentId()) !== null;
    const state = createAgentState(init);
    await this.save(state);
    if (!hadActive) await this.setActive(state.id);
    return state;
  }

  /** Throws AgentNotFoundError, CorruptFileError (file moved aside) or AgentStateTooNewError (file left alone). */
  async load(id: string): Promise<AgentState> {
    let state: AgentState | undefined;
    try {
      state = await readJsonFile(this.fileOf(id), (v) => validateAgentState(v), { readOnly: this.readOnly });
    } catch (err) {
      if (err instanceof UnreadableFileError) this.damaged.set(id, err);
      throw err;
    }
    if (!state) throw new AgentNotFoundError(id);
    if (state.id !== id) throw new Error(`${this.fileOf(id)} holds agent ${state.id}, not ${id}; rename the file to ${state.id}.json.`);
    return state;
  }

  async save(state: AgentState): Promise<void> {
    this.writable();
    const checked = validateAgentState({ ...state, schemaVersion: state.schemaVersion ?? AGENT_STATE_SCHEMA_VERSION });
    await atomicWriteJson(this.fileOf(checked.id), checked);
  }

  async exists(id: string): Promise<boolean> {
    try {
      await fsp.access(this.fileOf(id));
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes the agent's state file (its recall records stay in the recall log). */
  async delete(id: string): Promise<void> {
    this.writable();
    const wasActive = (await this.activeAgentId()) === id;
    await fsp.rm(this.fileOf(id), { force: true });
    if (wasActive) {
      const next = (await this.list()).agents[0];
      await this.setActive(next ? next.id : null);
    }
  }

  /**
   * The active agent's id, or null when the workspace has no agent. A pointer that is damaged,
   * missing while agents exist, or names an agent whose file is gone is recovered (see
   * recoverActive) and the user is told; it never silently becomes "no agent".
   */
  async activeAgentId(): Promise<string | null> {
    const pointer = await this.readPointer();
    if (pointer.kind === 'agent' && (await this.exists(pointer.id))) return pointer.id;
    if ((pointer.kind === 'none' || pointer.kind === 'missing') && !(await this.hasAgentFiles())) return null;
    return this.recoverActive(pointer);
  }

  /**
   * The active agent's state, or null when there is no agent. An active agent file found
   * damaged here is kept aside and recovered like a missing one.
   */
  async loadActive(): Promise<AgentState | null> {
    for (let attempt = 0; ; attempt++) {
      const id = await this.activeAgentId();
      if (!id) return null;
      try {
        return await this.load(id);
      } catch (err) {
        // Moved aside by load(): the next look at the pointer recovers. Read-only windows cannot move it.
        if (!(err instanceof CorruptFileError) || attempt > 0) throw err;
      }
    }
  }

  private async readPointer(): Promise<ActivePointer> {
    try {
      const id = await readJsonFile(
        path.join(this.dir, ACTIVE_FILE),
        (v) => {
          const value = (v as { agentId?: unknown } | null)?.agentId;
          if (value !== null && (typeof value !== 'string' || !SAFE_ID.test(value)))
            throw new Error('"agentId" must be an agent id or null');
          return value;
        },
        { readOnly: this.readOnly },
      );
      if (id === undefined) return { kind: 'missing' };
      return id === null ? { kind: 'none' } : { kind: 'agent', id };
    } catch (err) {
      if (err instanceof UnreadableFileError)
        return { kind: 'damaged', reason: err.reason, keptAs: err instanceof CorruptFileError ? err.keptAs : null };
      throw err;
    }
  }

  private async hasAgentFiles(): Promise<boolean> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    return names.some((n) => n.endsWith('.json') && n !== ACTIVE_FILE && !n.startsWith('.'));
  }

  /**
   * A broken pointer, in order of preference: the agent it names comes back under its id when
   * only its file was lost (its messages are in recall); else the most recently used agent (the
   * newest file: every turn saves it) becomes active; else there is none and a new one will be
   * made. A read-only window decides the same in memory and writes nothing.
   */
  private async recoverActive(pointer: ActivePointer): Promise<string | null> {
    const activeFile = this.shown(path.join(this.dir, ACTIVE_FILE));
    const readOnlyNote = this.readOnly
      ? ' Nothing was changed on disk: this window is read-only; the window that holds the memory repairs it.'
      : '';
    let what: string;
    if (pointer.kind === 'damaged') {
      what =
        `${activeFile}, which names the active agent, was damaged (${pointer.reason})` +
        (pointer.keptAs ? ` and was kept aside as ${path.basename(pointer.keptAs)}` : '');
    } else if (pointer.kind === 'agent') {
      const damage = this.damaged.get(pointer.id);
      const file = this.shown(this.fileOf(pointer.id));
      what = damage
        ? `The active agent's file ${file} was damaged (${damage.reason})` +
          (damage instanceof CorruptFileError ? ` and was kept aside as ${path.basename(damage.keptAs)}` : '')
        : `The active agent's file ${file} is missing`;
      const messages = this.options.recallCount?.(pointer.id) ?? 0;
      if (messages > 0 && !this.readOnly) {
        await this.save({ ...createAgentState({ name: 'MemGPT (restored)' }), id: pointer.id });
        this.notice(
          `restored:${pointer.id}`,
          `${what}. Its ${messages} messages are still in recall, so the agent was restored under the same id with its conversation, ` +
            'named "MemGPT (restored)"; what it had written in core memory (persona, human) was lost and starts again from the presets.',
        );
        return pointer.id;
      }
    } else {
      what = `${activeFile}, which names the active agent, is missing`;
    }
    const picked = await this.mostRecentlyUsed();
    if (picked) {
      if (!this.readOnly) await this.setActive(picked.id);
      this.notice(
        `active:${pointer.kind}`,
        `${what}. MemGPT continues with "${picked.name}" (${picked.id}), the most recently used agent.${readOnlyNote}`,
      );
      return picked.id;
    }
    this.notice(`active:${pointer.kind}`, `${what}, and no other agent is left: a new agent will be started.${readOnlyNote}`);
    return null;
  }

  private async mostRecentlyUsed(): Promise<AgentListing | undefined> {
    let best: { listing: AgentListing; mtime: number } | undefined;
    for (const listing of (await this.list()).agents) {
      const mtime = await fsp
        .stat(this.fileOf(listing.id))
        .then((s) => s.mtimeMs)
        .catch(() => -1);
      if (!best || mtime > best.mtime) best = { listing, mtime };
    }
    return best?.listing;
  }

  private noticeDamagedAgent(err: UnreadableFileError): void {
    const where =
      err instanceof CorruptFileError
        ? `it was kept aside as ${path.basename(err.keptAs)}`
        : 'it was left in place (this window is read-only)';
    this.notice(
      `damaged:${err.file}`,
      `The agent file ${this.shown(err.file)} is unreadable (${err.reason}); ${where}. That agent is not listed until the file is repaired by hand.`,
    );
  }

  async setActive(id: string | null): Promise<void> {
    this.writable();
    if (id !== null && !(await this.exists(id))) throw new AgentNotFoundError(id);
    await atomicWriteJson(path.join(this.dir, ACTIVE_FILE), { agentId: id });
  }

  /**
   * One agent as a single JSON object: its state, all its recall, what it remembered and every
   * block it sees with its scope. No secrets (fields or values).
   */
  async exportAgent(
    id: string,
    recall: { records(agentId: string): RecallRecord[] },
    more: { memories?: RememberedItem[]; blocks?: CoreMemoryBlock[] } = {},
  ): Promise<AgentExport> {
    const agent = await this.load(id);
    // Every string masked too: records written before keys were masked on the way in, or a key
    // pasted by the user, must not leave in a file that gets shared.
    return maskSecretsDeep(
      scrubSecrets({
        format: AGENT_EXPORT_FORMAT,
        formatVersion: AGENT_EXPORT_FORMAT_VERSION,
        exportedAt: new Date().toISOString(),
        agent,
        recall: recall.records(id),
        memories: more.memories ?? [],
        ...(more.blocks ? { blocks: more.blocks } : {}),
      }),
    );
  }

  /**
   * Imports an exported agent. It gets a new id when its id is taken (and a
   * name suffix when its name is); its recall records are appended under that
   * id and its in-context ids remapped to the new record ids.
   */
  async importAgent(data: unknown, recall: Pick<RecallStore, 'append'>, targets: ImportTargets = {}): Promise<AgentState> {
    this.writable();
    const d = data as Partial<AgentExport> | null;
    if (!d || typeof d !== 'object' || d.format !== AGENT_EXPORT_FORMAT) {
      throw new Error(`This is not a MemGPT agent export (expected "format": "${AGENT_EXPORT_FORMAT}"). Nothing was imported.`);
    }
    if (typeof d.formatVersion !== 'number' || d.formatVersion > AGENT_EXPORT_FORMAT_VERSION) {
      throw new Error(
        `This agent export has format version ${String(d.formatVersion)}; this version of MemGPT reads up to ${AGENT_EXPORT_FORMAT_VERSION}. ` +
          'Update the extension to import it. Nothing was imported.',
      );
    }
    if (!Array.isArray(d.recall)) throw new Error('This agent export has no "recall" array. Nothing was imported.');
    let agent: AgentState;
    try {
      agent = validateAgentState(d.agent);
    } catch (err) {
      throw new Error(`The agent in this export is invalid: ${(err as Error).message}. Nothing was imported.`);
    }
    const records = d.recall as Partial<RecallRecord>[];
    records.forEach((r, i) => {
      if (!r || typeof r.id !== 'string' || typeof r.time !== 'string' || typeof r.kind !== 'string' || !r.message) {
        throw new Error(`Recall record ${i} of this export is malformed (needs id, time, kind, message). Nothing was imported.`);
      }
    });

    // Everything is checked before anything is written: a bad file changes nothing.
    const memories = validateMemories(d.memories);
    let blocks: CoreMemoryBlock[] | undefined;
    if (d.blocks !== undefined) {
      if (!Array.isArray(d.blocks)) throw new Error('The "blocks" of this export must be an array. Nothing was imported.');
      try {
        blocks = parseBlocks(d.blocks, 'The "blocks" of this export');
      } catch (err) {
        throw new Error(`${(err as Error).message} Nothing was imported.`);
      }
    }
    if (memories.length > 0 && !targets.archival?.importMemories) {
      throw new Error(
        `This export holds ${memories.length} remembered item(s), and archival memory cannot take them here. Nothing was imported.`,
      );
    }

    const existing = await this.list();
    const id = SAFE_ID.test(agent.id) && !(await this.exists(agent.id)) ? agent.id : randomUUID();
    let name = agent.name;
    const names = new Set(existing.agents.map((a) => a.name));
    for (let n = 1; names.has(name); n++) name = n === 1 ? `${agent.name} (imported)` : `${agent.name} (imported ${n})`;

    // Remembered items first: embedding them is the step most likely to fail (a remote embedder).
    if (memories.length > 0) await targets.archival!.importMemories!(memories, id);
    const appended = await recall.append(
      records.map(
        (r) =>
          ({
            agentId: id,
            time: r.time!,
            kind: r.kind!,
            message: r.message!,
            ...(r.automatic === true ? { automatic: true } : {}),
          }) as Omit<RecallRecord, 'id' | 'seq'>,
      ),
    );
    const idMap = new Map<string, string>();
    records.forEach((r, i) => idMap.set(r.id!, appended[i]!.id));
    let coreMemory = agent.coreMemory;
    const scopes = targets.scopes;
    if (!scopes && blocks) {
      // No shared scopes here: every block becomes the agent's, converted when it next runs with scopes.
      coreMemory = { blocks: blocks.map(({ scope: _scope, ...b }) => b), lastModified: agent.coreMemory.lastModified };
    } else if (scopes && blocks) {
      // The exported shared blocks join this state folder's (see MemoryScopes.merge); a differing one is kept as the agent's own.
      await scopes.load();
      const own = blocks.filter((b) => (b.scope ?? 'agent') === 'agent' && scopes.homeOf(b.label) === 'agent');
      const incoming = blocks
        .filter((b) => !own.includes(b))
        .map((b) => {
          const home = scopes.homeOf(b.label);
          const scope = home === 'agent' ? (b.scope === 'user' ? 'user' : 'workspace') : home;
          return { block: b, scope };
        });
      coreMemory = (await scopes.merge(own, incoming, agent.coreMemory.lastModified)).coreMemory;
    }
    const imported: AgentState = {
      ...agent,
      id,
      name,
      coreMemory,
      inContextIds: agent.inContextIds.map((old) => idMap.get(old)).filter((x): x is string => x !== undefined),
    };
    const hadActive = (await this.activeAgentId()) !== null;
    await this.save(imported);
    if (!hadActive) await this.setActive(id);
    return imported;
  }
}
