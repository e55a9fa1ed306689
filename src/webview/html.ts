/**
 * The HTML shell of the chat webview. Pure (no `vscode`, no DOM) so a test can render it and
 * assert the Content Security Policy: nothing loads but our own script (by nonce), styles and font.
 */

export interface ChatHtmlResources {
  /** `webview.cspSource`: the origin our resources are served from. */
  cspSource: string;
  /** Fresh per render. Only [A-Za-z0-9] so it cannot break out of the attribute. */
  nonce: string;
  scriptUri: string;
  /** media/chat.css */
  styleUri: string;
  /** media/dist/codicon.css */
  codiconUri: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderChatHtml(r: ChatHtmlResources): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(r.nonce)) throw new Error('renderChatHtml: the nonce must be 16+ letters and digits.');
  const csp = contentSecurityPolicy(r.cspSource, r.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(r.codiconUri)}">
<link rel="stylesheet" href="${attr(r.styleUri)}">
<title>MemGPT</title>
</head>
<body>
<main id="app" aria-label="MemGPT chat"></main>
<script nonce="${r.nonce}" src="${attr(r.scriptUri)}"></script>
</body>
</html>`;
}
