import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, EXTENSION_ID } from '../support/extensionApi';

describe('activation', () => {
  it('activates in the real extension host and returns its API', async () => {
    const ext = await activatedExtension();
    assert.equal(ext.isActive, true);
    assert.ok(ext.exports, 'activate() returned nothing');
    assert.equal(typeof ext.exports.chatView.post, 'function', 'the API carries the chat view provider');
    // Same object through the public lookup other extensions use.
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.exports, ext.exports);
  });

  it('runs in a Node extension host with a file workspace', () => {
    assert.equal(typeof process.versions.node, 'string');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the harness opens a workspace folder');
    assert.equal(folder.uri.scheme, 'file');
  });
});
