import * as path from 'node:path';
import type { Agent } from '../agent/agent';
import { AUTOMATIC_INPUTS, type AgentEvent, type AgentInput, type ContextUsage } from '../agent/events';
import { Emitter } from '../base/emitter';
import { errorMessage } from '../base/errors';
import type { RecallRecord } from '../interfaces/recallStore';
import { atomicWriteJson, readJsonFile } from '../storage/atomicFile';
import type { AgentHost } from './agentHost';
import type { RuntimeGuard } from './runtimeGuard';
import type { ConversationPort, PortDisposable, TurnOptions, TurnOutcome, UserMessageNotice } from './runtimePort';
import type { WorkspaceStorage } from './workspaceStorage';

export interface ConversationServiceOptions {
  storage: WorkspaceStorage;
  guard: RuntimeGuard;
  host: AgentHost;
  agentEvents: Emitter<AgentEvent>;
  /** Resolves once no settings or trust change is being applied (turns start after it). */
  rebuildsSettled: () => Promise<void>;
  /** A turn started or ended (the window's activity). */
  busyChanged: () => void;
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

/**
 * Turns of the active agent (run, queue, cancel) and the conversation as the chat shows it (pages
 * of recall, less what the user hid with Clear view).
 */
export class ConversationService implements ConversationPort {
  private busyTurns = 0;
  private readonly turnControllers = new Set<AbortController>();
  /** Turns and background work nobody asked for: a user's turn cancels them before it starts. */
  private readonly automaticWork = new Set<AbortController>();
  private readonly userMessages = new Emitter<UserMessageNotice>();

  constructor(private readonly options: ConversationServiceOptions) {}

  async handle(input: AgentInput, options: TurnOptions = {}): Promise<TurnOutcome> {
    const { guard, host, agentEvents } = this.options;
    guard.assertWritable('chat');
    const automatic = options.automatic ?? AUTOMATIC_INPUTS.includes(input.type);
    // The user never waits behind a turn they did not ask for (a login against a server that is
    // down would hold their first message for the whole request deadline).
    if (!automatic) this.preemptAutomatic();
    const controller = new AbortController();
    if (automatic) this.automaticWork.add(controller);
    await this.options.rebuildsSettled();
    this.busyTurns++;
    this.options.busyChanged();
    this.turnControllers.add(controller);
    try {
      if (input.type === 'user_message') this.userMessages.fire({ text: input.text, source: options.source ?? 'api' });
      const agent = await host.agent();
      const result = await agent.handle(input, {
        signal: options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.approver ? { approver: options.approver } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...(automatic ? { automatic } : {}),
      });
      return { reason: result.reason, messages: result.messages, ...(result.error !== undefined ? { error: result.error } : {}) };
    } catch (error) {
      // The agent never rejects for model errors; this is setup (no model, tiny window): tell the view too.
      const text = errorMessage(error);
      const event: AgentEvent = { type: 'error', message: text, recoverable: false };
      options.onEvent?.(event);
      agentEvents.fire(event);
      agentEvents.fire({ type: 'turn_finished', reason: 'error' });
      return { reason: 'error', messages: [], error: text };
    } finally {
      this.turnControllers.delete(controller);
      this.automaticWork.delete(controller);
      this.busyTurns--;
      this.options.busyChanged();
    }
  }

  cancelTurns(): void {
    for (const c of this.turnControllers) c.abort();
    this.preemptAutomatic();
  }

  /** Cancels every automatic turn and background pass, running or waiting. */
  preemptAutomatic(): void {
    for (const c of this.automaticWork) c.abort();
  }

  /** Runs work the user asked for on the active agent between turns (it waits for a running turn). */
  async runExclusive<T>(work: (agent: Agent) => Promise<T>): Promise<T> {
    this.options.guard.assertWritable('change the memory');
    await this.options.rebuildsSettled();
    const agent = await this.options.host.agent();
    return agent.exclusive(() => work(agent));
  }

  /**
   * Runs background work on the active agent between turns (in the agent's turn queue), with a
   * signal that a user's turn aborts; the user's turn then starts as soon as `work` returns, so
   * `work` must stop promptly once the signal fires. Rejects when no agent can be built.
   */
  async runAutomatic<T>(work: (agent: Agent, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.options.guard.assertWritable('tidy the memory');
    const controller = new AbortController();
    const combined = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
    this.automaticWork.add(controller);
    try {
      await this.options.rebuildsSettled();
      const agent = await this.options.host.agent();
      return await agent.exclusive(() => work(agent, combined));
    } finally {
      this.automaticWork.delete(controller);
    }
  }

  async enqueue(input: AgentInput): Promise<void> {
    this.options.guard.assertWritable('record editor events');
    await (await this.options.host.agent()).enqueue(input);
  }

  onEvent(listener: (event: AgentEvent) => void): PortDisposable {
    return this.options.agentEvents.on(listener);
  }

  onUserMessage(listener: (notice: UserMessageNotice) => void): PortDisposable {
    return this.userMessages.on(listener);
  }

  isBusy(): boolean {
    return this.busyTurns > 0;
  }

  async lastLogin(): Promise<string | null> {
    return (await this.options.storage.agents.loadActive())?.lastLogin ?? null;
  }

  // ─── The conversation as the chat shows it ─────────────────────────────────

  async clearView(agentId?: string): Promise<void> {
    const { storage, guard } = this.options;
    const id = agentId ?? (await this.options.host.agent()).id;
    const newest = storage.recall.page(id, undefined, 1)[0];
    if (!newest || guard.readOnly) return;
    const view = (await this.readView()) ?? { hiddenThroughSeq: {} };
    await atomicWriteJson(this.viewFile(), { hiddenThroughSeq: { ...view.hiddenThroughSeq, [id]: newest.seq } } satisfies ViewFile);
  }

  async conversation(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]> {
    const { storage } = this.options;
    const id = await storage.agents.activeAgentId();
    if (!id) return [];
    const hidden = await this.hiddenThrough(id);
    return storage.recall.page(id, beforeSeq, limit).filter((r) => r.seq > hidden);
  }

  async hasConversationBefore(seq: number): Promise<boolean> {
    return (await this.conversation(seq, 1)).length > 0;
  }

  /** The active agent's recall records as stored, the view's cut ignored (the chat counts its messages). */
  async recallPage(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]> {
    const { storage } = this.options;
    const id = await storage.agents.activeAgentId();
    return id ? storage.recall.page(id, beforeSeq, limit) : [];
  }

  contextUsage(): ContextUsage | undefined {
    return this.options.host.current?.usage();
  }

  activeAgentIdNow(): string | undefined {
    return this.options.host.lastBuilt?.id;
  }

  private viewFile(): string {
    return path.join(this.options.storage.dir, 'view.json');
  }

  private readView(): Promise<ViewFile | null> {
    return readJsonFile(this.viewFile(), validateViewFile, { readOnly: this.options.guard.readOnly }).then(
      (v) => v ?? null,
      () => null,
    );
  }

  private async hiddenThrough(agentId: string): Promise<number> {
    const seq = (await this.readView())?.hiddenThroughSeq?.[agentId];
    return typeof seq === 'number' ? seq : -1;
  }
}
