/**
 * Reflection (Letta's sleep-time agents, inside the editor): a background pass over one agent's
 * memory that merges duplicate remembered items and tightens core memory blocks. It asks a model
 * once (a cheaper one when memgpt.reflection.model names it), then makes the changes through the
 * agent's own memory functions, so the same validation, limits and masking apply.
 *
 * It never runs beside a turn: the pass runs in the agent's turn queue, and a user's message
 * cancels it (ConversationService.runAutomatic); a cancelled or failed pass changes nothing. It is
 * bounded in time (REFLECTION_TIMEOUT_MS), in what it reads (REFLECTION_ITEMS_MAX_CHARS) and in
 * what it may answer (REFLECTION_MAX_OUTPUT_TOKENS). Each pass that changed something leaves a
 * record with every block and item before and after, and the record can be undone exactly, unless
 * memory changed since in a way the undo would overwrite: then it refuses and says what changed.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Agent } from '../agent/agent';
import type { AgentEvent } from '../agent/events';
import { Emitter } from '../base/emitter';
import { MemgptError, errorMessage } from '../base/errors';
import type { SerialQueue } from '../base/serialQueue';
import type { ChatMessage, ChatModel, ToolCall, ToolSchema } from '../interfaces/chatModel';
import type { StoredMemory } from '../index/archivalIndex';
import {
  REFLECTION_DEFAULT_AFTER_TURNS,
  REFLECTION_DEFAULT_IDLE_MINUTES,
  REFLECTION_ITEMS_MAX_CHARS,
  REFLECTION_MAX_CHANGES,
  REFLECTION_MAX_ITEMS,
  REFLECTION_MAX_OUTPUT_TOKENS,
  REFLECTION_RECORDS_KEPT,
  REFLECTION_TIMEOUT_MS,
} from '../limits';
import type { BlockScope } from '../memory/coreMemory';
import { findCitations, type CitationTracker } from '../memory/staleness';
import { atomicWriteJson, readJsonFile } from '../storage/atomicFile';
import type { ArchivalService } from './archivalService';
import { createChatModel } from './chatModelFactory';
import type { ConversationService } from './conversationService';
import type { ModelResolver } from './modelResolver';
import { reflectionSummary } from './reflectionText';
import type { ReflectionSettings, RuntimeConfig } from './runtimeConfig';
import type { RuntimeGuard } from './runtimeGuard';
import type { PortDisposable } from './runtimePort';

export type ReflectionTrigger = 'turns' | 'idle' | 'command';

/** One block a pass shortened: its text before and after. */
export interface ReflectionBlockChange {
  label: string;
  scope: BlockScope;
  before: string;
  after: string;
}

/** Remembered items a pass merged into one: the items as they were, and the one that replaced them. */
export interface ReflectionMerge {
  removed: StoredMemory[];
  added: StoredMemory;
}

/** What one pass changed, kept so the user can see it and undo it. */
export interface ReflectionRecord {
  id: string;
  agentId: string;
  /** ISO time the pass ended. */
  time: string;
  trigger: ReflectionTrigger;
  model: string;
  blocks: ReflectionBlockChange[];
  merges: ReflectionMerge[];
  /** Changes the model proposed that were refused (over a limit, unknown item), in plain words. */
  refused: string[];
  /** ISO time it was undone. */
  undoneAt?: string;
}

export type ReflectionOutcome =
  | { status: 'changed'; record: ReflectionRecord }
  | { status: 'unchanged'; reason: string; refused: string[] }
  /** A user's turn started: the pass stopped and changed nothing. */
  | { status: 'preempted' }
  /** The model failed or timed out: memory is as it was. */
  | { status: 'failed'; error: string };

/** The reflection of one workspace's runtime, as front ends use it. */
export interface ReflectionPort {
  /** Runs one pass on the active agent now, whatever the settings say. */
  reflect(options?: { signal?: AbortSignal; trigger?: ReflectionTrigger }): Promise<ReflectionOutcome>;
  /** Records of passes that changed something, newest first (with `agentId`, that agent's only). */
  records(agentId?: string): Promise<ReflectionRecord[]>;
  /**
   * Undoes a pass: every block and item back as it was. Refuses (MemgptError `reflection_conflict`,
   * nothing changed) when memory was edited since in a way the undo would overwrite.
   */
  undo(recordId: string): Promise<ReflectionRecord>;
  /** A pass changed memory, or an undo ran. */
  onDidChange(listener: (record: ReflectionRecord) => void): PortDisposable;
}

export class ReflectionError extends MemgptError<'reflection_conflict' | 'reflection_not_found' | 'reflection_other_agent'> {}

