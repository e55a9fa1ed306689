/**
 * What the sidebar chat needs from the host, and the relay between that and the webview.
 *
 * `ChatBackend` is implemented by the extension's wiring (agent runtime, recall store, settings,
 * SecretStorage, editor commands). `ChatRelay` turns validated webview messages into backend calls
 * and backend events into webview messages; it knows no `vscode` API, so it is unit-tested in Node.
 */
import type { AgentEvent, ContextUsage } from '../core/agent/events';
import type { RecallRecord } from '../core/interfaces/recallStore';
import {
  type ApprovalCard,
  type ApprovalDecision,
  answerRequest,
  describeRejected,
  dispatch,
  isWebviewToHost,
  type MessageHandlers,
  type RequestHandlers,
  type WebviewToHostMessages,
  type AgentSummary,
  type ChatTool,
  type HostToWebview,
  type LocalServer,
  type RequestPayload,
  type ResponsePayload,
  type SetupResult,
  type SetupStatus,
  type TurnOutcome,
  type ViewState,
} from '../protocol';

export interface Disposable {
  dispose(): void;
}

export interface ChatBackend {
  /** Every AgentEvent of the active agent, live. Returns an unsubscribe handle. */
  onEvent(listener: (event: AgentEvent) => void): Disposable;
  /**
   * Fires when anything `viewState` reads changed outside an AgentEvent: agents added, agent
   * switched, setup completed, busy toggled. Optional: without it the relay refreshes state on
   * `turn_finished`, `context_usage` and after its own calls.
   */
  onDidChangeState?(listener: () => void): Disposable;
  /** User messages sent from elsewhere (editor commands, the extension API), for the view to show. */
  onUserMessageElsewhere?(listener: (text: string) => void): Disposable;

  /** Queues a user message for the active agent. Rejects with a user-facing message if impossible. */
  send(text: string): Promise<void>;
  /** Cancels the running model call at once; the agent emits the partial message and `turn_finished: cancelled`. */
  stop(): void;
  /** Re-runs the last failed turn. */
  retry(): Promise<void>;
  /**
   * Hides everything so far from the view; memory (core, recall, archival) is untouched.
   * `history` then returns only records newer than the cut, also after a reload.
   */
  clearView(): Promise<void>;
  /** Recall records of the active agent with seq < beforeSeq (undefined: newest), oldest first, at most `limit`. */
  history(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]>;
  /** True when older records than `seq` exist (and are not hidden by `clearView`). */
  hasHistoryBefore(seq: number): Promise<boolean>;
  /** Failed and stopped turns of the active agent, oldest first (recall does not keep them). */
  turnOutcomes?(): TurnOutcome[];
  /** Last measured usage of the context window, or undefined before the first step. */
  contextUsage(): ContextUsage | undefined;
  /** A turn is running. */
  isBusy(): boolean;
  /** A standing condition the view shows above the conversation (Restricted Mode, read-only window). */
  notice?(): string | undefined;

  agents(): AgentSummary[];
  activeAgentId(): string | undefined;
  /** Makes `id` the active agent; the relay then reloads the view's history. */
  switchAgent(id: string): Promise<void>;

  /** Whether a model server is configured and usable; the view shows the setup card otherwise. */
  setupStatus(): Promise<SetupStatus>;
  /** Looks for OpenAI-compatible servers on 127.0.0.1 (Ollama :11434, LM Studio :1234) and their models. */
  probeLocalServers(): Promise<LocalServer[]>;
  /** Validates the key with a real request, then stores it in SecretStorage. Never throws: failures come back as `{ok:false}`. */
  saveApiKey(key: string): Promise<SetupResult>;
  /** Validates the server with a real request (lists models, optionally checks `model`), then saves the settings. */
  useServer(baseUrl: string, model?: string): Promise<SetupResult>;
  /** Switches to VS Code's own language models after one real request (where VS Code asks for consent). Absent: not offered. */
  useEditorModel?(): Promise<SetupResult>;

