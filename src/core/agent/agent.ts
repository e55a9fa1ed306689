/**
 * The MemGPT agent loop.
 *
 * One `Agent` is one persisted MemGPT agent (core memory + FIFO queue + summary
 * + counters, saved through the AgentStateStore; every message in recall).
 *
 * handle(input) runs one event to completion:
 *   1. the input is rendered as a message (inputMessages.ts: a JSON envelope
 *      `{"type", ..., "time"}` in a user-role message) and appended to recall
 *      and to the queue; inputs given to enqueue() since the last step join too;
 *   2. memory management: past the pressure threshold a one-time alert is
 *      queued; past the limit the oldest messages are summarised (Summarizer)
 *      and evicted, whole tool-call units only, bounded rounds, then a last
 *      resort that cuts an oversized in-context message; never a loop;
 *   3. the model is called (streamed: monologue_delta for private thoughts,
 *      message_delta for send_message text as it is generated);
 *   4. function calls run (FunctionSet); the assistant message and all its
 *      tool results are appended together, so the queue never holds a call
 *      without its result; state is saved;
 *   5. repeat from 2 while a call asked for a heartbeat or failed (the failure
 *      text is the tool result the model reads), up to the step limit.
 *   A context-length error from the server forces a flush and one retry.
 *   A turn where a user message got no send_message gets one reminder (the
 *   user would otherwise see nothing); after that it just ends, as in MemGPT.
 *   Cancelling (signal) keeps what was streamed: a partial send_message is
 *   stored as a call whose result says it was cut off (partial: true).
 * Turns are serialised: a second handle() waits for the first.
 *
 * Wiring (extension / CLI):
 *   const agent = await Agent.open(deps, settings, agentId);
 *   agent.onEvent((e) => ui.post(e));
 *   await agent.handle({ type: 'user_message', text }, { signal });
 */
import type { Actor } from '../acting/actor';
import type { ArchivalStore } from '../interfaces/archivalStore';
import type { ProjectInstructions } from '../interfaces/instructions';
import type { ApprovalRequester } from '../interfaces/approval';
import type { ExternalFunctions } from '../interfaces/externalFunctions';
import { ChatModelError, type ChatMessage, type ChatModel, type ToolCall } from '../interfaces/chatModel';
import type { RecallStore } from '../interfaces/recallStore';
import type { Workspace } from '../interfaces/workspace';
import type { TokenCounter } from '../tokens/tokenCounter';
import { describeModelWait } from '../llm/modelWait';
import { CoreMemory, type CoreMemoryLimits } from '../memory/coreMemory';
import { ScopedCoreMemory, type MemoryScopes } from '../memory/memoryScopes';
import { agentArchival } from '../memory/agentArchival';
import { MEMORY_FUNCTION_NAMES } from '../functions/schemas';
import { FunctionSet, type FunctionContext, type FunctionOutcome } from '../functions/functionSet';
import { packageResult } from '../functions/results';
import { maskSecrets, maskSecretsDeep } from '../security/redact';
import {
  CHARS_PER_TOKEN_ESTIMATE,
  COMPACT_PROMPT_MAX_WINDOW_TOKENS,
  CONTEXT_WINDOW_SUGGESTION_STEP_TOKENS,
  DEFAULT_HEARTBEAT_STEP_LIMIT,
  FLUSH_FRACTION,
  FLUSH_MAX_ROUNDS,
  FUNCTION_ARGUMENTS_MAX_CHARS,
  FUNCTION_RESULT_MAX_CHARS,
  FUNCTION_RESULT_MAX_WINDOW_FRACTION,
  MAX_FUNCTION_CALLS_PER_RESPONSE,
  MIN_CONTEXT_WINDOW_TOKENS,
  REPLY_RESERVE_TOKENS,
  USER_MESSAGE_CUT_HEAD_FRACTION,
  USER_MESSAGE_MAX_ROOM_FRACTION,
} from '../limits';
import type { AgentState } from './agentState';
import { ContextWindow, repairToolPairs, type QueueEntry } from './contextWindow';
import type { AgentEvent, AgentEventListener, AgentInput, ContextUsage } from './events';
import {
  cutUserText,
  memoryPressureAlert,
  messageCutNotice,
  noReplyNudge,
  tooManyCallsAlert,
  renderInput,
  userMessageText,
  withUserMessageText,
  type CutText,
  type RenderedInput,
} from './inputMessages';
import { Summarizer } from './summarizer';
import { memoryStatistics, projectInstructionsSection, systemInstructions } from './systemPrompt';
import { MemgptError } from '../base/errors';
import { Emitter } from '../base/emitter';

export interface AgentDependencies {
  model: ChatModel;
  counter: TokenCounter;
  recall: RecallStore;
  archival: ArchivalStore;
  workspace: Workspace;
  /** Saves state after every step (the AgentStateStore). */
  states: { save(state: AgentState): Promise<void>; load(id: string): Promise<AgentState> };
  now?: () => Date;
  /** edit_file, write_file, run_command: offered only with it and an available (trusted) workspace. */
  acting?: Actor;
  /** The project's instruction files: a read-only section of the system message the memory functions refuse to change. */
  instructions?: ProjectInstructions;
  /** The user's and the workspace's shared blocks (loaded); without it every block is the agent's. */
  scopes?: MemoryScopes;
  /** Functions of the MCP servers the user configured, refreshed at the start of each turn. */
  external?: ExternalFunctions;
}

