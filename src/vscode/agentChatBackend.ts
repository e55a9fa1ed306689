/**
 * The sidebar chat's backend: the WorkspaceRuntimePort for the agent and memory, SecretStorage and
 * settings for setup, and the editor for citations, Insert at cursor and links. Thin on purpose:
 * every decision about the agent is the runtime's.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AgentEvent, ContextUsage } from '../core/agent/events';
import type { RecallRecord } from '../core/interfaces/recallStore';
import { CHAT_LOCAL_PROBE_TIMEOUT_MS } from '../core/limits';
import { chatBaseUrl, chatProvider, modelConfigured } from '../core/runtime/runtimeConfig';
import type { WorkspaceRuntimePort } from '../core/runtime/runtimePort';
import type {
  AgentSummary,
  ApprovalCard,
  ApprovalDecision,
  ChatTool,
  LocalServer,
  SetupResult,
  SetupStatus,
  TurnOutcome,
} from '../protocol';
import type { ChatApprovals } from './acting';
import type { ChatBackend, Disposable } from './chatBackend';
import { resolveWorkspacePath } from './commandContext';
import { COMMANDS } from './commandIds';
import type { LiveSettings } from './config';
import { editorModelOffer, useEditorModel } from './editorModelSetup';
import type { ApiKeyStore } from './secrets';
import { MessageCounter } from './messageCounter';
import { TurnOutcomeLog, TurnOutcomeWatcher, type OutcomeStore, type UnplacedOutcome } from './turnOutcomes';

/** OpenAI-compatible servers people run on their own machine, probed by the setup card. */
const LOCAL_SERVERS: readonly { name: string; baseUrl: string }[] = [
  { name: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1' },
  { name: 'LM Studio', baseUrl: 'http://127.0.0.1:1234/v1' },
];

const RETRY_REASON = 'The user asked to try again after the last turn failed. Answer their most recent message.';

export class AgentChatBackend implements ChatBackend, vscode.Disposable {
  private running: AbortController | null = null;
  private agentList: AgentSummary[] = [];
  private activeId: string | undefined;
  private readonly stateChanged = new vscode.EventEmitter<void>();
  private readonly subscriptions: Disposable[] = [];
  /** The last editor the user typed in: the chat has focus when Insert is clicked. */
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;

  constructor(
    private readonly runtime: WorkspaceRuntimePort,
    private readonly keys: ApiKeyStore,
    private readonly settings: LiveSettings,
    private readonly log: vscode.LogOutputChannel,
    /** Edits and commands waiting for the user (absent: the agent is asked by no one and is told so). */
    private readonly approvals?: ChatApprovals,
    /** Where failed and stopped turns are kept for the restored history (absent: they are not). */
    outcomeStore?: OutcomeStore,
  ) {
    const refresh = (): void => void this.refreshAgents();
    this.outcomes = outcomeStore ? new TurnOutcomeLog(outcomeStore) : undefined;
    const watcher = new TurnOutcomeWatcher();
    this.subscriptions.push(
      runtime.chat.onEvent((event) => {
        const outcome = watcher.observe(event);
        if (outcome) void this.recordOutcome(outcome);
        if (event.type === 'turn_finished' || event.type === 'system_event' || event.type === 'message_complete') void this.countMessages();
      }),
      runtime.onDidChangeState(refresh),
      runtime.onDidChangeActivity(() => this.stateChanged.fire()),
      keys.onDidChange(() => this.stateChanged.fire()),
      settings.onDidChange(() => this.stateChanged.fire()),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e && e.document.uri.scheme !== 'output') this.lastEditor = e;
      }),
    );
    refresh();
  }

  private readonly outcomes: TurnOutcomeLog | undefined;
  private readonly messages = new MessageCounter();

  /** Recounts the conversation's messages (only what was added since), then the view's state follows. */
  private async countMessages(): Promise<void> {
    const agentId = this.activeId;
    if (!agentId) return;
    try {
      const before = this.messages.current(agentId);
      const now = await this.messages.refresh(agentId, (beforeSeq, limit) => this.runtime.chat.recallPage(beforeSeq, limit));
      if (now !== before) this.stateChanged.fire();
    } catch (error) {
      this.log.warn(`Could not count the conversation's messages: ${messageOf(error)}`);
    }
  }

  /** The meter counts messages as the user does (what they said, what MemGPT answered), once known. */
  private withMessageCount(usage: ContextUsage): ContextUsage {
    const count = this.messages.current(this.activeId);
    return count === undefined ? usage : { ...usage, recallCount: count };
  }

  private async recordOutcome(outcome: UnplacedOutcome): Promise<void> {
    const agentId = this.activeId;
    if (!this.outcomes || !agentId) return;
    try {
      // It goes after the newest record: the question, and whatever part of the answer was kept.
      const newest = await this.runtime.chat.conversation(undefined, 1);
      await this.outcomes.record(agentId, { ...outcome, afterSeq: newest[0]?.seq ?? 0 });
    } catch (error) {
      this.log.warn(`Could not remember how the turn ended: ${messageOf(error)}`);
    }
  }

  turnOutcomes(): TurnOutcome[] {
    return this.activeId && this.outcomes ? this.outcomes.list(this.activeId) : [];
  }

  async openTool(tool: ChatTool): Promise<void> {
    await vscode.commands.executeCommand(COMMANDS[tool]);
  }

  private async refreshAgents(): Promise<void> {
    try {
      const agents = await this.runtime.agents.listAgents();
      this.agentList = agents.map((a) => ({ id: a.id, name: a.name }));
      this.activeId = agents.find((a) => a.active)?.id;
      void this.countMessages();
    } catch (error) {
      this.log.warn(`Could not list agents: ${messageOf(error)}`);
    }
    this.stateChanged.fire();
  }

  onEvent(listener: (event: AgentEvent) => void): Disposable {
    return this.runtime.chat.onEvent((event) =>
      listener(event.type === 'context_usage' ? { ...event, usage: this.withMessageCount(event.usage) } : event),
    );
  }

  onDidChangeState(listener: () => void): Disposable {
    return this.stateChanged.event(listener);
  }

  onUserMessageElsewhere(listener: (text: string) => void): Disposable {
    return this.runtime.chat.onUserMessage((m) => {
      if (m.source !== 'chat') listener(m.text);
    });
  }

  async send(text: string): Promise<void> {
    this.startTurn({ type: 'user_message', text });
  }

  async retry(): Promise<void> {
    this.startTurn({ type: 'manual_heartbeat', reason: RETRY_REASON });
  }

  private startTurn(input: Parameters<WorkspaceRuntimePort['chat']['handle']>[0]): void {
    if (this.runtime.readOnly) throw new Error(`This window cannot chat. ${this.standingNotice() ?? ''}`.trim());
    const controller = new AbortController();
    this.running = controller;
    // The turn reports through events; send returns at once so Stop and other messages stay responsive.
    void this.runtime.chat
      .handle(input, { signal: controller.signal, source: 'chat' })
      .catch((error: unknown) => this.log.error(`The turn failed: ${messageOf(error)}`))
      .finally(() => {
        if (this.running === controller) this.running = null;
        this.stateChanged.fire();
      });
  }

  /** Stops the turn on screen even when a command or the API started it. */
  stop(): void {
    this.running?.abort();
    this.runtime.chat.cancelTurns();
  }

  async clearView(): Promise<void> {
    await this.runtime.chat.clearView();
  }

  history(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]> {
    return this.runtime.chat.conversation(beforeSeq, limit);
  }

  hasHistoryBefore(seq: number): Promise<boolean> {
    return this.runtime.chat.hasConversationBefore(seq);
  }

  contextUsage(): ContextUsage | undefined {
    const usage = this.runtime.chat.contextUsage();
    return usage ? this.withMessageCount(usage) : undefined;
  }

  isBusy(): boolean {
    return this.runtime.chat.isBusy();
  }

  notice(): string | undefined {
    // One line each: the window's standing condition, then what was found damaged in the memory.
    const lines = [this.standingNotice(), ...this.runtime.memory.notices()].filter((n): n is string => n !== undefined);
    return lines.length > 0 ? lines.join('\n') : undefined;
  }

  private standingNotice(): string | undefined {
    const activity = this.runtime.activity();
    if (activity.kind === 'read-only') return `Read-only: ${activity.reason}`;
    if (!this.runtime.isTrusted && this.runtime.folders.length > 0) {
      return 'Restricted Mode: MemGPT chats and remembers, but indexes no files and cannot read them until you trust this folder (Manage Workspace Trust).';
    }
    return undefined;
  }

  agents(): AgentSummary[] {
    return this.agentList;
  }

  activeAgentId(): string | undefined {
    return this.activeId;
  }

  async switchAgent(id: string): Promise<void> {
    await this.runtime.agents.switchAgent(id);
    await this.refreshAgents();
  }

  async setupStatus(): Promise<SetupStatus> {
    const s = this.settings.current;
    const provider = chatProvider(s);
    const hasApiKey = (await this.keys.source(provider)) !== 'none';
    const base: SetupStatus = {
      configured: modelConfigured(s.baseUrl, hasApiKey, provider),
      hasApiKey,
      baseUrl: chatBaseUrl(s),
      ...(s.model ? { model: s.model } : {}),
    };
    // No model yet: VS Code's own (Copilot's) is offered first when there is one.
    if (!base.configured) {
      const editorModel = await editorModelOffer();
      if (editorModel) base.editorModel = editorModel;
    }
    if (this.runtime.readOnly) {
      const activity = this.runtime.activity();
      return { ...base, problem: activity.kind === 'read-only' ? activity.reason : 'This window cannot write the memory.' };
    }
    return base;
  }

  useEditorModel(): Promise<SetupResult> {
    return useEditorModel(this.settings);
  }

  async probeLocalServers(): Promise<LocalServer[]> {
    const found = await Promise.all(
      LOCAL_SERVERS.map(async (server) => {
        try {
          const models = await this.runtime.models.listModels({
            baseUrl: server.baseUrl,
            signal: AbortSignal.timeout(CHAT_LOCAL_PROBE_TIMEOUT_MS),
          });
          return { ...server, models };
        } catch {
          return null;
        }
      }),
    );
    return found.filter((s): s is LocalServer => s !== null);
  }

  async saveApiKey(key: string): Promise<SetupResult> {
    const trimmed = key.trim();
    if (!trimmed) return { ok: false, message: 'The key is empty. Paste the key from your provider.' };
    const baseUrl = chatBaseUrl(this.settings.current);
    try {
      const models = await this.runtime.models.listModels({
        baseUrl,
        provider: chatProvider(this.settings.current),
        apiKey: trimmed,
        signal: AbortSignal.timeout(15_000),
      });
      await this.keys.store(trimmed);
      return { ok: true, message: `Key saved in VS Code's secret storage; ${baseUrl} offers ${models.length} model(s).` };
    } catch (error) {
      return { ok: false, message: await this.keys.redact(`${baseUrl} did not accept the key: ${messageOf(error)}`) };
    }
  }

  async useServer(baseUrl: string, model?: string): Promise<SetupResult> {
    let url: URL;
    try {
      url = new URL(baseUrl.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      return { ok: false, message: `"${baseUrl}" is not an http(s) URL. Use a full URL such as http://127.0.0.1:11434/v1.` };
    }
    const normalised = url.toString().replace(/\/+$/, '');
    let models: string[];
    try {
      models = await this.runtime.models.listModels({ baseUrl: normalised, signal: AbortSignal.timeout(15_000) });
    } catch (error) {
      // The model client's error already says what to check; only the /v1 hint is added, when it applies.
      const v1 = /\/v1$/.test(url.pathname.replace(/\/+$/, ''))
        ? ''
        : ' OpenAI-compatible servers usually answer under /v1 (e.g. http://127.0.0.1:11434/v1).';
      return { ok: false, message: `${normalised} did not answer as an OpenAI-compatible server. ${messageOf(error)}${v1}` };
    }
    const chosen = model?.trim() || models[0];
    if (!chosen)
      return { ok: false, message: `${normalised} answers but lists no models. Load or pull one there (e.g. \`ollama pull llama3.1\`).` };
    if (model && !models.includes(chosen)) {
      return { ok: false, message: `${normalised} has no model "${chosen}". It offers: ${models.slice(0, 10).join(', ')}.` };
    }
    await this.settings.update('baseUrl', normalised);
    // The server was probed as OpenAI-compatible: speak that API to it.
    if (this.settings.current.provider !== 'openai') await this.settings.update('provider', 'openai');
    await this.settings.update('model', chosen);
    return { ok: true, message: `Using ${chosen} on ${normalised}.` };
  }

  async openCitation(citedPath: string, startLine: number, endLine?: number): Promise<void> {
    const uri = this.citationUri(citedPath);
    if (!uri) throw new Error(`"${citedPath}" is not a file in this workspace, so it was not opened.`);
    // VS Code's own error names the full remote URI and the file system's wording: say it plainly.
    const exists = await vscode.workspace.fs.stat(uri).then(
      (stat) => (stat.type & vscode.FileType.File) !== 0,
      () => false,
    );
    if (!exists)
      throw new Error(`${citedPath} does not exist in this workspace (moved or deleted since MemGPT cited it), so it was not opened.`);
    const document = await vscode.workspace.openTextDocument(uri);
    const last = Math.max(0, document.lineCount - 1);
    const start = Math.min(Math.max(0, startLine - 1), last);
    const end = Math.min(Math.max(start, (endLine ?? startLine) - 1), last);
    const range = new vscode.Range(start, 0, end, document.lineAt(end).text.length);
    const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(start, 0, start, 0), preview: true });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.selection = new vscode.Selection(range.start, range.end);
  }

  private citationUri(citedPath: string): vscode.Uri | undefined {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (path.isAbsolute(citedPath)) {
      const inside = folders.some((f) => {
        const rel = path.relative(f.uri.fsPath, citedPath);
        return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
      });
      return inside ? vscode.Uri.file(citedPath) : undefined;
    }
    return resolveWorkspacePath(citedPath);
  }

  async insertAtCursor(code: string): Promise<void> {
    const editor = vscode.window.activeTextEditor ?? this.lastEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) throw new Error('No editor is open to insert into. Open a file, place the cursor, and click Insert again.');
    await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    const ok = await editor.edit((edit) => {
      for (const selection of editor.selections) edit.replace(selection, code);
    });
    if (!ok) throw new Error('The editor refused the insertion (is the file read-only?).');
  }

  async copyToClipboard(text: string): Promise<void> {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage('$(check) Copied', 2000);
  }

  async showCoreMemory(): Promise<void> {
    await vscode.commands.executeCommand(COMMANDS.showCoreMemory);
  }

  async confirmExternalLink(url: string): Promise<void> {
    let parsed: vscode.Uri;
    try {
      parsed = vscode.Uri.parse(url, true);
    } catch {
      throw new Error(`"${url}" is not a link that can be opened.`);
    }
    if (!['http', 'https', 'mailto'].includes(parsed.scheme))
      throw new Error(`Links with "${parsed.scheme}:" are not opened from the chat.`);
    const open = 'Open Link';
    const choice = await vscode.window.showWarningMessage(
      `Open this link from the MemGPT chat in your browser?\n\n${url}`,
      { modal: true },
      open,
    );
    if (choice === open) await vscode.env.openExternal(parsed);
  }

  onApproval(listener: (change: { opened: ApprovalCard } | { closed: string }) => void): Disposable {
    return this.approvals?.onDidChange(listener) ?? { dispose() {} };
  }

  pendingApprovals(): ApprovalCard[] {
    return this.approvals?.cards() ?? [];
  }

  async answerApproval(id: string, decision: ApprovalDecision, reason?: string): Promise<void> {
    await this.approvals?.answer(id, decision, reason);
  }

  async openProposedDiff(id: string): Promise<void> {
    await this.approvals?.openDiff(id);
  }

  async restoreCheckpoint(checkpointId: string): Promise<void> {
    if (this.runtime.chat.isBusy())
      throw new Error('Stop the running turn before restoring a checkpoint: it may be changing the same files.');
    const report = await this.runtime.acting.restoreCheckpoint(checkpointId);
    const files = report.restored.length + report.deleted.length;
    void vscode.window.showInformationMessage(
      `MemGPT restored ${files} file${files === 1 ? '' : 's'} as they were before that turn${report.checkpoints.length > 1 ? ` (${report.checkpoints.length - 1} later turn(s) rolled back too)` : ''}. What commands did is not undone.`,
    );
  }

  dispose(): void {
    this.running?.abort();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.stateChanged.dispose();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