  /** Opens a workspace-relative (or absolute, inside the workspace) path at 1-based lines. */
  openCitation(path: string, startLine: number, endLine?: number): Promise<void>;
  insertAtCursor(code: string): Promise<void>;
  copyToClipboard(text: string): Promise<void>;
  /** Opens the core-memory view (read and edit the blocks). */
  showCoreMemory(): Promise<void>;
  /** Runs the editor feature a welcome-state pointer names. */
  openTool?(tool: ChatTool): Promise<void>;
  /** Asks the user before opening an http(s)/mailto link outside the editor. */
  confirmExternalLink(url: string): Promise<void>;

  /** Edits and commands waiting for the user: opened (show the card) and closed (answered or withdrawn). */
  onApproval?(listener: (change: { opened: ApprovalCard } | { closed: string }) => void): Disposable;
  /** Approvals still waiting (shown again when the view reloads). */
  pendingApprovals?(): ApprovalCard[];
  /** The user's answer from the card; an unknown or settled id is ignored. */
  answerApproval?(id: string, decision: ApprovalDecision, reason?: string): Promise<void>;
  /** Shows a pending edit in VS Code's diff editor. */
  openProposedDiff?(id: string): Promise<void>;
  /** Restores the files of a checkpoint and tells the agent. */
  restoreCheckpoint?(checkpointId: string): Promise<void>;
}

export type PostToWebview = (message: HostToWebview) => unknown;

/** Something the relay could not do, reported to the user through the host's own UI. */
export type RelayErrorReporter = (message: string) => void;

const NO_BACKEND_NOTICE =
  'The MemGPT agent is not running in this window, so there is nothing to chat with yet. ' +
  'Check the "MemGPT" output channel for why it did not start, then run "Developer: Reload Window".';

/**
 * Connects one webview to one backend (or to none: the view then says the agent is not running).
 * Call `receive` with every raw message from the webview; call `dispose` when the view goes away.
 */
export class ChatRelay implements Disposable {
  private readonly subscriptions: Disposable[] = [];

  constructor(
    private readonly backend: ChatBackend | undefined,
    private readonly post: PostToWebview,
    private readonly reportError: RelayErrorReporter,
  ) {
    if (backend) {
      this.subscriptions.push(
        backend.onEvent((event) => {
          this.post({ type: 'agentEvent', payload: { event } });
          // Memory changed (a remembered selection, an insert, a core edit): the meter's counts follow at once.
          if (
            event.type === 'turn_finished' ||
            event.type === 'step_started' ||
            event.type === 'memory_changed' ||
            event.type === 'system_event'
          ) {
            void this.pushState();
          }
        }),
      );
      if (backend.onDidChangeState) this.subscriptions.push(backend.onDidChangeState(() => void this.pushState()));
      if (backend.onUserMessageElsewhere) {
        this.subscriptions.push(backend.onUserMessageElsewhere((text) => this.post({ type: 'userMessage', payload: { text } })));
      }
      if (backend.onApproval) {
        this.subscriptions.push(
          backend.onApproval((change) =>
            'opened' in change
              ? this.post({ type: 'approval', payload: change.opened })
              : this.post({ type: 'approvalClosed', payload: { id: change.closed } }),
          ),
        );
      }
    }
  }

  /** Handles one raw (untrusted) message from the webview. Malformed messages are rejected and logged. */
  async receive(raw: unknown): Promise<void> {
    if (!isWebviewToHost(raw)) {
      this.reportError(`Ignored a message from the chat view: ${describeRejected(raw)}.`);
      return;
    }
    const backend = this.backend;
    if (raw.type === 'ready') {
      await this.pushState();
      // A reloaded view has lost its cards: what still waits for the user is shown again.
      for (const card of backend?.pendingApprovals?.() ?? []) this.post({ type: 'approval', payload: card });
      return;
    }
    if (!backend) {
      if (raw.type === 'request') this.respondError(raw.payload, NO_BACKEND_NOTICE);
      return;
    }
    try {
      await dispatch(this.messageHandlers(backend), raw);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (raw.type === 'request') this.respondError(raw.payload, message);
      else if (raw.type === 'send' || raw.type === 'retry') {
        // The view shows it in the conversation, where the user is looking.
        this.post({ type: 'agentEvent', payload: { event: { type: 'error', message, recoverable: false } } });
      } else {
        // Said where the user is looking (the chat), and kept in the log.
        this.post({ type: 'actionFailed', payload: { message } });
        this.reportError(message);
      }
    }
  }

