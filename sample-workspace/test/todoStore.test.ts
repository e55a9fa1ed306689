import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TodoStore } from '../src/store/todoStore';

test('open high-priority todos come first, done ones last', () => {
  const store = new TodoStore();
  const a = store.add('water plants', 'low');
  store.add('file taxes', 'high', '2026-04-15');
  store.complete(a.id);
  assert.deepEqual(store.ordered().map((t) => t.text), ['file taxes', 'water plants']);
});

test('rejects a malformed due date', () => {
  assert.throws(() => new TodoStore().add('x', 'normal', '15/04/2026'), /YYYY-MM-DD/);
});