export interface AgentSettings {
  /** Tokens of the model's context window (contextWindowFor(model) or the user's override). */
  contextWindow: number;
  /** Fraction of the usable window at which the pressure alert fires (default DEFAULT_MEMORY_PRESSURE_FRACTION). */
  pressureFraction?: number;
  /** Model calls one event may chain (default DEFAULT_HEARTBEAT_STEP_LIMIT). */
  stepLimit?: number;
  /** Recorded in the state's settingsUsed. */
  embedderId?: string;
  /** Remind the model once per turn when a user message got no send_message (default true). */
  replyNudge?: boolean;
  /** Core memory character limits from the user's settings (default: limits.ts). */
  coreMemoryLimits?: CoreMemoryLimits;
}

export interface HandleOptions {
  signal?: AbortSignal;
  /** Events of this turn only (in addition to onEvent listeners). */
  onEvent?: AgentEventListener;
  /** Who approves this turn's edits and commands (the CLI's --yes or terminal); default the actor's. */
  approver?: ApprovalRequester;
  /** The model that answers this turn (a chat view's own model picker); default the agent's. Summaries keep the agent's. */
  model?: ChatModel;
  /**
   * A turn nobody asked for (login, timer, file wake-up): cancelling it ends it as `preempted`, and
   * a failure is returned, not shown as an error of the conversation (the user did not start it).
   */
  automatic?: boolean;
}

export interface TurnResult {
  reason: Extract<AgentEvent, { type: 'turn_finished' }>['reason'];
  steps: number;
  /** Texts passed to send_message in this turn (partial ones included). */
  messages: string[];
  error?: string;
}

/** The fixed part of the prompt alone does not fit the window: no flush can help. */
export class ContextTooSmallError extends MemgptError {
  constructor(message: string) {
    super('context_too_small', message);
  }
}

/**
 * The counts the system message and the summary header show, as of the last memory change
 * (`key`); saved so a restart sends the same prompt as before it.
 */
interface ShownCounts {
  key: string;
  recallCount: number;
  codeCount: number;
}

type PersistedState = AgentState & { pausedUntil?: string | null; shownCounts?: ShownCounts };

/**
 * Arguments rejected as too long are not kept: megabytes of them would fill
 * the window (and recall) with text the model has already been told is refused.
 */
function withoutOversizedArguments(call: ToolCall): ToolCall {
  const n = call.function.arguments.length;
  if (n <= FUNCTION_ARGUMENTS_MAX_CHARS) return call;
  return {
    ...call,
    function: {
      name: call.function.name,
      arguments: JSON.stringify({ note: `${n} characters of arguments, rejected as too long and not kept` }),
    },
  };
}

/**
 * A tool call with secrets masked in its arguments (the JSON text: the marker needs no escaping),
 * so a key the model echoes is never executed into memory, stored or shown.
 */
function maskCall(call: ToolCall): ToolCall {
  const args = maskSecrets(call.function.arguments);
  return args === call.function.arguments ? call : { ...call, function: { ...call.function, arguments: args } };
}

/** A message with secrets masked in its text and tool-call arguments. */
function maskMessage(m: ChatMessage): ChatMessage {
  if (m.role === 'assistant') {
    return {
      ...m,
      content: m.content === null ? null : maskSecrets(m.content),
      ...(m.tool_calls ? { tool_calls: m.tool_calls.map(maskCall) } : {}),
    };
  }
  return { ...m, content: maskSecrets(m.content) };
}

const CUT_ROUNDS = 8;
/** What runMemoryCalls accepts: edits of core memory and storing an archival item. */
const OUTSIDE_TURN_FUNCTIONS = ['core_memory_replace', 'archival_memory_insert'] as const;
/** Smallest result budget: below this no function result is useful. */
const MIN_RESULT_CHARS = 300;

export class Agent {
  private readonly core: CoreMemory;
  /** Edits of core memory, routed to the scope each block belongs to. */
  private readonly memory: ScopedCoreMemory;
  /** Archival memory as this agent sees it: the code, and only its own remembered items. */
  private readonly archival: ArchivalStore;
  private readonly window: ContextWindow;
  private readonly functions: FunctionSet;
  private readonly summarizer: Summarizer;
  private readonly events = new Emitter<AgentEvent>();
  private readonly now: () => Date;
  private readonly stepLimit: number;
  private readonly resultMaxChars: number;
  private readonly instructions: string;
  /** Tokens one user message may take in the queue (see fitUserText). */
  private readonly userMessageMaxTokens: number;
  private pending: QueueEntry[] = [];
  private turnChain: Promise<unknown> = Promise.resolve();
  private saveChain: Promise<void> = Promise.resolve();
  private turnListener: AgentEventListener | undefined;
  private turnApprover: ApprovalRequester | undefined;
  /** Ties a turn's file changes to one checkpoint. */
  private turnId = '';
  /** The running turn is automatic: its records are marked so (RecallRecord.automatic). */
  private turnAutomatic = false;
  private state: PersistedState;

