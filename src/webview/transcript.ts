/**
 * The conversation as a list of transcript items, built from live AgentEvents and from recall
 * records (history). Pure: no DOM, so the rules (streaming, stop, pairing calls with results,
 * paging older history) are unit-tested in Node. The renderer asks what changed and redraws that.
 */
import type { AgentEvent } from '../core/agent/events';
import type { RecallRecord } from '../core/interfaces/recallStore';
import { ACTING_CARD_OUTPUT_CHARS } from '../core/limits';
import type { ApprovalCard, SystemEventKind, TranscriptItem, TurnOutcome } from '../protocol';

type Item<K extends TranscriptItem['kind']> = Extract<TranscriptItem, { kind: K }>;

/** What one update did: items appended at the end, items changed in place. */
export interface TranscriptChange {
  appended: TranscriptItem[];
  updated: TranscriptItem[];
}

const SEND_MESSAGE = 'send_message';
const ACTING_FUNCTIONS: ReadonlySet<string> = new Set(['edit_file', 'write_file', 'run_command']);

export class Transcript {
  private list: TranscriptItem[] = [];
  private readonly byId = new Map<string, TranscriptItem>();
  /** Tool results seen in history whose call is on an older page not loaded yet. */
  private readonly orphanResults = new Map<string, { content: string }>();
  private localCounter = 0;
  /**
   * Live items by the step and call they belong to. Call ids come from the model server and some
   * servers reuse them ("call_0" in every reply); the step id is ours, so the pair is unique.
   */
  private readonly liveCalls = new Map<string, string>();
  /** The newest item made for each call id: approvals name only the call. */
  private readonly newestForCall = new Map<string, string>();
  /** Ids of items that came from history pages (an older page may reuse a newer page's call ids). */
  private readonly fromHistory = new Set<string>();
  /** The first item shown for each recall record (Search Memory scrolls to it). */
  private readonly recordItems = new Map<string, string>();
  /** The live turn is automatic (step_started said so): what it adds is marked, not read as an answer. */
  private liveAutomatic = false;
  /** Seq of the oldest history record loaded; older pages are asked for with it. */
  oldestSeq: number | null = null;
  hasOlder = false;

  get items(): readonly TranscriptItem[] {
    return this.list;
  }

  get(id: string): TranscriptItem | undefined {
    return this.byId.get(id);
  }

  /** The id of the item showing a recall record, when that record is loaded and shown. */
  itemForRecord(recordId: string): string | undefined {
    const id = this.recordItems.get(recordId);
    return id !== undefined && this.byId.has(id) ? id : undefined;
  }

  /** True while an assistant message or monologue is still streaming. */
  get isStreaming(): boolean {
    return this.list.some((i) => (i.kind === 'assistant' && i.state === 'streaming') || (i.kind === 'monologue' && i.streaming));
  }

  clear(): void {
    this.list = [];
    this.byId.clear();
    this.orphanResults.clear();
    this.liveCalls.clear();
    this.newestForCall.clear();
    this.fromHistory.clear();
    this.recordItems.clear();
    this.liveAutomatic = false;
    this.oldestSeq = null;
    this.hasOlder = false;
  }

  /** The user's own message, shown at once (the agent emits no event for it). */
  addUser(text: string): TranscriptChange {
    return this.append({ kind: 'user', id: this.localId('u'), text, time: new Date().toISOString() });
  }

