import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisposableStore, toDisposable } from '../../../src/core/base/disposable';
import { Emitter } from '../../../src/core/base/emitter';
import { assertNever, errorCode, errorMessage, MemgptError } from '../../../src/core/base/errors';
import { SerialQueue } from '../../../src/core/base/serialQueue';

test('Emitter: every listener hears each event; one that throws breaks neither the sender nor the others; dispose stops it', () => {
  const emitter = new Emitter<number>();
  const heard: string[] = [];
  emitter.on(() => {
    throw new Error('closed view');
  });
  const b = emitter.on((n) => heard.push(`b${n}`));
  emitter.on((n) => heard.push(`c${n}`));
  emitter.fire(1);
  b.dispose();
  emitter.fire(2);
  assert.deepEqual(heard, ['b1', 'c1', 'c2']);
  assert.equal(emitter.size, 2);
});

test('Emitter: a listener added while firing hears the next event, not this one', () => {
  const emitter = new Emitter<string>();
  const heard: string[] = [];
  emitter.on((v) => {
    heard.push(`first ${v}`);
    if (v === 'a') emitter.on((w) => heard.push(`late ${w}`));
  });
  emitter.fire('a');
  emitter.fire('b');
  assert.deepEqual(heard, ['first a', 'first b', 'late b']);
});

test('SerialQueue: work runs one piece at a time in order; a failure rejects only its caller; idle waits for all', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let running = 0;
  const piece = (name: string, ms: number, fail = false) =>
    queue.run(async () => {
      running++;
      assert.equal(running, 1, 'never two at once');
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
  const a = piece('a', 20);
  const b = piece('b', 1, true);
  const c = piece('c', 5);
  const idle = queue.idle();
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  await idle;
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('DisposableStore: disposes newest first, once, and goes on past one that throws; late additions are disposed at once', () => {
  const store = new DisposableStore();
  const order: string[] = [];
  store.add(toDisposable(() => order.push('first')));
  store.add({
    dispose: () => {
      throw new Error('boom');
    },
  });
  store.add(toDisposable(() => order.push('third')));
  store.dispose();
  store.dispose();
  assert.deepEqual(order, ['third', 'first']);
  store.add(toDisposable(() => order.push('late')));
  assert.deepEqual(order, ['third', 'first', 'late']);
});

test('errors: MemgptError carries its code and its subclass name; errorMessage and errorCode read anything thrown', () => {
  class NoModel extends MemgptError<'no_model'> {}
  const e = new NoModel('no_model', 'No model is set.', { cause: new Error('inner') });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'NoModel');
  assert.equal(e.code, 'no_model');
  assert.equal((e.cause as Error).message, 'inner');
  assert.equal(errorMessage(e), 'No model is set.');
  assert.equal(errorMessage('plain text'), 'plain text');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorCode(e), 'no_model');
  assert.equal(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
  assert.equal(errorCode(new Error('x')), undefined);
  assert.equal(errorCode(null), undefined);
  assert.throws(() => assertNever('surprise' as never, 'kind'), /Unexpected kind: "surprise"/);
});
