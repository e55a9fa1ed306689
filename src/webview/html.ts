/**
 * The HTML shell of the chat webview. Pure (no `vscode`, no DOM) so a test can render it and
 * assert the Content Security Policy: nothing loads but our own script (by nonce), styles and font.
 */

export interface ChatHtmlResources {
  /** `webview.cspSource`: the origin our resources are served from. */
  cspSource: string;
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

/** 16 bytes: the 128 bits of randomness CSP nonces should have. */
const NONCE_BYTES = 16;

/**
 * A new nonce, from the platform's CSPRNG (Web Crypto: in Node and in browsers), in hex so it
 * cannot break out of an attribute. Made here and nowhere else, so no caller can reuse one:
 * a nonce that repeats can be copied into injected markup.
 */
function freshNonce(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page, with a fresh nonce each call (read it back from the CSP if a test page adds a script). */
export function renderChatHtml(r: ChatHtmlResources): string {
  const nonce = freshNonce();
  const csp = contentSecurityPolicy(r.cspSource, nonce);
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
<script nonce="${nonce}" src="${attr(r.scriptUri)}"></script>
</body>
</html>`;
}