  apply(event: AgentEvent): TranscriptChange {
    const change: TranscriptChange = { appended: [], updated: [] };
    switch (event.type) {
      case 'monologue_delta':
      case 'monologue': {
        const id = `m-${event.stepId}`;
        const existing = this.find(id, 'monologue');
        if (existing) {
          existing.text = event.type === 'monologue' ? event.text : existing.text + event.delta;
          existing.streaming = event.type === 'monologue_delta';
          change.updated.push(existing);
        } else {
          const text = event.type === 'monologue' ? event.text : event.delta;
          merge(change, this.append({ kind: 'monologue', id, text, streaming: event.type === 'monologue_delta', ...this.mark() }));
        }
        break;
      }
      case 'function_call_started':
        if (event.name === SEND_MESSAGE) merge(change, this.assistant(event.stepId, event.callId).change);
        else merge(change, this.ensureCard(event.stepId, event.callId, event.name, event.arguments).change);
        break;
      case 'message_delta': {
        const { item, change: c } = this.assistant(event.stepId, event.callId);
        merge(change, c);
        // After Stop the shown text is the partial answer; late deltas do not grow it.
        if (item.state === 'streaming') {
          item.text += event.delta;
          if (!change.appended.includes(item)) change.updated.push(item);
        }
        break;
      }
      case 'message_complete': {
        const { item, change: c } = this.assistant(event.stepId, event.callId);
        merge(change, c);
        item.text = event.text;
        item.state = event.partial ? 'partial' : 'complete';
        if (!change.appended.includes(item)) change.updated.push(item);
        break;
      }
      case 'function_call_finished': {
        if (event.name === SEND_MESSAGE && event.status === 'OK') break;
        const { item: card, change: c } = this.ensureCard(event.stepId, event.callId, event.name, event.arguments);
        merge(change, c);
        card.status = event.status;
        card.result = event.result;
        card.arguments = event.arguments;
        if (!change.appended.includes(card)) change.updated.push(card);
        break;
      }
      case 'system_event':
        // The window's login is for the agent (it learns when the user was last here), not news for the user.
        if (event.kind === 'login') break;
        merge(change, this.append({ kind: 'event', id: this.localId('s'), event: event.kind, text: event.text }));
        break;
      case 'error':
        merge(change, this.stopStreaming('partial'));
        merge(
          change,
          this.append({ kind: 'error', id: this.localId('e'), message: event.message, recoverable: event.recoverable, retried: false }),
        );
        break;
      case 'turn_finished':
        merge(
          change,
          this.stopStreaming(
            event.reason === 'done' || event.reason === 'paused' || event.reason === 'step_limit' ? 'complete' : 'partial',
          ),
        );
        this.liveCalls.clear();
        this.liveAutomatic = false;
        // Stopped before any answer: say so, as the restored history will.
        if (event.reason === 'cancelled' && this.unansweredSinceUser()) {
          merge(change, this.append({ kind: 'event', id: this.localId('s'), event: 'turn_stopped', text: STOPPED_NOTE }));
        }
        break;
      case 'command_output': {
        const card = this.liveCard(event.stepId, event.callId);
        if (!card) break;
        const all = (card.output ?? '') + event.chunk;
        // The tail: the card shows the latest output; the result keeps the start and the end.
        card.output = all.length > ACTING_CARD_OUTPUT_CHARS ? all.slice(all.length - ACTING_CARD_OUTPUT_CHARS) : all;
        change.updated.push(card);
        break;
      }
      case 'files_changed': {
        const card = this.liveCard(event.stepId, event.callId);
        if (!card) break;
        card.checkpointId = event.checkpointId;
        change.updated.push(card);
        break;
      }
      case 'step_started':
        this.liveAutomatic = event.automatic === true;
        break;
      case 'memory_changed':
      case 'context_usage':
        break;
    }
    return change;
  }

