import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension } from '../support/extensionApi';

interface ContributedCommand {
  command: string;
  title: string;
}

describe('commands', () => {
  it('registers every command contributed in package.json', async () => {
    const ext = await activatedExtension();
    const contributed = (ext.packageJSON as { contributes?: { commands?: ContributedCommand[] } }).contributes?.commands ?? [];
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });
});
