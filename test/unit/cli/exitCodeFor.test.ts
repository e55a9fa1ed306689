import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, ExitCode, exitCodeFor } from '../../../src/cli/exitCodes';
import { ChatModelError } from '../../../src/core/interfaces/chatModel';
import { RuntimeUnavailableError } from '../../../src/core/runtime/runtimeGuard';
import { CoreMemoryError } from '../../../src/core/memory/coreMemory';

test('the exit status of a core failure comes from its code, never from its words', () => {
  assert.equal(exitCodeFor(new RuntimeUnavailableError('no_model', 'anything at all')), ExitCode.noModel);
  assert.equal(exitCodeFor(new RuntimeUnavailableError('no_folder', 'x')), ExitCode.folderMissing);
  assert.equal(exitCodeFor(new RuntimeUnavailableError('agent_not_found', 'x')), ExitCode.usage);
  for (const code of ['read_only', 'restricted', 'closed', 'unavailable'] as const) {
    assert.equal(exitCodeFor(new RuntimeUnavailableError(code, 'x')), ExitCode.runtimeFailure, code);
  }
  assert.equal(exitCodeFor(new ChatModelError('network', 'x')), ExitCode.serverUnreachable);
  assert.equal(exitCodeFor(new ChatModelError('timeout', 'x')), ExitCode.serverUnreachable);
  assert.equal(exitCodeFor(new ChatModelError('auth', 'x')), ExitCode.runtimeFailure);
  assert.equal(exitCodeFor(new CliError('bad flag', ExitCode.usage)), ExitCode.usage);
  assert.equal(exitCodeFor(new CoreMemoryError('over the limit')), ExitCode.runtimeFailure);
  assert.equal(exitCodeFor(new Error('no model')), ExitCode.runtimeFailure, 'words alone decide nothing');
});