  /** True when the newest user message has no answer, no error and no stop note after it (an automatic turn's reply is none). */
  private unansweredSinceUser(): boolean {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const item = this.list[i]!;
      if (isAutomatic(item)) continue;
      if (item.kind === 'user') return true;
      if (item.kind === 'assistant' || item.kind === 'error' || (item.kind === 'event' && item.event === 'turn_stopped')) return false;
    }
    return false;
  }

  /** An edit or command waits for the user: its card shows the question. */
  setApproval(card: ApprovalCard): TranscriptChange {
    const name =
      card.kind === 'tool'
        ? card.functionName
        : card.kind === 'command'
          ? 'run_command'
          : card.kind === 'edit'
            ? 'edit_file'
            : 'write_file';
    const known = this.newestForCall.get(card.callId);
    const existing = known ? this.find(known, 'function') : undefined;
    const { item, change } = existing
      ? { item: existing, change: { appended: [], updated: [] } as TranscriptChange }
      : this.newCard(card.callId, name, '{}');
    item.approval = card;
    if (!change.appended.includes(item)) change.updated.push(item);
    return change;
  }

  /** The question was answered or withdrawn. */
  closeApproval(id: string): TranscriptChange {
    const item = this.list.find((i): i is Item<'function'> => i.kind === 'function' && i.approval?.id === id);
    if (!item) return { appended: [], updated: [] };
    delete item.approval;
    return { appended: [], updated: [item] };
  }

  /**
   * Ends everything still streaming: assistant text becomes 'partial' (after Stop, an error or a
   * cancelled turn) or 'complete'; running function cards become 'cancelled' when stopped.
   */
  stopStreaming(outcome: 'partial' | 'complete'): TranscriptChange {
    const updated: TranscriptItem[] = [];
    for (const item of this.list) {
      if (item.kind === 'assistant' && item.state === 'streaming') {
        item.state = outcome;
        updated.push(item);
      } else if (item.kind === 'monologue' && item.streaming) {
        item.streaming = false;
        updated.push(item);
      } else if (item.kind === 'function' && item.status === 'running' && outcome === 'partial') {
        item.status = 'cancelled';
        updated.push(item);
      }
    }
    return { appended: [], updated };
  }

  markRetried(id: string): TranscriptChange {
    const item = this.find(id, 'error');
    if (!item || item.retried) return { appended: [], updated: [] };
    item.retried = true;
    return { appended: [], updated: [item] };
  }

  /**
   * Adds a page of history (oldest first) before everything shown. Returns the new items, in
   * order, for the renderer to insert at the top, plus older cards that got their results.
   */
  prependHistory(
    records: readonly RecallRecord[],
    hasOlder: boolean,
    outcomes: readonly TurnOutcome[] = [],
    newestSeq?: number,
  ): TranscriptChange & { prepended: TranscriptItem[] } {
    const fresh = records.filter((r) => this.oldestSeq === null || r.seq < this.oldestSeq);
    // The records are converted in runs that end where a failed or stopped turn ended, and the
    // outcome goes right after its run, where it was shown live.
    const batch = new Set<string>();
    const taken = (id: string): boolean => this.fromHistory.has(id) || batch.has(id);
    const converted: TranscriptItem[] = [];
    const pending = [...outcomes].sort((a, b) => a.afterSeq - b.afterSeq);
    const newestOutcome = outcomes.reduce<TurnOutcome | undefined>((n, o) => (n && n.afterSeq > o.afterSeq ? n : o), undefined);
    let retryCandidate: Extract<TranscriptItem, { kind: 'error' }> | undefined;
    let start = 0;
    const flush = (end: number): void => {
      for (const item of recallToTranscript(fresh.slice(start, end), this.orphanResults, taken, this.recordItems)) {
        batch.add(item.id);
        converted.push(item);
      }
      start = end;
    };
    for (const outcome of pending) {
      const end = fresh.findIndex((r) => r.seq > outcome.afterSeq);
      flush(end < 0 ? fresh.length : Math.max(start, end));
      const item = outcomeItem(outcome, converted[converted.length - 1]);
      if (item && !taken(item.id)) {
        batch.add(item.id);
        converted.push(item);
        if (outcome === newestOutcome && item.kind === 'error') retryCandidate = item;
      }
    }
    flush(fresh.length);
    // Retry is offered for the newest failure on the newest page while nothing was said after it.
    // Events (the next window's login) and turns nobody asked for (a greeting at window open, a
    // timer) do not count: they answer no one, and the question is still unanswered.
    if (retryCandidate && newestSeq !== undefined && retryCandidate.recoverable) {
      const after = converted.slice(converted.indexOf(retryCandidate) + 1);
      retryCandidate.retried = after.some((i) => i.kind !== 'event' && !isAutomatic(i));
    }
    const shown = converted.filter((i) => !this.byId.has(i.id));
    for (const item of shown) {
      this.byId.set(item.id, item);
      this.fromHistory.add(item.id);
    }
    this.list = [...shown, ...this.list];
    const first = fresh[0];
    if (first) this.oldestSeq = this.oldestSeq === null ? first.seq : Math.min(this.oldestSeq, first.seq);
    this.hasOlder = hasOlder;
    return { prepended: shown, appended: [], updated: [] };
  }

  /**
   * Removes live system-event items that the newest history page also holds. An event the agent
   * records while the view waits for its first page (the window's login, a file opened at start)
   * arrives twice: live, and in the page. Only the page's trailing events are compared (anything
   * older was recorded before those live items fired). Returns the ids removed.
   */
  dropEchoedEvents(liveIds: readonly string[], page: readonly TranscriptItem[]): string[] {
    const trailing: Item<'event'>[] = [];
    for (let i = page.length - 1; i >= 0 && page[i]!.kind === 'event'; i--) trailing.push(page[i] as Item<'event'>);
    const removed: string[] = [];
    for (const id of liveIds) {
      const live = this.find(id, 'event');
      if (!live) continue;
      const twin = trailing.findIndex((e) => e.event === live.event && e.text === live.text);
      if (twin < 0) continue;
      trailing.splice(twin, 1);
      this.list = this.list.filter((i) => i !== live);
      this.byId.delete(id);
      removed.push(id);
    }
    return removed;
  }

  private assistant(stepId: string, callId: string): { item: Item<'assistant'>; change: TranscriptChange } {
    const existing = this.liveItem(stepId, callId, 'assistant');
    if (existing) return { item: existing, change: { appended: [], updated: [] } };
    const item: Item<'assistant'> = {
      kind: 'assistant',
      id: this.freeId(`a-${callId}`),
      text: '',
      state: 'streaming',
      time: new Date().toISOString(),
      ...this.mark(),
    };
    this.remember(stepId, callId, item.id);
    return { item, change: this.append(item) };
  }

  /**
   * The card of a call, made on its first event. A call repeating the one just before it in the
   * same turn (same function, same arguments) joins that card and counts up, instead of stacking
   * identical cards.
   */
  private ensureCard(stepId: string, callId: string, name: string, args: string): { item: Item<'function'>; change: TranscriptChange } {
    const existing = this.liveItem(stepId, callId, 'function');
    if (existing) return { item: existing, change: { appended: [], updated: [] } };
    const twin = repeatedCall(this.list, name, args, this.liveAutomatic);
    if (twin) {
      twin.count = (twin.count ?? 1) + 1;
      twin.status = 'running';
      this.remember(stepId, callId, twin.id);
      return { item: twin, change: { appended: [], updated: [twin] } };
    }
    const made = this.newCard(callId, name, args);
    this.remember(stepId, callId, made.item.id);
    return made;
  }

  private newCard(callId: string, name: string, args: string): { item: Item<'function'>; change: TranscriptChange } {
    const item: Item<'function'> = {
      kind: 'function',
      id: this.freeId(`f-${callId}`),
      name,
      arguments: args,
      status: 'running',
      result: null,
      ...this.mark(),
    };
    this.newestForCall.set(callId, item.id);
    return { item, change: this.append(item) };
  }

  private liveCard(stepId: string, callId: string): Item<'function'> | undefined {
    return this.liveItem(stepId, callId, 'function');
  }

  private liveItem<K extends 'assistant' | 'function'>(stepId: string, callId: string, kind: K): Item<K> | undefined {
    const id = this.liveCalls.get(callKey(stepId, callId));
    return id ? this.find(id, kind) : undefined;
  }

  private remember(stepId: string, callId: string, id: string): void {
    this.liveCalls.set(callKey(stepId, callId), id);
    this.newestForCall.set(callId, id);
  }

  /** `base` when no item has it yet, else a fresh variant: a reused call id never lands on an older item. */
  private freeId(base: string): string {
    if (!this.byId.has(base)) return base;
    this.localCounter += 1;
    return `${base}~${this.localCounter}`;
  }

  private find<K extends TranscriptItem['kind']>(id: string, kind: K): Item<K> | undefined {
    const item = this.byId.get(id);
    return item && item.kind === kind ? (item as Item<K>) : undefined;
  }

  private append(item: TranscriptItem): TranscriptChange {
    this.list.push(item);
    this.byId.set(item.id, item);
    return { appended: [item], updated: [] };
  }

  /** The automatic mark for an item the live turn makes. */
  private mark(): { automatic?: true } {
    return this.liveAutomatic ? { automatic: true } : {};
  }

  private localId(prefix: string): string {
    this.localCounter += 1;
    return `${prefix}-${this.localCounter}`;
  }
}

