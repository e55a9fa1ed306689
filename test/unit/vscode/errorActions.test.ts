import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatModelError } from '../../../src/core/interfaces/chatModel';
import { RuntimeUnavailableError } from '../../../src/core/runtime/runtimeGuard';
import { COMMANDS } from '../../../src/vscode/commandIds';
import { errorAction } from '../../../src/vscode/errorActions';

test('the button beside an error is chosen by its code: trust for Restricted Mode, Select Model for no model, none where nothing helps', () => {
  assert.deepEqual(errorAction(new RuntimeUnavailableError('restricted', 'any words')), {
    title: 'Manage Workspace Trust',
    command: 'workbench.trust.manage',
  });
  assert.deepEqual(errorAction(new RuntimeUnavailableError('no_model', 'any words')), {
    title: 'Select Model',
    command: COMMANDS.selectModel,
  });
  assert.deepEqual(errorAction(new RuntimeUnavailableError('no_folder', 'x')), {
    title: 'Open Folder',
    command: 'workbench.action.files.openFolder',
  });
  assert.equal(errorAction(new RuntimeUnavailableError('read_only', 'x')), undefined);
  assert.equal(errorAction(new ChatModelError('network', 'x')), undefined);
  assert.equal(errorAction(new Error('This workspace is in Restricted Mode')), undefined, 'the wording alone never picks an action');
});
