import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHAT_MESSAGE_MAX_CHARS, CHAT_PATH_MAX_CHARS } from '../../../src/core/limits';
import { isSafeExternalUrl, isWebviewToHost } from '../../../src/protocol';

describe('isWebviewToHost (the webview is untrusted input)', () => {
  const valid: unknown[] = [
    { type: 'ready', payload: {} },
    { type: 'send', payload: { text: 'hello' } },
    { type: 'stop', payload: {} },
    { type: 'retry', payload: {} },
    { type: 'clearView', payload: {} },
    { type: 'showCoreMemory', payload: {} },
    { type: 'switchAgent', payload: { agentId: 'a1' } },
    { type: 'openCitation', payload: { path: 'src/a.ts', startLine: 3 } },
    { type: 'openCitation', payload: { path: 'src/a.ts', startLine: 3, endLine: 9 } },
    { type: 'insertAtCursor', payload: { code: 'const a = 1;' } },
    { type: 'copyToClipboard', payload: { text: '' } },
    { type: 'openExternal', payload: { url: 'https://example.com/a?b=c' } },
    { type: 'openExternal', payload: { url: 'mailto:someone@example.com' } },
    { type: 'request', payload: { id: 1, method: 'history', params: { beforeSeq: null, limit: 40 } } },
    { type: 'request', payload: { id: 2, method: 'history', params: { beforeSeq: 120, limit: 1 } } },
    { type: 'request', payload: { id: 3, method: 'probeLocalServers', params: {} } },
    { type: 'request', payload: { id: 4, method: 'saveApiKey', params: { key: 'sk-abc' } } },
    { type: 'request', payload: { id: 5, method: 'useServer', params: { baseUrl: 'http://127.0.0.1:11434/v1' } } },
    { type: 'request', payload: { id: 6, method: 'useServer', params: { baseUrl: 'http://127.0.0.1:1234/v1', model: 'qwen' } } },
    { type: 'request', payload: { id: 7, method: 'useEditorModel', params: {} } },
  ];
  for (const m of valid) test(`accepts ${JSON.stringify(m).slice(0, 90)}`, () => assert.equal(isWebviewToHost(m), true));

  const invalid: [string, unknown][] = [
    ['null', null],
    ['a string', 'send'],
    ['an array', [{ type: 'ready', payload: {} }]],
    ['unknown type', { type: 'runCommand', payload: { command: 'workbench.action.terminal.new' } }],
    ['prototype key as type', { type: '__proto__', payload: {} }],
    ['missing payload', { type: 'ready' }],
    ['extra top-level key', { type: 'ready', payload: {}, extra: 1 }],
    ['payload on an empty message', { type: 'stop', payload: { now: true } }],
    ['text not a string', { type: 'send', payload: { text: 42 } }],
    ['blank message', { type: 'send', payload: { text: '  \n ' } }],
    ['oversize message', { type: 'send', payload: { text: 'x'.repeat(CHAT_MESSAGE_MAX_CHARS + 1) } }],
    ['extra payload key', { type: 'send', payload: { text: 'hi', agentId: 'x' } }],
    ['line 0', { type: 'openCitation', payload: { path: 'a.ts', startLine: 0 } }],
    ['fractional line', { type: 'openCitation', payload: { path: 'a.ts', startLine: 1.5 } }],
    ['end before start', { type: 'openCitation', payload: { path: 'a.ts', startLine: 9, endLine: 3 } }],
    ['empty path', { type: 'openCitation', payload: { path: '', startLine: 1 } }],
    ['NUL in path', { type: 'openCitation', payload: { path: 'a\0.ts', startLine: 1 } }],
    ['oversize path', { type: 'openCitation', payload: { path: 'a'.repeat(CHAT_PATH_MAX_CHARS + 1), startLine: 1 } }],
    ['javascript: url', { type: 'openExternal', payload: { url: 'javascript:alert(1)' } }],
    ['command: url', { type: 'openExternal', payload: { url: 'command:workbench.action.openSettings' } }],
    ['file: url', { type: 'openExternal', payload: { url: 'file:///etc/passwd' } }],
    ['vscode: url', { type: 'openExternal', payload: { url: 'vscode://ms-vscode.remote/x' } }],
    ['not a url', { type: 'openExternal', payload: { url: 'example.com' } }],
    ['unknown request method', { type: 'request', payload: { id: 1, method: 'deleteMemory', params: {} } }],
    ['negative request id', { type: 'request', payload: { id: -1, method: 'probeLocalServers', params: {} } }],
    ['history page too large', { type: 'request', payload: { id: 1, method: 'history', params: { beforeSeq: null, limit: 100_000 } } }],
    ['history limit missing', { type: 'request', payload: { id: 1, method: 'history', params: { beforeSeq: null } } }],
    ['empty api key', { type: 'request', payload: { id: 1, method: 'saveApiKey', params: { key: '' } } }],
    ['model not a string', { type: 'request', payload: { id: 1, method: 'useServer', params: { baseUrl: 'http://x', model: 3 } } }],
    ['useEditorModel with params', { type: 'request', payload: { id: 1, method: 'useEditorModel', params: { model: 'gpt-4o' } } }],
  ];
  for (const [name, m] of invalid) test(`rejects ${name}`, () => assert.equal(isWebviewToHost(m), false));
});

test('isSafeExternalUrl allows only http, https and mailto', () => {
  assert.equal(isSafeExternalUrl('https://a.example'), true);
  assert.equal(isSafeExternalUrl('HTTP://A.EXAMPLE/x'), true);
  for (const bad of [
    'javascript:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'file:///x',
    'command:x',
    '//a.example',
    'ftp://a.example',
  ]) {
    assert.equal(isSafeExternalUrl(bad), false, bad);
  }
});