  private constructor(
    private readonly deps: AgentDependencies,
    private readonly settings: AgentSettings,
    state: AgentState,
  ) {
    if (!Number.isInteger(settings.contextWindow) || settings.contextWindow < MIN_CONTEXT_WINDOW_TOKENS) {
      throw new RangeError(
        `The context window is ${settings.contextWindow} tokens; MemGPT needs at least ${MIN_CONTEXT_WINDOW_TOKENS}. Set MemGPT: Context Window to the model's real size.`,
      );
    }
    this.now = deps.now ?? (() => new Date());
    this.state = { ...state };
    this.stepLimit = Math.max(1, settings.stepLimit ?? DEFAULT_HEARTBEAT_STEP_LIMIT);
    const compact = settings.contextWindow <= COMPACT_PROMPT_MAX_WINDOW_TOKENS;
    this.resultMaxChars = Math.min(
      FUNCTION_RESULT_MAX_CHARS,
      Math.floor(settings.contextWindow * FUNCTION_RESULT_MAX_WINDOW_FRACTION * CHARS_PER_TOKEN_ESTIMATE),
    );
    // Masked on the way in too: an agent saved by an older version may hold a key in plain text.
    this.core = CoreMemory.fromJSON(maskSecretsDeep(state.coreMemory), {
      now: this.now,
      ...(settings.coreMemoryLimits ? { limits: settings.coreMemoryLimits } : {}),
    });
    this.memory = new ScopedCoreMemory(this.core, deps.scopes ?? null);
    this.archival = agentArchival(deps.archival, state.id);
    this.functions = new FunctionSet({
      workspace: deps.workspace.available,
      compact,
      acting: deps.acting !== undefined && deps.workspace.available,
    });
    this.instructions = systemInstructions({ compact, workspaceAvailable: deps.workspace.available });
    this.window = new ContextWindow({
      windowTokens: settings.contextWindow,
      counter: deps.counter,
      tools: this.functions.schemas,
      instructions: this.instructions,
      ...(settings.pressureFraction !== undefined ? { pressureFraction: settings.pressureFraction } : {}),
    });
    this.summarizer = new Summarizer(deps.model, deps.counter, settings.contextWindow);
    const records = deps.recall.get(state.inContextIds);
    const entries: QueueEntry[] = records.map((r) => ({ id: r.id, kind: r.kind, message: maskMessage(r.message), time: r.time }));
    this.window.entries = repairToolPairs(entries, this.now().toISOString());
    this.window.summary = state.summary ? { ...state.summary, text: maskSecrets(state.summary.text) } : null;
    // From the parts that never change for this agent (instructions, functions), so a message is
    // cut the same way every time it is restored and the prompt stays the same between runs.
    const fixedTokens = this.window.effective(
      deps.counter.countRequest([{ role: 'system', content: this.instructions }], this.functions.schemas),
    );
    this.userMessageMaxTokens = Math.max(0, Math.floor((this.window.flushThreshold() - fixedTokens) * USER_MESSAGE_MAX_ROOM_FRACTION));
    // Recall keeps long messages whole; their in-context copies are cut again, visibly.
    this.window.entries = this.window.entries.map((e) => {
      const text = e.kind === 'user' ? userMessageText(e.message) : null;
      const cut = text === null ? null : this.fitUserText(text);
      return cut ? { ...e, message: withUserMessageText(e.message, cut.text) } : e;
    });
    this.window.pressureWarned = state.pressureWarned;
    this.state.settingsUsed = {
      model: deps.model.model,
      contextWindow: settings.contextWindow,
      embedderId: settings.embedderId ?? state.settingsUsed.embedderId,
    };
    this.refreshSystem();
  }

  /** Restores a saved agent: core memory, queue (from recall), summary, counters. */
  static async open(deps: AgentDependencies, settings: AgentSettings, agentId: string): Promise<Agent> {
    return new Agent(deps, settings, await deps.states.load(agentId));
  }

  /** An agent from a state already loaded or just created (createAgentState / AgentStateStore.create). */
  static fromState(deps: AgentDependencies, settings: AgentSettings, state: AgentState): Agent {
    return new Agent(deps, settings, state);
  }

  get id(): string {
    return this.state.id;
  }

  get name(): string {
    return this.state.name;
  }

  get coreMemory(): CoreMemory {
    return this.core;
  }

  /** The tool schemas offered to the model (for display and tests). */
  get toolSchemas(): FunctionSet['schemas'] {
    return this.functions.schemas;
  }

  /** A copy of the state as it would be saved now. */
  snapshot(): AgentState {
    return this.buildState();
  }

  /** The exact messages of the next request (system, summary, queue). */
  contextMessages(): ChatMessage[] {
    this.refreshSystem();
    return [...this.window.messages(this.totalMessages()), ...this.pending.map((e) => e.message)];
  }

  usage(): ContextUsage {
    this.refreshSystem();
    return this.window.usage({
      totalMessages: this.totalMessages(),
      recallCount: this.deps.recall.count(this.state.id),
      archivalCount: this.archival.count(),
    });
  }

  onEvent(listener: AgentEventListener): () => void {
    const subscription = this.events.on(listener);
    return () => subscription.dispose();
  }

