import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusView } from '../../../src/vscode/statusView';

describe('statusView', () => {
  it('shows idle, thinking and indexing percentages', () => {
    assert.match(statusView({ kind: 'idle' }, true).text, /MemGPT$/);
    assert.match(statusView({ kind: 'thinking' }, true).text, /thinking/);
    const v = statusView({ kind: 'indexing', filesDone: 42, filesTotal: 200, paused: false }, true);
    assert.match(v.text, /indexing 21%/);
    assert.match(v.tooltip, /42 of 200 files/);
    assert.match(statusView({ kind: 'indexing', filesDone: 1, filesTotal: 2, paused: true }, true).text, /indexing paused 50%/);
    assert.match(statusView({ kind: 'indexing', filesDone: 0, filesTotal: 0, paused: false }, true).text, /0%/);
  });

  it('warns when read-only or failed, and says what to do', () => {
    const ro = statusView({ kind: 'read-only', reason: 'another window (pid 42) holds the lock.' }, true);
    assert.equal(ro.warning, true);
    assert.match(ro.text, /read-only/);
    assert.match(ro.tooltip, /pid 42.*\n.*reload/s);
    assert.equal(statusView({ kind: 'failed', message: 'x' }, true).warning, true);
  });

  it('always mentions restricted mode when the workspace is not trusted', () => {
    for (const kind of ['idle', 'thinking', 'starting'] as const) {
      const v = statusView({ kind }, false);
      assert.match(v.tooltip, /Restricted Mode/);
      assert.match(v.text, /\$\(shield\)/);
      assert.doesNotMatch(statusView({ kind }, true).tooltip, /Restricted Mode/);
    }
  });
});