export interface ReflectionServiceOptions {
  storageDir: string;
  guard: RuntimeGuard;
  config: () => RuntimeConfig;
  models: ModelResolver;
  archival: ArchivalService;
  /** Where a merged item takes over the citations of the items it merges, stale ones included. */
  citations: () => Pick<CitationTracker, 'carryOver'>;
  chat: ConversationService;
  agentEvents: Emitter<AgentEvent>;
  log: (level: 'info' | 'warn', message: string) => void;
  /** Serialises record-file writes. */
  queue: SerialQueue;
}

const RECORDS_FILE = 'reflections.json';

const TOOLS: ToolSchema[] = [
  {
    type: 'function',
    function: {
      name: 'merge_memories',
      description:
        'Replace two or more remembered items that say the same thing (or overlap) with one item that keeps every fact they hold.',
      parameters: {
        type: 'object',
        properties: {
          items: { type: 'array', items: { type: 'integer' }, description: 'The numbers of the items to merge (at least two).' },
          content: { type: 'string', description: 'The merged item: every fact of the merged items, once.' },
        },
        required: ['items', 'content'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'tighten_block',
      description: 'Rewrite a core memory block shorter: drop repeats and filler, keep every fact.',
      parameters: {
        type: 'object',
        properties: {
          label: { type: 'string', description: 'The block to rewrite.' },
          new_content: { type: 'string', description: 'The whole new text of the block, shorter than now.' },
        },
        required: ['label', 'new_content'],
      },
    },
  },
];

const INSTRUCTIONS = `You tidy the long-term memory of a coding assistant while the user is away.
You see its core memory blocks and its remembered items (numbered).
- When two or more items say the same thing or overlap, call merge_memories with their numbers and one text that keeps every fact they hold.
- When a block repeats itself or is wordy, call tighten_block with the whole shorter text; keep every fact, names and numbers exactly.
- Never invent facts and never drop one. If nothing needs tidying, call nothing and say "nothing to tidy".`;

function isRecordShape(v: unknown): v is ReflectionRecord {
  const r = v as Partial<ReflectionRecord> | null;
  return (
    !!r &&
    typeof r.id === 'string' &&
    typeof r.agentId === 'string' &&
    typeof r.time === 'string' &&
    Array.isArray(r.blocks) &&
    Array.isArray(r.merges) &&
    Array.isArray(r.refused)
  );
}

function validateRecords(value: unknown): { records: ReflectionRecord[] } {
  const records = (value as { records?: unknown } | null)?.records;
  if (!Array.isArray(records)) throw new Error('records is missing');
  return { records: records.filter(isRecordShape) };
}

export class ReflectionService implements ReflectionPort {
  private readonly changes = new Emitter<ReflectionRecord>();
  private turnsSince = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private running: Promise<ReflectionOutcome> | null = null;
  private readonly stopListening: PortDisposable;

  constructor(private readonly options: ReflectionServiceOptions) {
    // Counted from the turns' own ends: a turn the user started, finished (whatever its outcome).
    let userTurn = false;
    const onUser = options.chat.onUserMessage(() => (userTurn = true));
    const onEvent = options.agentEvents.on((event) => {
      if (event.type !== 'turn_finished' || !userTurn) return;
      userTurn = false;
      this.turnsSince++;
      this.schedule();
    });
    this.stopListening = {
      dispose: () => {
        onUser.dispose();
        onEvent.dispose();
      },
    };
  }

  onDidChange(listener: (record: ReflectionRecord) => void): PortDisposable {
    return this.changes.on(listener);
  }

  dispose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.stopListening.dispose();
  }

  /** After a user's turn: a pass at once when enough turns passed, else one when it stays quiet. */
  private schedule(): void {
    const settings = this.options.config().reflection;
    if (!settings?.enabled || this.options.guard.readOnly) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const afterTurns = settings.afterTurns > 0 ? settings.afterTurns : REFLECTION_DEFAULT_AFTER_TURNS;
    // Past the turn's own end: the turn queue is free, and a message sent right away still wins.
    if (this.turnsSince >= afterTurns) {
      setTimeout(() => void this.automatic('turns'), 0).unref?.();
      return;
    }
    const idleMinutes = settings.idleMinutes >= 0 ? settings.idleMinutes : REFLECTION_DEFAULT_IDLE_MINUTES;
    if (idleMinutes > 0) {
      this.idleTimer = setTimeout(() => void this.automatic('idle'), idleMinutes * 60_000);
      this.idleTimer.unref?.();
    }
  }

  private async automatic(trigger: ReflectionTrigger): Promise<void> {
    this.idleTimer = undefined;
    if (this.options.chat.isBusy() || this.running || this.options.guard.closed) return;
    const outcome = await this.reflect({ trigger });
    if (outcome.status === 'failed') this.options.log('warn', `Reflection failed, memory unchanged: ${outcome.error}`);
  }

  reflect(options: { signal?: AbortSignal; trigger?: ReflectionTrigger } = {}): Promise<ReflectionOutcome> {
    this.options.guard.assertWritable('tidy the memory');
    // One pass at a time: a second request waits for the one running and shares its answer.
    this.running ??= this.pass(options.trigger ?? 'command', options.signal).finally(() => (this.running = null));
    return this.running;
  }

  private async pass(trigger: ReflectionTrigger, outer: AbortSignal | undefined): Promise<ReflectionOutcome> {
    this.turnsSince = 0;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const timeout = AbortSignal.timeout(REFLECTION_TIMEOUT_MS);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    try {
      return await this.options.chat.runAutomatic(async (agent, combined) => {
        await agent.refreshMemory();
        const view = this.readMemory(agent);
        if (view.items.length < 2 && view.blocks.length === 0)
          return { status: 'unchanged', reason: 'there is nothing to tidy', refused: [] };
        // Read after settings being applied have settled (runAutomatic waits for them).
        const model = await this.modelFor(this.options.config().reflection);
        const response = await model.complete(
          { messages: this.prompt(view), tools: TOOLS, signal: combined, maxOutputTokens: REFLECTION_MAX_OUTPUT_TOKENS },
          {},
        );
        // Nothing is changed once the user is waiting, however far the answer got.
        if (combined.aborted) return timeout.aborted ? timedOut() : { status: 'preempted' };
        return this.apply(agent, view, response.toolCalls, trigger, model.model);
      }, signal);
    } catch (error) {
      if (timeout.aborted) return timedOut();
      if (signal.aborted || outer?.aborted) return { status: 'preempted' };
      if (isAbort(error)) return { status: 'preempted' };
      return { status: 'failed', error: errorMessage(error) };
    }
  }

  private async modelFor(settings: ReflectionSettings | undefined): Promise<ChatModel> {
    const { models } = this.options;
    const config = this.options.config();
    const hosted = await models.hostModel();
    // The editor's own models are picked in the editor: the pass uses the one the chat uses.
    if (hosted) return hosted.model;
    const name = settings?.model.trim() || (await models.modelName());
    return createChatModel(config, name, { maxRetries: 1 });
  }

  /** What the pass shows the model: editable blocks, and the agent's newest items within the budget. */
  private readMemory(agent: Agent): {
    blocks: { label: string; value: string; limit: number; scope: BlockScope }[];
    items: StoredMemory[];
  } {
    const blocks = agent.coreMemory
      .allBlocks()
      .filter((b) => !b.readOnly && b.value.trim() !== '')
      .map((b) => ({ label: b.label, value: b.value, limit: b.limit, scope: b.scope ?? 'agent' }));
    const all = this.options.archival.storedMemories(agent.id);
    const items: StoredMemory[] = [];
    let chars = 0;
    for (let i = all.length - 1; i >= 0 && items.length < REFLECTION_MAX_ITEMS; i--) {
      const item = all[i]!;
      if (chars + item.text.length > REFLECTION_ITEMS_MAX_CHARS) break;
      chars += item.text.length;
      items.unshift(item);
    }
    return { blocks, items };
  }

  private prompt(view: { blocks: { label: string; value: string; limit: number }[]; items: StoredMemory[] }): ChatMessage[] {
    const blocks = view.blocks.map((b) => `<${b.label} limit="${b.limit}">\n${b.value}\n</${b.label}>`).join('\n');
    const items = view.items.map((m, i) => `${i + 1}. ${m.text}`).join('\n');
    return [
      { role: 'system', content: INSTRUCTIONS },
      {
        role: 'user',
        content: `Core memory blocks:\n${blocks || '(none)'}\n\nRemembered items:\n${items || '(none)'}`,
      },
    ];
  }

  /** Checks each proposed change, makes it through the agent's memory functions, and records what happened. */
  private async apply(
    agent: Agent,
    view: { blocks: { label: string; value: string; scope: BlockScope }[]; items: StoredMemory[] },
    calls: readonly ToolCall[],
    trigger: ReflectionTrigger,
    modelName: string,
  ): Promise<ReflectionOutcome> {
    const record: ReflectionRecord = {
      id: `refl-${randomUUID()}`,
      agentId: agent.id,
      time: '',
      trigger,
      model: modelName,
      blocks: [],
      merges: [],
      refused: [],
    };
    const used = new Set<number>();
    const tightened = new Set<string>();
    for (const call of calls.slice(0, REFLECTION_MAX_CHANGES)) {
      const args = parseArguments(call.function.arguments);
      if (call.function.name === 'tighten_block') {
        const label = typeof args?.label === 'string' ? args.label : '';
        const next = typeof args?.new_content === 'string' ? args.new_content.trim() : '';
        const block = view.blocks.find((b) => b.label === label);
        if (!block || tightened.has(label)) {
          record.refused.push(`tighten_block: no editable block "${label}" (or it was already rewritten).`);
          continue;
        }
        if (next === '' || next.length >= block.value.length) {
          record.refused.push(`tighten_block "${label}": the new text is not shorter than the block.`);
          continue;
        }
        const [outcome] = await agent.runMemoryCalls([
          {
            name: 'core_memory_replace',
            arguments: JSON.stringify({ label, old_content: block.value, new_content: next, request_heartbeat: false }),
          },
        ]);
        if (outcome?.status !== 'OK') {
          record.refused.push(`tighten_block "${label}": ${outcome?.message ?? 'refused'}`);
          continue;
        }
        tightened.add(label);
        record.blocks.push({ label, scope: block.scope, before: block.value, after: agent.coreMemory.get(label) });
      } else if (call.function.name === 'merge_memories') {
        const numbers = Array.isArray(args?.items) ? args.items : [];
        const content = typeof args?.content === 'string' ? args.content.trim() : '';
        const picked = [...new Set(numbers)].filter((n): n is number => Number.isInteger(n) && n >= 1 && n <= view.items.length);
        if (picked.length < 2 || picked.length !== numbers.length || picked.some((n) => used.has(n)) || content === '') {
          record.refused.push(`merge_memories ${JSON.stringify(numbers)}: needs two or more listed items not merged yet, and a text.`);
          continue;
        }
        const removed = picked.map((n) => view.items[n - 1]!);
        const before = new Set(this.options.archival.storedMemories(agent.id).map((m) => m.id));
        const [outcome] = await agent.runMemoryCalls([
          {
            name: 'archival_memory_insert',
            arguments: JSON.stringify({ content: withCitations(content, removed), request_heartbeat: false }),
          },
        ]);
        const added = this.options.archival.storedMemories(agent.id).find((m) => !before.has(m.id));
        if (outcome?.status !== 'OK' || !added) {
          record.refused.push(`merge_memories ${JSON.stringify(numbers)}: ${outcome?.message ?? 'the merged item was not stored'}`);
          continue;
        }
        try {
          await this.options.citations().carryOver(
            added.id,
            removed.map((m) => m.id),
          );
        } catch (error) {
          // The merge itself stands; only its citations read as today's code instead of as they were.
          this.options.log('warn', `The merged item's citations could not take over the merged items' state: ${errorMessage(error)}`);
        }
        const forgotten = await this.options.archival.forgetMemories(
          removed.map((m) => m.id),
          agent.id,
        );
        for (const n of picked) used.add(n);
        record.merges.push({ removed: forgotten, added });
      } else {
        record.refused.push(`${call.function.name}: not a reflection function.`);
      }
    }
    if (calls.length > REFLECTION_MAX_CHANGES)
      record.refused.push(
        `${calls.length - REFLECTION_MAX_CHANGES} further changes were not made (at most ${REFLECTION_MAX_CHANGES} per pass).`,
      );
    if (record.blocks.length === 0 && record.merges.length === 0) {
      return {
        status: 'unchanged',
        reason: calls.length === 0 ? 'the model found nothing to tidy' : 'no proposed change was valid',
        refused: record.refused,
      };
    }
    record.time = new Date().toISOString();
    await this.saveRecord(record);
    await this.tell(agent, `Memory tidied by reflection: ${reflectionSummary(record)}. The user can undo it (MemGPT: Undo Reflection).`);
    this.changes.fire(record);
    return { status: 'changed', record };
  }

  async records(agentId?: string): Promise<ReflectionRecord[]> {
    const all = await this.readRecords();
    return all.filter((r) => agentId === undefined || r.agentId === agentId).reverse();
  }

  async undo(recordId: string): Promise<ReflectionRecord> {
    this.options.guard.assertWritable('undo a reflection');
    const record = (await this.readRecords()).find((r) => r.id === recordId);
    if (!record)
      throw new ReflectionError(
        'reflection_not_found',
        `No reflection "${recordId}" is kept (only the newest ${REFLECTION_RECORDS_KEPT} are).`,
      );
    if (record.undoneAt) throw new ReflectionError('reflection_conflict', `That reflection was already undone at ${record.undoneAt}.`);
    // An undo is the user's own edit: it waits for a running turn and is never pre-empted.
    return this.options.chat.runExclusive(async (agent) => {
      if (agent.id !== record.agentId) {
        throw new ReflectionError(
          'reflection_other_agent',
          `That reflection changed the memory of agent ${record.agentId}, which is not the active agent. Switch to it, then undo.`,
        );
      }
      await agent.refreshMemory();
      const conflicts: string[] = [];
      for (const b of record.blocks) {
        const now = agent.coreMemory.has(b.label) ? agent.coreMemory.get(b.label) : undefined;
        if (now !== b.after) conflicts.push(`block "${b.label}" was edited after the reflection`);
      }
      const present = new Map(this.options.archival.storedMemories(agent.id).map((m) => [m.id, m]));
      for (const m of record.merges) {
        if (present.get(m.added.id)?.text !== m.added.text)
          conflicts.push(`the merged item "${clip(m.added.text)}" was changed or removed`);
        for (const r of m.removed) if (present.has(r.id)) conflicts.push(`the item "${clip(r.text)}" is back already`);
      }
      if (conflicts.length > 0) {
        throw new ReflectionError(
          'reflection_conflict',
          `Nothing was undone: ${conflicts.join('; ')}. Undoing would overwrite those later changes. ` +
            'Edit the memory by hand instead (the reflection record shows each text before and after).',
        );
      }
      for (const b of record.blocks) await agent.restoreBlock(b.label, b.before);
      for (const m of record.merges) {
        await this.options.archival.forgetMemories([m.added.id], agent.id);
        await this.options.archival.restoreForgotten(m.removed);
      }
      const undone = { ...record, undoneAt: new Date().toISOString() };
      await this.saveRecord(undone);
      await this.tell(agent, `The user undid a reflection: ${reflectionSummary(record)} is reversed.`);
      this.changes.fire(undone);
      return undone;
    });
  }

  /** The agent hears of the change at its next step, and the chat shows it as it happens. */
  private async tell(agent: Agent, text: string): Promise<void> {
    try {
      await agent.enqueue({ type: 'system_alert', text });
    } catch (error) {
      this.options.log('warn', `The agent could not be told about the reflection: ${errorMessage(error)}`);
    }
  }

  private file(): string {
    return path.join(this.options.storageDir, RECORDS_FILE);
  }

  private async readRecords(): Promise<ReflectionRecord[]> {
    try {
      return (await readJsonFile(this.file(), validateRecords, { readOnly: this.options.guard.readOnly }))?.records ?? [];
    } catch (error) {
      this.options.log('warn', `The reflection records could not be read (${errorMessage(error)}); none are shown.`);
      return [];
    }
  }

  /** Adds or replaces a record (same id), keeping the newest REFLECTION_RECORDS_KEPT. */
  private saveRecord(record: ReflectionRecord): Promise<void> {
    return this.options.queue.run(async () => {
      const records = (await this.readRecords()).filter((r) => r.id !== record.id);
      records.push(record);
      records.sort((a, b) => a.time.localeCompare(b.time));
      await atomicWriteJson(this.file(), { records: records.slice(-REFLECTION_RECORDS_KEPT) });
    });
  }
}

function timedOut(): ReflectionOutcome {
  return {
    status: 'failed',
    error: `The reflection took longer than ${REFLECTION_TIMEOUT_MS / 1000} s and was stopped; memory is unchanged.`,
  };
}

function isAbort(error: unknown): boolean {
  return (error as { kind?: unknown } | null)?.kind === 'aborted' || (error as Error | null)?.name === 'AbortError';
}

/**
 * The merged text, with the code citations (`path:start-end`) of the merged items it dropped added
 * at its end: a citation is what marks an item stale when that code changes, and the model never
 * sees the citation of a remembered selection (it is kept beside the text, not in it).
 */
export function withCitations(content: string, merged: readonly StoredMemory[]): string {
  const key = (c: { path: string; startLine: number; endLine: number }): string => `${c.path}:${c.startLine}-${c.endLine}`;
  const kept = new Set(findCitations(content).map(key));
  const missing: string[] = [];
  for (const item of merged) {
    const own =
      item.path !== undefined && item.startLine !== undefined
        ? [{ path: item.path, startLine: item.startLine, endLine: item.endLine ?? item.startLine }]
        : [];
    for (const c of [...own, ...findCitations(item.text)]) {
      const k = key(c);
      if (kept.has(k)) continue;
      kept.add(k);
      missing.push(k);
    }
  }
  return missing.length === 0 ? content : `${content}\n(Cites ${missing.join(', ')}.)`;
}

function parseArguments(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