/** The words shown when a turn was stopped before any answer arrived. */
export const STOPPED_NOTE = 'Stopped before MemGPT answered.';

/**
 * The item a restored outcome adds after `before` (the last item of its turn). A stop after part
 * of an answer adds nothing: the partial answer already says it was stopped. A restored error
 * starts without Retry; the newest one may get it back (see prependHistory).
 */
function outcomeItem(outcome: TurnOutcome, before: TranscriptItem | undefined): TranscriptItem | undefined {
  switch (outcome.kind) {
    case 'error':
      return { kind: 'error', id: `o-${outcome.afterSeq}-e`, message: outcome.message, recoverable: outcome.recoverable, retried: true };
    case 'stopped':
      if (before?.kind === 'assistant') return undefined;
      return { kind: 'event', id: `o-${outcome.afterSeq}-s`, event: 'turn_stopped', text: STOPPED_NOTE };
  }
}

/** Made in a turn nobody asked for: shown quietly, and never taken for an answer to the user. */
export function isAutomatic(item: TranscriptItem): boolean {
  return (item.kind === 'assistant' || item.kind === 'monologue' || item.kind === 'function') && item.automatic === true;
}

function callKey(stepId: string, callId: string): string {
  return `${stepId}\u0000${callId}`;
}

/** The arguments that decide what a call does (the heartbeat request changes nothing the user sees). */
function callSignature(name: string, args: string): string {
  try {
    const v: unknown = JSON.parse(args);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const { request_heartbeat: _ignored, ...rest } = v as Record<string, unknown>;
      return `${name}\u0000${JSON.stringify(rest)}`;
    }
  } catch {
    // Not JSON: compared as written.
  }
  return `${name}\u0000${args}`;
}

