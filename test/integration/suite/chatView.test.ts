import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WebviewToHost } from '../../../src/protocol';
import { EchoBackend } from '../support/echoBackend';
import { activatedExtension, waitFor } from '../support/extensionApi';

describe('chat view', () => {
  afterEach(async () => {
    const api = (await activatedExtension()).exports;
    // Put the agent's own backend back for the suites that follow.
    api.chatView.setBackend(api.chatBackend);
  });

  it('resolves when MemGPT: Open Chat runs', async () => {
    const { chatView } = (await activatedExtension()).exports;
    await vscode.commands.executeCommand('memgpt.openChat');
    await waitFor('the chat webview to resolve', () => chatView.isResolved);
  });

  it('round-trips messages between the webview and the host', async () => {
    const { chatView } = (await activatedExtension()).exports;
    await vscode.commands.executeCommand('memgpt.openChat');
    await waitFor('the chat webview to resolve', () => chatView.isResolved);

    const received: WebviewToHost[] = [];
    const listening = chatView.onDidReceive((m) => received.push(m));
    try {
      const backend = new EchoBackend();
      await backend.send('seeded before the view asked');
      // Host → webview: historyReset. Webview → host: a `history` request. Host → webview: the page.
      chatView.setBackend(backend);
      const request = await waitFor('the webview to request history after historyReset', () =>
        received.find((m) => m.type === 'request' && m.payload.method === 'history'),
      );
      assert.equal(request.type, 'request');
      await waitFor('the relay to ask the backend for history', () => backend.calls.some((c) => c.startsWith('history:newest:')));
      // And the host can still reach the live view.
      assert.equal(await chatView.post({ type: 'historyReset', payload: {} }), true);
      await waitFor('a second history request', () => received.filter((m) => m.type === 'request').length >= 2);
    } finally {
      listening.dispose();
    }
  });
});
