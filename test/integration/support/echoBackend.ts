/**
 * A ChatBackend without a model: every message is answered with "Echo: <text>" through the same
 * AgentEvents a real agent emits. Lets host and UI tests check the chat plumbing (webview ⇄ host)
 * without a model server; tests of the real agent use the fake OpenAI server instead.
 */
import type { AgentEvent } from '../../../src/core/agent/events';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import type { AgentSummary, LocalServer, SetupResult, SetupStatus } from '../../../src/protocol';
import type { ChatBackend, Disposable } from '../../../src/vscode/chatBackend';

export const ECHO_PREFIX = 'Echo: ';

export class EchoBackend implements ChatBackend {
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private readonly records: RecallRecord[] = [];
  private turn = 0;
  /** Every call the relay made, in order (for assertions). */
  readonly calls: string[] = [];

  onEvent(listener: (event: AgentEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * ChatViewProvider.setBackend resets the view's history but sends no fresh `state`, so a view that
   * showed "agent not running" would stay disabled: announce a state change once the relay listens.
   */
  onDidChangeState(listener: () => void): Disposable {
    const timer = setTimeout(listener, 0);
    return { dispose: () => clearTimeout(timer) };
  }

  private emit(event: AgentEvent): void {
    for (const l of this.listeners) l(event);
  }

  private record(kind: 'user' | 'assistant', content: string): void {
    const seq = this.records.length + 1;
    this.records.push({
      id: `echo-${seq}`,
      seq,
      time: new Date().toISOString(),
      agentId: 'echo',
      kind,
      message: kind === 'user' ? { role: 'user', content } : { role: 'assistant', content },
    });
  }

  async send(text: string): Promise<void> {
    this.calls.push(`send:${text}`);
    const stepId = `echo-step-${++this.turn}`;
    const callId = `echo-call-${this.turn}`;
    const reply = `${ECHO_PREFIX}${text}`;
    this.record('user', text);
    this.emit({ type: 'step_started', stepId, step: 1 });
    this.emit({ type: 'message_delta', stepId, callId, delta: reply });
    this.emit({ type: 'message_complete', stepId, callId, text: reply });
    this.record('assistant', reply);
    this.emit({ type: 'turn_finished', reason: 'done' });
  }

  stop(): void {
    this.calls.push('stop');
  }
  async retry(): Promise<void> {
    this.calls.push('retry');
  }
  async clearView(): Promise<void> {
    this.calls.push('clearView');
  }
  async history(beforeSeq: number | undefined, limit: number): Promise<RecallRecord[]> {
    this.calls.push(`history:${beforeSeq ?? 'newest'}:${limit}`);
    const older = this.records.filter((r) => beforeSeq === undefined || r.seq < beforeSeq);
    return older.slice(-limit);
  }
  async hasHistoryBefore(seq: number): Promise<boolean> {
    return this.records.some((r) => r.seq < seq);
  }
  contextUsage(): undefined {
    return undefined;
  }
  isBusy(): boolean {
    return false;
  }
  agents(): AgentSummary[] {
    return [{ id: 'echo', name: 'Echo' }];
  }
  activeAgentId(): string {
    return 'echo';
  }
  async switchAgent(id: string): Promise<void> {
    this.calls.push(`switchAgent:${id}`);
  }
  async setupStatus(): Promise<SetupStatus> {
    return { configured: true, hasApiKey: false, baseUrl: 'echo://', model: 'echo' };
  }
  async probeLocalServers(): Promise<LocalServer[]> {
    return [];
  }
  async saveApiKey(): Promise<SetupResult> {
    return { ok: false, message: 'The echo backend keeps no API key.' };
  }
  async useServer(): Promise<SetupResult> {
    return { ok: false, message: 'The echo backend uses no server.' };
  }
  async openCitation(path: string, startLine: number): Promise<void> {
    this.calls.push(`openCitation:${path}:${startLine}`);
  }
  async insertAtCursor(): Promise<void> {
    this.calls.push('insertAtCursor');
  }
  async copyToClipboard(): Promise<void> {
    this.calls.push('copyToClipboard');
  }
  async showCoreMemory(): Promise<void> {
    this.calls.push('showCoreMemory');
  }
  async confirmExternalLink(url: string): Promise<void> {
    this.calls.push(`openExternal:${url}`);
  }
}