/**
 * The card of the same call earlier in this turn, if any: looks back past thoughts and other
 * cards, and stops at anything the user reads as a new exchange (their message, an answer, an error).
 */
function repeatedCall(list: readonly TranscriptItem[], name: string, args: string, automatic: boolean): Item<'function'> | undefined {
  // Edits and commands each ask the user and change something: every one keeps its own card.
  if (ACTING_FUNCTIONS.has(name)) return undefined;
  const wanted = callSignature(name, args);
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (item.kind === 'user' || item.kind === 'assistant' || item.kind === 'error') return undefined;
    if (item.kind === 'function') {
      // A turn nobody asked for is another exchange: its cards and the user's turn's never merge.
      if (isAutomatic(item) !== automatic) return undefined;
      if (item.approval || item.checkpointId || item.output) return undefined;
      if (callSignature(item.name, item.arguments) === wanted) return item;
    }
  }
  return undefined;
}

function merge(into: TranscriptChange, from: TranscriptChange): void {
  into.appended.push(...from.appended);
  for (const u of from.updated) if (!into.updated.includes(u)) into.updated.push(u);
}

// ---------------------------------------------------------------------------------------------
// Recall records → transcript items
// ---------------------------------------------------------------------------------------------

/** Messages are often stored as MemGPT-style JSON packets (`{"type": "user_message", "message": …}`). */
function unpack(content: string): { type?: string; text: string; packet?: Record<string, unknown> } {
  const trimmed = content.trim();
  if (trimmed.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(trimmed);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const text = [o.message, o.text, o.content, o.reason].find((x): x is string => typeof x === 'string');
        if (text !== undefined) return { ...(typeof o.type === 'string' ? { type: o.type } : {}), text, packet: o };
      }
    } catch {
      // Not a packet: plain text.
    }
  }
  return { text: content };
}

