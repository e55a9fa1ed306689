/**
 * The one contract between the extension host and the chat webview.
 * Each direction is a map from message type to payload; `isWebviewToHost` checks
 * untrusted input from the webview at the boundary.
 */

export interface WebviewToHostMessages {
  ready: Record<string, never>;
  send: { text: string };
}

export interface HostToWebviewMessages {
  reply: { text: string };
}

export type Envelope<M> = { [K in keyof M]: { type: K; payload: M[K] } }[keyof M];
export type WebviewToHost = Envelope<WebviewToHostMessages>;
export type HostToWebview = Envelope<HostToWebviewMessages>;

const MAX_TEXT_CHARS = 200_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Runtime check of a message from the webview; anything else is rejected. */
export function isWebviewToHost(v: unknown): v is WebviewToHost {
  if (!isRecord(v) || typeof v.type !== 'string' || !isRecord(v.payload)) return false;
  const p = v.payload;
  switch (v.type) {
    case 'ready':
      return Object.keys(p).length === 0;
    case 'send':
      return typeof p.text === 'string' && p.text.length <= MAX_TEXT_CHARS;
    default:
      return false;
  }
}