  /** Sends the current chrome state (agents, setup, busy, usage). */
  async pushState(): Promise<void> {
    this.post({ type: 'state', payload: await this.viewState() });
  }

  private async viewState(): Promise<ViewState> {
    const backend = this.backend;
    if (!backend) {
      return {
        backend: 'none',
        notice: NO_BACKEND_NOTICE,
        agents: [],
        activeAgentId: null,
        setup: { configured: false, hasApiKey: false },
        busy: false,
        usage: null,
      };
    }
    const notice = backend.notice?.();
    return {
      backend: 'ready',
      ...(notice ? { notice } : {}),
      agents: backend.agents(),
      activeAgentId: backend.activeAgentId() ?? null,
      setup: await backend.setupStatus(),
      busy: backend.isBusy(),
      usage: backend.contextUsage() ?? null,
    };
  }

  /** What each message from the view does (every type but `ready`, which is answered before a backend exists). */
  private messageHandlers(backend: ChatBackend): MessageHandlers<Omit<WebviewToHostMessages, 'ready'>> {
    return {
      send: (p) => backend.send(p.text),
      stop: () => backend.stop(),
      retry: () => backend.retry(),
      clearView: () => backend.clearView(),
      switchAgent: async (p) => {
        await backend.switchAgent(p.agentId);
        this.post({ type: 'historyReset', payload: {} });
        await this.pushState();
      },
      openCitation: (p) => backend.openCitation(p.path, p.startLine, p.endLine),
      insertAtCursor: (p) => backend.insertAtCursor(p.code),
      copyToClipboard: (p) => backend.copyToClipboard(p.text),
      showCoreMemory: () => backend.showCoreMemory(),
      openTool: async (p) => {
        await backend.openTool?.(p.tool);
      },
      openExternal: (p) => backend.confirmExternalLink(p.url),
      request: (p) => this.answer(backend, p),
      approve: async (p) => {
        await backend.answerApproval?.(p.id, p.decision, p.reason);
      },
      openDiff: async (p) => {
        await backend.openProposedDiff?.(p.id);
      },
      restoreCheckpoint: async (p) => {
        await backend.restoreCheckpoint?.(p.checkpointId);
      },
    };
  }

  /** How each request is answered; the result's type is the one its method promises. */
  private requestHandlers(backend: ChatBackend): RequestHandlers {
    return {
      history: async (params) => {
        const before = params.beforeSeq ?? undefined;
        const records = await backend.history(before, params.limit);
        const first = records[0];
        const last = records[records.length - 1];
        const hasMore = first !== undefined && (await backend.hasHistoryBefore(first.seq));
        // The outcomes that end among these records: after the first one, and before the next page's start.
        const outcomes = first
          ? (backend.turnOutcomes?.() ?? []).filter((o) => o.afterSeq >= first.seq && (before === undefined || o.afterSeq < before))
          : [];
        return {
          records,
          hasMore,
          ...(outcomes.length > 0 ? { outcomes } : {}),
          ...(before === undefined && last ? { newestSeq: last.seq } : {}),
        };
      },
      probeLocalServers: () => backend.probeLocalServers(),
      saveApiKey: (params) => backend.saveApiKey(params.key),
      useServer: (params) => backend.useServer(params.baseUrl, params.model),
      useEditorModel: async () =>
        backend.useEditorModel ? backend.useEditorModel() : { ok: false, message: 'VS Code’s own language models cannot be used here.' },
    };
  }

  private async answer(backend: ChatBackend, request: RequestPayload): Promise<void> {
    const response = await answerRequest(this.requestHandlers(backend), request);
    this.respond(response);
    // A setup that works changes the chrome (the setup card goes): the state follows the answer.
    const setupDone =
      response.ok &&
      (response.method === 'saveApiKey' || response.method === 'useServer' || response.method === 'useEditorModel') &&
      response.result.ok;
    if (setupDone) await this.pushState();
  }

  private respond(payload: ResponsePayload): void {
    this.post({ type: 'response', payload });
  }

  private respondError(request: RequestPayload, error: string): void {
    this.respond({ id: request.id, method: request.method, ok: false, error });
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
