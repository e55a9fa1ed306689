import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { DeferredCommands } from '../../../src/vscode/deferredCommands';

/** A command run before its handler exists waits for it, rather than failing as "not found". */
describe('commands registered before the memory is open', () => {
  it('a command called early waits for its handler, then runs it with its argument', async () => {
    const id = 'memgpt.test.deferred.early';
    const commands = new DeferredCommands([id]);
    try {
      assert.ok((await vscode.commands.getCommands(true)).includes(id), 'the command is registered at once');
      let settled = false;
      const result = vscode.commands.executeCommand<string>(id, { name: 'early' });
      void Promise.resolve(result).then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(settled, false, 'the call must wait for the handler');
      commands.provide(id, (args) => `ran with ${(args as { name: string }).name}`);
      assert.equal(await result, 'ran with early');
      // Later calls go straight to the handler.
      assert.equal(await vscode.commands.executeCommand<string>(id, { name: 'late' }), 'ran with late');
    } finally {
      commands.dispose();
    }
  });

  it('a failure to open the memory ends every waiting call, and later ones, with the reason', async () => {
    const id = 'memgpt.test.deferred.failing';
    const commands = new DeferredCommands([id]);
    try {
      const waiting = vscode.commands.executeCommand(id);
      commands.fail('the storage folder is read-only');
      assert.equal(await waiting, undefined);
      assert.equal(await vscode.commands.executeCommand(id), undefined);
    } finally {
      commands.dispose();
    }
  });

  it('refuses a handler for a command the manifest does not declare', () => {
    const commands = new DeferredCommands(['memgpt.test.deferred.known']);
    try {
      assert.throws(() => commands.provide('memgpt.test.deferred.unknown', () => 1), /not declared/);
    } finally {
      commands.dispose();
    }
  });
});
