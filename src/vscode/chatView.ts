import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview, type WebviewToHost } from '../protocol';

/** The sidebar chat: renders the webview shell and relays protocol messages. */
export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'memgpt.chat';
  private view: vscode.WebviewView | undefined;
  private readonly received = new vscode.EventEmitter<WebviewToHost>();
  /** Fires for every valid message from the webview (tests and the host listen). */
  readonly onDidReceive = this.received.event;

  constructor(private readonly extensionUri: vscode.Uri) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const mediaRoot = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [mediaRoot] };
    view.webview.html = renderChatHtml(view.webview, mediaRoot);
    view.webview.onDidReceiveMessage((raw: unknown) => {
      if (!isWebviewToHost(raw)) {
        console.warn('[memgpt] rejected a malformed message from the chat webview');
        return;
      }
      this.received.fire(raw);
      if (raw.type === 'send') void this.post({ type: 'reply', payload: { text: raw.payload.text } });
    });
  }

  get isResolved(): boolean {
    return this.view !== undefined;
  }

  post(message: HostToWebview): Thenable<boolean> {
    return this.view ? this.view.webview.postMessage(message) : Promise.resolve(false);
  }
}

export function renderChatHtml(webview: vscode.Webview, mediaRoot: vscode.Uri): string {
  const nonce = createNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'dist', 'webview.js'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>MemGPT</title>
</head>
<body>
<main id="app" aria-label="MemGPT chat"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}

function createNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}