/** The agent's marker on event texts meant for the model; the user is the one reading the chip. */
const HIDDEN_NOTE = /^\s*\[This is an automated system message hidden from the user\]\s*/;

/**
 * The chip text for a stored system event: the same short line the live view showed (the agent's
 * `notice`), rebuilt from the packet's fields, so a reload does not show the model's instructions.
 */
function storedEventText(type: string | undefined, text: string, packet: Record<string, unknown> | undefined): string {
  const field = (k: string): string | undefined => (typeof packet?.[k] === 'string' ? (packet[k] as string) : undefined);
  const path = field('path');
  switch (type) {
    case 'login':
      return 'The user logged in.';
    case 'file_opened':
      if (path) return `Opened ${path}`;
      break;
    case 'file_saved':
      if (path) return `Saved ${path}`;
      break;
    case 'selection_remembered':
      if (path) return `Remembered ${path}${field('lines') ? `:${field('lines')}` : ''}`;
      break;
    case 'core_memory_edited':
      if (field('label')) return `You edited core memory "${field('label')}"`;
      break;
    case 'heartbeat':
      return `Heartbeat: ${text.replace(HIDDEN_NOTE, '')}`;
  }
  return text.replace(HIDDEN_NOTE, '');
}

const EVENT_KINDS: readonly SystemEventKind[] = [
  'user_message',
  'login',
  'system_alert',
  'file_opened',
  'file_saved',
  'selection_remembered',
  'core_memory_edited_by_user',
  'heartbeat',
  'timer',
  'memory_pressure',
  'summary',
];

function eventKind(type: string | undefined, fallback: SystemEventKind): SystemEventKind {
  // The agent's packet says "core_memory_edited" for the input "core_memory_edited_by_user".
  if (type === 'core_memory_edited') return 'core_memory_edited_by_user';
  return EVENT_KINDS.find((k) => k === type) ?? fallback;
}

function sendMessageText(args: string): string | undefined {
  try {
    const v: unknown = JSON.parse(args);
    if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string') {
      return (v as { message: string }).message;
    }
  } catch {
    // A broken call: shown as a failed card instead.
  }
  return undefined;
}

/**
 * Converts recall records (oldest first) into transcript items. A tool result pairs with the
 * call it answers; results whose call is not in `records` are kept in `orphanResults` so a call
 * on an older page still gets its result when that page arrives.
 */
