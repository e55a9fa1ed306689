// Minimal chat surface for the skeleton; the full UI replaces it.
import type { HostToWebview, WebviewToHost } from '../protocol';

declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void };
const vscodeApi = acquireVsCodeApi();

const app = document.getElementById('app')!;
const log = document.createElement('div');
log.setAttribute('role', 'log');
log.setAttribute('aria-live', 'polite');
const input = document.createElement('textarea');
input.setAttribute('aria-label', 'Message MemGPT');
input.placeholder = 'Ask MemGPT…';
app.append(log, input);

function addLine(who: string, text: string): void {
  const line = document.createElement('div');
  line.className = `msg ${who}`;
  line.textContent = text;
  log.append(line);
}

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    addLine('user', text);
    vscodeApi.postMessage({ type: 'send', payload: { text } });
    input.value = '';
  }
});

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  if (m.type === 'reply') addLine('assistant', m.payload.text);
});

vscodeApi.postMessage({ type: 'ready', payload: {} });
