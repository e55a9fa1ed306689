import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview, type WebviewToHost } from '../protocol';
import { renderChatHtml } from '../webview/html';
import { ChatRelay, type ChatBackend } from './chatBackend';

/** A conversation message to scroll the chat to (a Search Memory hit). */
export interface RevealTarget {
  recordId: string;
  seq: number;
}

/**
 * The sidebar chat. Renders the webview shell and hands every message to a `ChatRelay`.
 * Without a backend the view says the agent is not running (it never fakes a reply).
 */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'memgpt.chat';
  private view: vscode.WebviewView | undefined;
  private relay: ChatRelay | undefined;
  private viewSubscriptions: vscode.Disposable[] = [];
  private readonly received = new vscode.EventEmitter<WebviewToHost>();
  private readonly output: vscode.LogOutputChannel | undefined;
  /** Fires for every valid message from the webview (tests and the host listen). */
  readonly onDidReceive = this.received.event;
  /** The webview script runs and listens (it said `ready`); until then a reveal waits here. */
  private webviewReady = false;
  private pendingReveal: RevealTarget | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private backend?: ChatBackend,
    output?: vscode.LogOutputChannel,
  ) {
    this.output = output;
  }

  /** Scrolls the chat to a message once the view is showing and its script listens (open the view first). */
  reveal(target: RevealTarget): void {
    if (this.view && this.webviewReady) void this.post({ type: 'revealMessage', payload: target });
    else this.pendingReveal = target;
  }

  /** Connects (or replaces) the agent backend; an open view reloads its state and history. */
  setBackend(backend: ChatBackend | undefined): void {
    this.backend = backend;
    if (this.view) {
      this.connect(this.view);
      void this.post({ type: 'historyReset', payload: {} });
    }
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.webviewReady = false;
    const mediaRoot = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [mediaRoot] };
    const uri = (...parts: string[]) => view.webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, ...parts)).toString();
    view.webview.html = renderChatHtml({
      cspSource: view.webview.cspSource,
      scriptUri: uri('dist', 'webview.js'),
      styleUri: uri('chat.css'),
      codiconUri: uri('dist', 'codicon.css'),
    });
    this.connect(view);
    view.onDidDispose(() => {
      this.disconnect();
      this.view = undefined;
      this.webviewReady = false;
    });
  }

  get isResolved(): boolean {
    return this.view !== undefined;
  }

  post(message: HostToWebview): Thenable<boolean> {
    return this.view ? this.view.webview.postMessage(message) : Promise.resolve(false);
  }

  private connect(view: vscode.WebviewView): void {
    this.disconnect();
    const relay = new ChatRelay(
      this.backend,
      (message) => this.post(message),
      (problem) => this.log(problem),
    );
    this.relay = relay;
    this.viewSubscriptions.push(
      view.webview.onDidReceiveMessage(async (raw: unknown) => {
        if (isWebviewToHost(raw)) this.received.fire(raw);
        await relay.receive(raw);
        if (isWebviewToHost(raw) && raw.type === 'ready') {
          this.webviewReady = true;
          const target = this.pendingReveal;
          this.pendingReveal = undefined;
          if (target) void this.post({ type: 'revealMessage', payload: target });
        }
      }),
    );
  }

  private disconnect(): void {
    this.relay?.dispose();
    this.relay = undefined;
    for (const d of this.viewSubscriptions.splice(0)) d.dispose();
  }

  private log(problem: string): void {
    if (this.output) this.output.warn(problem);
    else console.warn(`[memgpt] ${problem}`);
  }

  dispose(): void {
    this.disconnect();
    this.received.dispose();
  }
}