export function recallToTranscript(
  records: readonly RecallRecord[],
  orphanResults: Map<string, { content: string }> = new Map(),
  /** Ids already used by items of other history pages. */
  taken: (id: string) => boolean = () => false,
  /** Filled with the first item id of each record. */
  recordItems?: Map<string, string>,
): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  const cards = new Map<string, Item<'function'>>();
  const sendCalls = new Map<string, Item<'assistant'>>();
  const used = new Set<string>();
  // A server that reuses call ids gives two calls the same id: the record id tells them apart.
  const idFor = (base: string, recordId: string): string => {
    const id = used.has(base) || taken(base) ? `${base}@${recordId}` : base;
    used.add(id);
    return id;
  };
  for (const r of records) {
    const m = r.message;
    const base = `r-${r.id}`;
    const shownBefore = items.length;
    const mark: { automatic?: true } = r.automatic === true ? { automatic: true } : {};
    switch (r.kind) {
      case 'user': {
        const { type, text, packet } = unpack(m.content ?? '');
        if (type === 'login') break;
        if (type && type !== 'user_message') {
          items.push({ kind: 'event', id: base, event: eventKind(type, 'system_alert'), text: storedEventText(type, text, packet) });
        } else items.push({ kind: 'user', id: base, text, time: r.time });
        break;
      }
      case 'assistant': {
        if (m.role !== 'assistant') break;
        if (m.content && m.content.trim()) items.push({ kind: 'monologue', id: `${base}-m`, text: m.content, streaming: false, ...mark });
        for (const call of m.tool_calls ?? []) {
          const text = call.function.name === SEND_MESSAGE ? sendMessageText(call.function.arguments) : undefined;
          if (text !== undefined) {
            const reply: Item<'assistant'> = {
              kind: 'assistant',
              id: idFor(`a-${call.id}`, r.id),
              text,
              state: 'complete',
              time: r.time,
              ...mark,
            };
            const orphan = orphanResults.get(call.id);
            if (orphan) {
              if (isFailedResult(orphan.content)) reply.state = 'partial';
              orphanResults.delete(call.id);
            }
            sendCalls.set(call.id, reply);
            items.push(reply);
            continue;
          }
          const twin = repeatedCall(items, call.function.name, call.function.arguments, r.automatic === true);
          if (twin) {
            // The same call again: it joins the earlier card, which shows the newest result.
            twin.count = (twin.count ?? 1) + 1;
            twin.status = 'running';
            cards.set(call.id, twin);
            continue;
          }
          const card: Item<'function'> = {
            kind: 'function',
            id: idFor(`f-${call.id}`, r.id),
            name: call.function.name,
            arguments: call.function.arguments,
            status: 'running',
            result: null,
            ...mark,
          };
          const orphan = orphanResults.get(call.id);
          if (orphan) {
            applyResult(card, orphan.content);
            orphanResults.delete(call.id);
          }
          cards.set(call.id, card);
          items.push(card);
        }
        break;
      }
      case 'tool': {
        if (m.role !== 'tool') break;
        const card = cards.get(m.tool_call_id);
        const reply = sendCalls.get(m.tool_call_id);
        if (card) applyResult(card, m.content);
        // A send_message that failed was cut off (Stop, a broken stream): the agent stored what the user saw.
        else if (reply) reply.state = isFailedResult(m.content) ? 'partial' : reply.state;
        else orphanResults.set(m.tool_call_id, { content: m.content });
        break;
      }
      case 'system_event':
      case 'system_alert': {
        const { type, text, packet } = unpack(typeof m.content === 'string' ? m.content : '');
        if (type === 'login') break;
        const event = eventKind(type, r.kind === 'system_alert' ? 'system_alert' : 'timer');
        items.push({ kind: 'event', id: base, event, text: storedEventText(type, text, packet) });
        break;
      }
      case 'summary':
        items.push({ kind: 'event', id: base, event: 'summary', text: unpack(typeof m.content === 'string' ? m.content : '').text });
        break;
    }
    const first = items[shownBefore];
    if (recordItems && first && !recordItems.has(r.id)) recordItems.set(r.id, first.id);
  }
  // A call with no result in recall was interrupted (a stop, a crash): it will not finish now.
  for (const card of cards.values()) if (card.status === 'running') card.status = 'cancelled';
  return items;
}

function applyResult(card: Item<'function'>, content: string): void {
  card.result = content;
  card.status = isFailedResult(content) ? 'Failed' : 'OK';
  // An applied edit names its checkpoint in its result, so Restore survives a reload.
  const checkpoint = /Checkpoint ([\w-]+) can restore/.exec(content)?.[1];
  if (checkpoint && card.status === 'OK') card.checkpointId = checkpoint;
}

function isFailedResult(content: string): boolean {
  try {
    const v: unknown = JSON.parse(content);
    return typeof v === 'object' && v !== null && (v as { status?: unknown }).status === 'Failed';
  } catch {
    return false; // Plain-text result: the call ran.
  }
}
