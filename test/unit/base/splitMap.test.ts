import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SplitMap } from '../../../src/core/base/splitMap';

test('a split map answers like a Map through a long run of sets, overwrites and deletes', () => {
  const split = new SplitMap<number>();
  const model = new Map<string, number>();
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let step = 0; step < 50_000; step++) {
    const key = `src/dir${next() % 13}/file${next() % 2000}.ts#${next() % 3}`;
    const op = next() % 10;
    if (op < 6) {
      assert.equal(split.set(key, step), split);
      model.set(key, step);
    } else if (op < 9) assert.equal(split.delete(key), model.delete(key), `delete ${key}`);
    else assert.equal(split.has(key), model.has(key));
    assert.equal(split.get(key), model.get(key));
    assert.equal(split.size, model.size);
  }
  assert.deepEqual(new Map(split.entries()), model);
  assert.equal(split.get(''), undefined);
  split.set('', -1);
  assert.equal(split.get(''), -1);
  split.clear();
  assert.equal(split.size, 0);
  assert.equal([...split.entries()].length, 0);
});
