import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedDebouncer } from '../../../src/core/events/keyedDebouncer';
import { FakeTimers } from './fakeTimers';

describe('KeyedDebouncer', () => {
  it('runs once per key after the key is quiet; keys do not delay each other', async () => {
    const timers = new FakeTimers();
    const ran: string[] = [];
    const d = new KeyedDebouncer<string>(500, (k) => ran.push(k), timers);
    d.trigger('a');
    await timers.advance(300);
    d.trigger('a');
    d.trigger('b');
    await timers.advance(499);
    assert.deepEqual(ran, []);
    await timers.advance(1);
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal(d.pendingCount, 0);
  });

  it('flushAll runs pending actions at once; cancelAll drops them', async () => {
    const timers = new FakeTimers();
    const ran: string[] = [];
    const d = new KeyedDebouncer<string>(500, (k) => ran.push(k), timers);
    d.trigger('a');
    d.trigger('b');
    d.flushAll();
    assert.deepEqual(ran, ['a', 'b']);
    d.trigger('c');
    d.cancelAll();
    await timers.advance(1000);
    assert.deepEqual(ran, ['a', 'b']);
  });
});