  /** Runs one event to completion (see the module comment). Never rejects for model or function errors. */
  handle(input: AgentInput, options: HandleOptions = {}): Promise<TurnResult> {
    const run = this.turnChain.then(() => this.runTurn(input, options));
    this.turnChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Adds an event to the queue without calling the model; the model sees it
   * at its next step (file events use this by default). Durable on return.
   */
  async enqueue(input: AgentInput): Promise<void> {
    const rendered = this.render(input);
    // Not part of a running automatic turn: an event queued meanwhile is the editor's, not that turn's.
    const [entry] = await this.appendRecords([rendered], false, false);
    this.pending.push(entry!);
    this.tellCut(rendered);
    if (input.type === 'login') this.state.lastLogin = this.now().toISOString();
    this.emit({ type: 'system_event', kind: input.type, text: rendered.notice });
    await this.save();
  }

  /** The user's own edit of a core memory block; the agent is told at its next step. */
  async editCoreMemory(label: string, value: string): Promise<void> {
    await this.memory.setBlock(label, maskSecrets(value));
    this.emit({ type: 'memory_changed', what: 'core' });
    await this.enqueue({ type: 'core_memory_edited_by_user', label });
  }

  /**
   * Runs `work` between turns, in the same queue as turns: no turn starts while it runs and it
   * never starts during one. Background work on the agent's memory (reflection) uses it.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turnChain.then(work);
    this.turnChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs memory function calls made outside a turn (reflection) through the same functions,
   * validation and masking as the agent's own calls; only core and archival memory functions
   * are accepted. Nothing goes to recall: the caller keeps its own record of what changed.
   */
  async runMemoryCalls(calls: readonly { name: string; arguments: string }[], signal?: AbortSignal): Promise<FunctionOutcome[]> {
    const outcomes: FunctionOutcome[] = [];
    for (const call of calls) {
      if (!(OUTSIDE_TURN_FUNCTIONS as readonly string[]).includes(call.name)) {
        outcomes.push(this.refused(call.name, `${call.name} cannot be used here; only ${OUTSIDE_TURN_FUNCTIONS.join(', ')}.`));
        continue;
      }
      const outcome = await this.functions.execute(
        { name: call.name, arguments: maskSecrets(call.arguments) },
        {
          agentId: this.state.id,
          coreMemory: this.memory,
          recall: this.deps.recall,
          archival: this.archival,
          workspace: this.deps.workspace,
          now: this.now,
          resultMaxChars: this.resultBudget(),
          inContextIds: new Set(),
          ...(this.deps.instructions ? { readOnlyBlocks: this.deps.instructions } : {}),
          ...(signal ? { signal } : {}),
        },
      );
      for (const effect of outcome.effects) if (effect.kind === 'memory_changed') this.emit({ type: 'memory_changed', what: effect.what });
      outcomes.push(outcome);
    }
    await this.save();
    return outcomes;
  }

  /** Puts a block back to `value` as an undo does (the block's own limit and scope apply); saved. */
  async restoreBlock(label: string, value: string): Promise<void> {
    await this.memory.setBlock(label, maskSecrets(value));
    this.emit({ type: 'memory_changed', what: 'core' });
    await this.save();
  }

  /** Rereads shared blocks another window changed, so a comparison sees what the next step would. */
  async refreshMemory(): Promise<void> {
    await this.refreshSharedMemory();
  }

  /** Waits for the running turn (if any) and the last save. */
  async idle(): Promise<void> {
    await this.turnChain;
    await this.saveChain;
  }

  // ─── The turn ──────────────────────────────────────────────────────────────

  private async runTurn(input: AgentInput, options: HandleOptions): Promise<TurnResult> {
    this.turnListener = options.onEvent;
    this.turnApprover = options.approver;
    this.turnAutomatic = options.automatic === true;
    this.turnId = `${this.state.id}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const signal = options.signal;
    const result: TurnResult = { reason: 'done', steps: 0, messages: [] };
    try {
      // Pausing stops automatic wake-ups only; a heartbeat the user asked for (Retry) still runs.
      if ((input.type === 'timer' || input.type === 'heartbeat') && this.pausedNow()) {
        await this.enqueue(input);
        result.reason = 'paused';
        return result;
      }
      const rendered = this.render(input);
      const [entry] = await this.appendRecords([rendered]);
      this.pending.push(entry!);
      // The message that started the turn stays in context until the turn ends, whatever flushes.
      this.window.turnStart = entry!;
      if (this.deps.external) await this.offerExternal(this.deps.external, signal);
      this.window.restoreTools();
      this.tellCut(rendered);
      if (input.type === 'login') this.state.lastLogin = this.now().toISOString();
      if (input.type !== 'user_message') this.emit({ type: 'system_event', kind: input.type, text: rendered.notice });

      let nudged = false;
      let contextRetried = false;
      for (;;) {
        if (signal?.aborted) {
          result.reason = 'cancelled';
          break;
        }
        // The limit comes first: a turn that stops here must not pay for a summary it will not use.
        if (result.steps >= this.stepLimit) {
          this.emit({
            type: 'system_event',
            kind: 'system_alert',
            text: `Stopped after ${this.stepLimit} steps in one turn (the step limit). Send a message to let the agent continue.`,
          });
          result.reason = 'step_limit';
          break;
        }
        this.drainPending();
        await this.refreshSharedMemory();
        await this.manageMemory(signal);
        result.steps++;
        this.state.counters.steps++;
        const stepId = `s${this.state.counters.steps}`;
        this.emit({ type: 'step_started', stepId, step: result.steps, ...(this.turnAutomatic ? { automatic: true as const } : {}) });
        this.emit({ type: 'context_usage', usage: this.usage() });

        const streamed = { content: '', sends: new Map<string, string>() };
        let response;
        try {
          response = await (options.model ?? this.deps.model).complete(
            {
              messages: this.window.messages(this.totalMessages()),
              tools: this.window.tools,
              // System message and summary: the prefix a provider's prompt cache can keep between steps.
              stablePrefix: this.window.summary ? 2 : 1,
              ...(signal ? { signal } : {}),
            },
            {
              onContentDelta: (delta) => {
                streamed.content += delta;
                this.emit({ type: 'monologue_delta', stepId, delta });
              },
              onSendMessageDelta: (callId, delta) => {
                streamed.sends.set(callId, (streamed.sends.get(callId) ?? '') + delta);
                this.emit({ type: 'message_delta', stepId, callId, delta });
              },
              // A slow or failing server is shown as waiting or retrying, never as a silent hang.
              onWait: (wait) => this.emit({ type: 'model_wait', stepId, kind: wait.kind, text: describeModelWait(wait) }),
            },
          );
        } catch (err) {
          if (signal?.aborted || (err instanceof ChatModelError && err.kind === 'aborted')) {
            await this.keepPartial(stepId, streamed, result);
            result.reason = 'cancelled';
            break;
          }
          if (err instanceof ChatModelError && err.kind === 'context_length' && !contextRetried) {
            contextRetried = true;
            result.steps--; // the retry is the same step
            this.emit({
              type: 'system_event',
              kind: 'summary',
              text: 'The server said the context is too long: summarising older messages and retrying once.',
            });
            await this.flush(signal, true);
            continue;
          }
          // Retries happen only before any output; once text was shown, it is kept, then the error reported.
          await this.keepPartial(stepId, streamed, result, 'failed');
          throw err;
        }

        // The one door for model output: secrets it echoes are masked before anything runs or is kept.
        const content = response.content && response.content.trim() !== '' ? maskSecrets(response.content) : null;
        if (content) this.emit({ type: 'monologue', stepId, text: content });
        const calls = response.toolCalls.map(maskCall);
        // Surplus calls are not run and not kept: their results alone could fill the window.
        const dropped = calls.splice(MAX_FUNCTION_CALLS_PER_RESPONSE);
        if (calls.length === 0) {
          if (content) await this.appendRecords([{ kind: 'assistant', notice: '', message: { role: 'assistant', content } }], true);
          await this.save();
          if (this.wantsNudge(input, result, nudged)) {
            nudged = true;
            await this.appendRecords([noReplyNudge(this.now())], true);
            continue;
          }
          break;
        }

        const outcomes = await this.runCalls(stepId, calls, signal, result);
        await this.appendRecords(
          [
            { kind: 'assistant', notice: '', message: { role: 'assistant', content, tool_calls: calls.map(withoutOversizedArguments) } },
            ...outcomes.map((o, i): RenderedInput => ({
              kind: 'tool',
              notice: '',
              message: { role: 'tool', tool_call_id: calls[i]!.id, content: o.content },
            })),
          ],
          true,
        );
        const sent = outcomes.some((o) => o.effects.some((e) => e.kind === 'message'));
        for (const o of outcomes) {
          const msg = o.effects.find((e) => e.kind === 'message');
          if (msg && msg.kind === 'message') {
            const idx = outcomes.indexOf(o);
            const record = this.window.entries[this.window.entries.length - outcomes.length - 1];
            this.emit({
              type: 'message_complete',
              stepId,
              callId: calls[idx]!.id,
              text: msg.text,
              ...(record?.id ? { recallId: record.id } : {}),
            });
          }
        }
        if (dropped.length > 0) {
          const alert = tooManyCallsAlert(calls.length + dropped.length, MAX_FUNCTION_CALLS_PER_RESPONSE, this.now());
          await this.appendRecords([alert], true);
          this.emit({ type: 'system_event', kind: 'system_alert', text: alert.notice });
        }
        await this.save();
        if (signal?.aborted) {
          result.reason = 'cancelled';
          break;
        }
        const paused = outcomes.some((o) => o.effects.some((e) => e.kind === 'pause_heartbeats'));
        // Dropped calls count as a failure: the model is called again to read the alert.
        const heartbeat = dropped.length > 0 || outcomes.some((o) => o.requestHeartbeat || o.status === 'Failed');
        if (!heartbeat) {
          if (paused) {
            result.reason = 'paused';
            break;
          }
          if (!sent && this.wantsNudge(input, result, nudged)) {
            nudged = true;
            await this.appendRecords([noReplyNudge(this.now())], true);
            continue;
          }
          break;
        }
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      result.reason = 'error';
      result.error = message;
      const recoverable =
        !(err instanceof ContextTooSmallError) && !(err instanceof ChatModelError && (err.kind === 'auth' || err.kind === 'not_found'));
      if (!options.automatic) this.emit({ type: 'error', message, recoverable });
    } finally {
      if (options.automatic && result.reason === 'cancelled') result.reason = 'preempted';
      this.window.flushing = false;
      this.window.turnStart = null;
      this.window.restoreTools();
      try {
        await this.save();
      } catch (err) {
        this.emit({ type: 'error', message: `Could not save the agent's state: ${(err as Error).message}`, recoverable: true });
      }
      this.emit({ type: 'context_usage', usage: this.usage() });
      this.emit({ type: 'turn_finished', reason: result.reason });
      this.turnListener = undefined;
      this.turnApprover = undefined;
      this.turnAutomatic = false;
    }
    return result;
  }

  private wantsNudge(input: AgentInput, result: TurnResult, nudged: boolean): boolean {
    return (
      this.settings.replyNudge !== false &&
      input.type === 'user_message' &&
      !nudged &&
      result.messages.length === 0 &&
      result.steps < this.stepLimit
    );
  }

  private async runCalls(
    stepId: string,
    calls: ToolCall[],
    signal: AbortSignal | undefined,
    result: TurnResult,
  ): Promise<FunctionOutcome[]> {
    const outcomes: FunctionOutcome[] = [];
    for (const call of calls) {
      const { name, arguments: args } = call.function;
      this.emit({ type: 'function_call_started', stepId, callId: call.id, name, arguments: args });
      let outcome: FunctionOutcome;
      if (signal?.aborted) {
        outcome = this.refused(name, `${name} was not run: the user cancelled the turn.`);
      } else {
        outcome = await this.functions.execute(call.function, {
          agentId: this.state.id,
          coreMemory: this.memory,
          recall: this.deps.recall,
          archival: this.archival,
          workspace: this.deps.workspace,
          now: this.now,
          resultMaxChars: this.resultBudget(calls.length),
          inContextIds: new Set([...this.window.entries, ...this.pending].map((e) => e.id).filter((id) => id !== '')),
          ...(this.deps.instructions ? { readOnlyBlocks: this.deps.instructions } : {}),
          ...(signal ? { signal } : {}),
          ...(this.deps.acting ? { act: this.actFor(this.deps.acting, stepId, call.id, signal) } : {}),
          ...(this.deps.external ? { external: this.externalFor(this.deps.external, call.id, signal) } : {}),
        });
        // Results go back to the model and into recall: a key read from a file or an old record is masked.
        outcome = { ...outcome, content: maskSecrets(outcome.content), message: maskSecrets(outcome.message) };
      }
      for (const effect of outcome.effects) {
        if (effect.kind === 'message') result.messages.push(effect.text);
        else if (effect.kind === 'memory_changed') this.emit({ type: 'memory_changed', what: effect.what });
        else if (effect.kind === 'pause_heartbeats')
          this.state.pausedUntil = new Date(this.now().getTime() + effect.minutes * 60_000).toISOString();
        else if (effect.kind === 'files_changed')
          this.emit({ type: 'files_changed', stepId, callId: call.id, checkpointId: effect.checkpointId, paths: effect.paths });
      }
      this.emit({
        type: 'function_call_finished',
        stepId,
        callId: call.id,
        name,
        arguments: args,
        status: outcome.status,
        result: outcome.message,
      });
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /**
   * The functions of this turn: MemGPT's own, then those of the MCP servers that run now. The list
   * changes only here, between turns, so every step of a turn sends the same tools.
   */
  private async offerExternal(external: ExternalFunctions, signal: AbortSignal | undefined): Promise<void> {
    const turn = await external.prepareTurn(signal);
    this.window.setTools([...this.functions.schemas, ...turn.schemas]);
    for (const text of turn.notices) this.emit({ type: 'system_event', kind: 'system_alert', text });
  }

  /** The external runner of one call: this turn's approver, the call's id for its approval card. */
  private externalFor(
    external: ExternalFunctions,
    callId: string,
    signal: AbortSignal | undefined,
  ): NonNullable<FunctionContext['external']> {
    return {
      owns: (name) => external.owns(name),
      call: (name, args) =>
        external.call(name, args, { callId, ...(signal ? { signal } : {}), ...(this.turnApprover ? { approver: this.turnApprover } : {}) }),
    };
  }

  /** The acting runner of one call: this turn's checkpoint and approver, its live output as events. */
  private actFor(actor: Actor, stepId: string, callId: string, signal: AbortSignal | undefined): NonNullable<FunctionContext['act']> {
    return (name, args) =>
      actor.run(name, args, {
        callId,
        turnId: this.turnId,
        ...(signal ? { signal } : {}),
        ...(this.turnApprover ? { approver: this.turnApprover } : {}),
        onOutput: (chunk) => this.emit({ type: 'command_output', stepId, callId, chunk: maskSecrets(chunk) }),
      });
  }

  /**
   * After a cancel or a stream that broke off: keeps streamed thoughts and the partial
   * send_message, as a complete call/result pair, so recall holds what the user saw.
   */
  private async keepPartial(
    stepId: string,
    streamed: { content: string; sends: Map<string, string> },
    result: TurnResult,
    why: 'cancelled' | 'failed' = 'cancelled',
  ): Promise<void> {
    const content = streamed.content.trim() !== '' ? maskSecrets(streamed.content) : null;
    for (const [id, text] of streamed.sends) streamed.sends.set(id, maskSecrets(text));
    const calls: ToolCall[] = [...streamed.sends.entries()].map(([id, text]) => ({
      id,
      type: 'function',
      function: { name: 'send_message', arguments: JSON.stringify({ message: text }) },
    }));
    if (!content && calls.length === 0) return;
    const note =
      why === 'cancelled'
        ? 'Cancelled by the user while this message was being written; the user saw only this part.'
        : 'The connection to the model broke while this message was being written; the user saw only this part.';
    await this.appendRecords(
      [
        { kind: 'assistant', notice: '', message: { role: 'assistant', content, ...(calls.length > 0 ? { tool_calls: calls } : {}) } },
        ...calls.map((c): RenderedInput => ({
          kind: 'tool',
          notice: '',
          message: { role: 'tool', tool_call_id: c.id, content: packageResult('Failed', note, this.now()) },
        })),
      ],
      true,
    );
    for (const c of calls) {
      const text = streamed.sends.get(c.id)!;
      result.messages.push(text);
      this.emit({ type: 'message_complete', stepId, callId: c.id, text, partial: true });
    }
    if (content) this.emit({ type: 'monologue', stepId, text: content });
  }

  // ─── Memory management ─────────────────────────────────────────────────────

  private async manageMemory(signal: AbortSignal | undefined): Promise<void> {
    this.refreshSystem();
    const total = this.totalMessages();
    const used = this.window.effectiveTokens(total);
    if (used > this.window.flushThreshold()) {
      await this.flush(signal, false);
    } else if (!this.window.pressureWarned && used > this.window.pressureThreshold()) {
      this.window.pressureWarned = true;
      const alert = memoryPressureAlert(this.now());
      await this.appendRecords([alert], true);
      this.emit({ type: 'system_event', kind: 'memory_pressure', text: alert.notice });
      this.refreshSystem();
      if (this.window.effectiveTokens(this.totalMessages()) > this.window.flushThreshold()) await this.flush(signal, false);
    }
  }

  /**
   * Summarises and evicts until the request fits: at most FLUSH_MAX_ROUNDS
   * summaries (the first evicts about half, later ones all but the newest
   * units), then at most CUT_ROUNDS cuts of oversized messages. `force` makes
   * the first round run even when the count says it fits (the server disagreed).
   */
  private async flush(signal: AbortSignal | undefined, force: boolean): Promise<void> {
    this.window.flushing = true;
    this.emit({ type: 'context_usage', usage: this.usage() });
    try {
      const over = () => {
        this.refreshSystem();
        return this.window.effectiveTokens(this.totalMessages()) > this.window.flushThreshold();
      };
      for (let round = 0; round < FLUSH_MAX_ROUNDS && (over() || (force && round === 0)); round++) {
        const count = this.window.planEviction(this.totalMessages(), round > 0);
        if (count === 0) break;
        const evicted = this.window.entries.slice(0, count);
        const previous = this.window.summary;
        const summarized = await this.summarizer.summarize({
          previous: previous?.text ?? null,
          messages: evicted.map((e) => ({ time: e.time, message: e.message })),
          ...(signal ? { signal } : {}),
        });
        const summary = { ...summarized, text: maskSecrets(summarized.text) };
        const covered = (previous?.recallIdsCovered ?? 0) + evicted.filter((e) => e.id !== '').length;
        this.window.evict(count, { text: summary.text, recallIdsCovered: covered, updatedAt: this.now().toISOString() });
        this.state.counters.flushes++;
        // Kept in recall for history and search; not in the queue (the summary has its own place at the head).
        await this.deps.recall.append([
          {
            agentId: this.state.id,
            time: this.now().toISOString(),
            kind: 'summary',
            message: { role: 'user', content: JSON.stringify({ type: 'summary', message: summary.text }) },
          },
        ]);
        this.emit({
          type: 'system_event',
          kind: 'summary',
          text: `Summarised ${evicted.length} older messages${summary.method === 'mechanical' ? ` without the model (${summary.reason ?? 'fallback'})` : ''}; they remain searchable in recall memory.`,
        });
        this.emit({ type: 'memory_changed', what: 'summary' });
        await this.save();
      }
      // The running turn is never evicted (see ContextWindow.planEviction); when it alone does not
      // fit, shed from the least to the most useful: older results of this turn become pointers to
      // recall, oversized messages are cut, workspace functions are left out, then the newest
      // response's surplus calls; the summary is halved last.
      const cutRounds = Math.max(CUT_ROUNDS, Math.min(this.window.entries.length, 64));
      if (over()) this.window.stubOldTurnResults();
      for (let i = 0; i < cutRounds && over(); i++) {
        if (!this.window.cutLargest(this.totalMessages())) break;
      }
      if (over() && this.window.shedTools((name) => (MEMORY_FUNCTION_NAMES as readonly string[]).includes(name))) {
        this.emit({
          type: 'system_event',
          kind: 'summary',
          text: 'The context window is full: workspace functions are left out until this turn ends.',
        });
      }
      for (let i = 0; i < cutRounds && over(); i++) {
        if (!this.window.collapseNewestUnit()) break;
      }
      for (let i = 0; i < cutRounds && over(); i++) {
        if (!this.window.cutLargest(this.totalMessages())) break;
      }
      for (let i = 0; i < CUT_ROUNDS && over(); i++) {
        if (!this.window.shrinkSummary()) break;
      }
      if (over()) throw this.tooSmall();
    } finally {
      this.window.flushing = false;
    }
  }

  /** What is left when nothing more can be shed: the error names the window this turn needs. */
  private tooSmall(): ContextTooSmallError {
    const total = this.totalMessages();
    const used = this.window.effectiveTokens(total);
    const fixed = this.window.effective(this.window.fixedTokens(total));
    const step = CONTEXT_WINDOW_SUGGESTION_STEP_TOKENS;
    const needed = Math.ceil((used / FLUSH_FRACTION + REPLY_RESERVE_TOKENS) / step) * step;
    return new ContextTooSmallError(
      `This turn does not fit the context window of ${this.window.windowTokens} tokens: the instructions, core memory, summary and functions take about ${fixed} tokens ` +
        `and the turn's messages, cut as far as they go, about ${Math.max(0, used - fixed)} more, over the ${this.window.flushThreshold()} usable. ` +
        `It needs a context window of at least ${needed} tokens: set MemGPT: Context Window to ${needed} or more if the model supports it, or shorten core memory.`,
    );
  }

  // ─── Inputs ────────────────────────────────────────────────────────────────

  /** An input as recall keeps it, with the queue's own copy when a user message is too long. */
  private render(input: AgentInput): RenderedInput & { cut?: CutText } {
    const rendered = renderInput(input, this.now());
    const cut = input.type === 'user_message' ? this.fitUserText(input.text) : null;
    if (!cut) return rendered;
    return { ...rendered, inContext: renderInput({ type: 'user_message', text: cut.text }, this.now()).message, cut };
  }

  /** The user is told when the model reads only part of their message (the chat and the CLI show it). */
  private tellCut(rendered: RenderedInput & { cut?: CutText }): void {
    if (rendered.cut) this.emit({ type: 'system_event', kind: 'message_cut', text: messageCutNotice(rendered.cut) });
  }

  /**
   * Null when `text` fits its share of the queue (USER_MESSAGE_MAX_ROOM_FRACTION); else its start
   * and end with a note, measured with the message's own characters-per-token ratio. Without this
   * the last-resort cut of the flush shrank a 1 MB message to a few characters of broken JSON.
   */
  private fitUserText(text: string): CutText | null {
    const max = this.userMessageMaxTokens;
    const tokensOf = (t: string) => this.window.effective(this.deps.counter.countText(t));
    // No UTF-16 unit takes more than about three tokens (its UTF-8 bytes): short text needs no count.
    if (text.length * 4 <= max) return null;
    const tokens = tokensOf(text);
    if (tokens <= max) return null;
    const noteTokens = tokensOf(cutUserText(text, 0, 0).text);
    let keep = Math.max(0, Math.floor(((max - noteTokens) / tokens) * text.length));
    let cut = cutUserText(text, 0, 0);
    // The ratio is an average: a few tries shrink the cut until it fits.
    for (let i = 0; i < 6; i++) {
      const head = Math.ceil(keep * USER_MESSAGE_CUT_HEAD_FRACTION);
      cut = cutUserText(text, head, keep - head);
      if (keep === 0 || tokensOf(cut.text) <= max) break;
      keep = Math.floor(keep * 0.85);
    }
    return cut;
  }

  // ─── Bookkeeping ───────────────────────────────────────────────────────────

  /**
   * Characters one function result may take: the static cap, or half the room
   * the queue has left in a small window, so a result never forces a flush by itself.
   */
  private resultBudget(calls = 1): number {
    const room = this.window.flushThreshold() - this.window.effective(this.window.fixedTokens(this.totalMessages()));
    // Several calls in one response share the room: together they must not overflow the window.
    return Math.max(
      MIN_RESULT_CHARS,
      Math.min(this.resultMaxChars, Math.floor((room * 0.5 * CHARS_PER_TOKEN_ESTIMATE) / Math.max(1, calls))),
    );
  }

  private pausedNow(): boolean {
    const until = this.state.pausedUntil;
    return typeof until === 'string' && Date.parse(until) > this.now().getTime();
  }

  /** The recall total the prompt shows (the summary header too): as of the last memory change, see refreshSystem. */
  private totalMessages(): number {
    return this.state.shownCounts?.recallCount ?? this.deps.recall.count(this.state.id);
  }

  /**
   * The system message, with counts taken anew only when memory changed (core memory, the
   * agent's archival memories, a flush), as MemGPT rebuilds it after memory edits. Recounting
   * every step made the system message (and the summary header) differ on every request, so no
   * provider's prompt cache ever covered the conversation.
   */
  private refreshSystem(): void {
    const archivalMemoryCount = this.archival.count('memory');
    const key = `${this.core.lastModified}|${archivalMemoryCount}|${this.window.summary?.updatedAt ?? ''}`;
    if (this.state.shownCounts?.key !== key) {
      this.state.shownCounts = { key, recallCount: this.deps.recall.count(this.state.id), codeCount: this.archival.count('workspace') };
    }
    const shown = this.state.shownCounts;
    const stats = memoryStatistics({
      recallCount: shown.recallCount,
      archivalMemoryCount,
      archivalCodeCount: shown.codeCount,
      coreLastModified: this.core.lastModified,
    });
    this.window.setSystem(this.instructionsWithFiles(), `${stats}\n${this.core.render()}`);
  }

  /** The instructions, then the project's instruction files as read now (read-only, rendered by systemPrompt.ts). */
  private instructionsWithFiles(): string {
    const files = this.deps.instructions;
    if (!files) return this.instructions;
    const section = projectInstructionsSection(
      files.blocks(),
      files.listed(),
      this.settings.contextWindow <= COMPACT_PROMPT_MAX_WINDOW_TOKENS,
    );
    return section === '' ? this.instructions : `${this.instructions}\n${section}`;
  }

  /**
   * Shared blocks another window or process edited since the last step come into view now (the
   * system message changes only then). A file that cannot be read leaves the view as it was.
   */
  private async refreshSharedMemory(): Promise<void> {
    try {
      if (await this.memory.refresh()) this.emit({ type: 'memory_changed', what: 'core' });
    } catch (err) {
      this.emit({
        type: 'system_event',
        kind: 'system_alert',
        text: `Shared core memory could not be reread (${(err as Error).message}); the last copy read is used.`,
      });
    }
  }

  private drainPending(): void {
    if (this.pending.length === 0) return;
    this.window.entries.push(...this.pending);
    this.pending = [];
  }

  /** Appends to recall (durable) and returns queue entries; `toQueue` puts them in the queue at once. */
  private async appendRecords(items: RenderedInput[], toQueue = false, automatic = this.turnAutomatic): Promise<QueueEntry[]> {
    const time = this.now().toISOString();
    // Every record passes here: whatever reached it unmasked (a pasted key in a user message) is masked now.
    const stored = await this.deps.recall.append(
      items.map((i) => ({
        agentId: this.state.id,
        time,
        kind: i.kind,
        message: maskMessage(i.message),
        ...(automatic ? { automatic: true as const } : {}),
      })),
    );
    this.state.counters.messages += stored.length;
    const entries = stored.map((r, i) => {
      const inContext = items[i]!.inContext;
      return { id: r.id, kind: r.kind, message: inContext ? maskMessage(inContext) : r.message, time: r.time };
    });
    if (toQueue) {
      this.drainPending();
      this.window.entries.push(...entries);
    }
    this.emit({ type: 'memory_changed', what: 'recall' });
    return entries;
  }

  private buildState(): PersistedState {
    return {
      ...this.state,
      coreMemory: this.core.toJSON(),
      inContextIds: [...this.window.entries, ...this.pending].map((e) => e.id).filter((id) => id !== ''),
      summary: this.window.summary,
      pressureWarned: this.window.pressureWarned,
      counters: { ...this.state.counters },
    };
  }

  /** Saves are serialised so an older snapshot never overwrites a newer one. */
  private save(): Promise<void> {
    const snapshot = this.buildState();
    const next = this.saveChain.then(() => this.deps.states.save(snapshot));
    this.saveChain = next.catch(() => undefined);
    return next;
  }

  /** A call that was not run, as a failed result the model reads (no side effects to report). */
  private refused(name: string, message: string): FunctionOutcome {
    return {
      name,
      status: 'Failed',
      message,
      content: packageResult('Failed', message, this.now()),
      requestHeartbeat: false,
      effects: [],
      repairs: [],
    };
  }

  private emit(event: AgentEvent): void {
    this.events.fire(event);
    try {
      this.turnListener?.(event);
    } catch {
      // A broken UI listener must not break the agent's turn.
    }
  }
}
