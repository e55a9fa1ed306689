import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_MEMORY_BLOCK_LIMIT_CHARS, CORE_MEMORY_PROJECT_LIMIT_CHARS } from '../../../src/core/limits';
import { charCount, CoreMemory, CoreMemoryError, type CoreMemoryChange } from '../../../src/core/memory/coreMemory';
import { HUMAN_PRESETS, PERSONA_PRESETS } from '../../../src/core/memory/presets';

function fresh(): CoreMemory {
  let t = Date.UTC(2024, 0, 1);
  return CoreMemory.create({ persona: 'I am helpful.', human: 'Name: Ada.', project: '' }, { now: () => new Date((t += 1000)) });
}

/** Runs `edit`, expects a CoreMemoryError with exactly `message`, and checks nothing changed or fired. */
/** MemGPT's advice after an over-limit edit by the agent. */
const advice = (label: string) =>
  ` Consider summarizing existing core memories in '${label}' and/or moving lower priority content to archival memory (archival_memory_insert) to free up space in core memory, then try again.`;

function expectRefused(mem: CoreMemory, edit: () => void, message: string | RegExp): void {
  const before = JSON.stringify(mem.toJSON());
  const rendered = mem.render();
  const changes: CoreMemoryChange[] = [];
  const off = mem.onChange((c) => changes.push(c));
  assert.throws(edit, (e: unknown) => {
    assert.ok(e instanceof CoreMemoryError, `expected CoreMemoryError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
  off();
  assert.equal(JSON.stringify(mem.toJSON()), before, 'state unchanged');
  assert.equal(mem.render(), rendered, 'render unchanged');
  assert.deepEqual(changes, [], 'no change event');
}

test('append adds a new line and fires one change with the new value', () => {
  const mem = fresh();
  const changes: CoreMemoryChange[] = [];
  mem.onChange((c) => changes.push(c));
  const before = mem.lastModified;
  mem.append('human', 'Prefers tabs.');
  assert.equal(mem.get('human'), 'Name: Ada.\nPrefers tabs.');
  mem.append('project', 'Uses pnpm.');
  assert.equal(mem.get('project'), 'Uses pnpm.', 'an empty block gets no leading newline');
  assert.deepEqual(changes[0], { label: 'human', operation: 'append', source: 'agent', value: 'Name: Ada.\nPrefers tabs.' });
  assert.notEqual(mem.lastModified, before);
});

test('append over the limit: MemGPT error text, nothing applied', () => {
  const mem = fresh();
  const room = CORE_MEMORY_BLOCK_LIMIT_CHARS - charCount(mem.get('human')) - 1; // -1 for the newline
  const requested = charCount(mem.get('human')) + 1 + room + 1;
  expectRefused(
    mem,
    () => mem.append('human', 'x'.repeat(room + 1)),
    `Edit failed: Exceeds ${CORE_MEMORY_BLOCK_LIMIT_CHARS} character limit (requested ${requested}).${advice('human')}`,
  );
  mem.append('human', 'x'.repeat(room));
  assert.equal(charCount(mem.get('human')), CORE_MEMORY_BLOCK_LIMIT_CHARS, 'exactly at the limit is allowed');
});

test('the project block has its own, larger limit', () => {
  const mem = fresh();
  assert.equal(mem.limit('project'), CORE_MEMORY_PROJECT_LIMIT_CHARS);
  mem.append('project', 'p'.repeat(CORE_MEMORY_PROJECT_LIMIT_CHARS));
  expectRefused(
    mem,
    () => mem.append('project', 'q'),
    `Edit failed: Exceeds ${CORE_MEMORY_PROJECT_LIMIT_CHARS} character limit (requested ${CORE_MEMORY_PROJECT_LIMIT_CHARS + 2}).${advice('project')}`,
  );
});

test('characters are code points: an emoji counts once', () => {
  assert.equal(charCount('a😀b'), 3);
  const mem = fresh();
  mem.setBlock('persona', '😀'.repeat(CORE_MEMORY_BLOCK_LIMIT_CHARS));
  assert.match(mem.render(), new RegExp(`<persona characters="${CORE_MEMORY_BLOCK_LIMIT_CHARS}/${CORE_MEMORY_BLOCK_LIMIT_CHARS}">`));
});

test('unknown label: MemGPT error text listing the valid sections, for every operation', () => {
  const mem = fresh();
  const msg = 'No memory section named hobbies. Valid sections: persona, human, project.';
  expectRefused(mem, () => mem.append('hobbies', 'chess'), msg);
  expectRefused(mem, () => mem.replace('hobbies', 'a', 'b'), msg);
  expectRefused(mem, () => mem.setBlock('hobbies', 'x'), msg);
  expectRefused(mem, () => mem.get('hobbies'), msg);
});

test('replace: old content not found gives MemGPT error text', () => {
  const mem = fresh();
  expectRefused(
    mem,
    () => mem.replace('human', 'Name: Bob.', 'Name: Ada L.'),
    "Old content 'Name: Bob.' not found in memory block 'human'",
  );
});

test('replace with EMPTY old_content is an error, not an insert between every character', () => {
  const mem = fresh();
  expectRefused(mem, () => mem.replace('human', '', 'X'), /^Edit failed: old_content is empty\. .*core_memory_append/);
});

test('replace swaps every occurrence when asked to, can delete, and respects the limit', () => {
  const mem = fresh();
  mem.setBlock('human', 'likes tea. likes cake.');
  // Ambiguous without replace_all: refused, nothing changed.
  expectRefused(mem, () => mem.replace('human', 'likes', 'loves'), /old_content occurs 2 times in memory block 'human'.*replace_all=true/);
  assert.equal(mem.get('human'), 'likes tea. likes cake.');
  mem.replace('human', 'likes', 'loves', true);
  assert.equal(mem.get('human'), 'loves tea. loves cake.');
  mem.replace('human', ' loves cake.', '');
  assert.equal(mem.get('human'), 'loves tea.');
  expectRefused(
    mem,
    () => mem.replace('human', 'tea', 't'.repeat(CORE_MEMORY_BLOCK_LIMIT_CHARS)),
    `Edit failed: Exceeds ${CORE_MEMORY_BLOCK_LIMIT_CHARS} character limit (requested ${CORE_MEMORY_BLOCK_LIMIT_CHARS + 7}).${advice('human')}`,
  );
});

test('empty append content and non-string arguments are refused', () => {
  const mem = fresh();
  expectRefused(mem, () => mem.append('human', '   '), /^Edit failed: content is empty/);
  expectRefused(mem, () => mem.append('human', 42 as unknown as string), 'Edit failed: content must be a string (got number).');
  expectRefused(mem, () => mem.replace('human', 'Ada', null as unknown as string), 'Edit failed: new_content must be a string (got null).');
});

test('setBlock is a user edit with the same limit', () => {
  const mem = fresh();
  const changes: CoreMemoryChange[] = [];
  mem.onChange((c) => changes.push(c));
  mem.setBlock('persona', 'New persona.');
  assert.deepEqual(changes, [{ label: 'persona', operation: 'set', source: 'user', value: 'New persona.' }]);
  expectRefused(
    mem,
    () => mem.setBlock('persona', 'z'.repeat(CORE_MEMORY_BLOCK_LIMIT_CHARS + 1)),
    /Exceeds 2000 character limit \(requested 2001\)/,
  );
});

test('render shows each block with its character count and limit, in label order', () => {
  const mem = fresh();
  assert.equal(
    mem.render(),
    [
      `<persona characters="13/${CORE_MEMORY_BLOCK_LIMIT_CHARS}">`,
      'I am helpful.',
      '</persona>',
      `<human characters="10/${CORE_MEMORY_BLOCK_LIMIT_CHARS}">`,
      'Name: Ada.',
      '</human>',
      `<project characters="0/${CORE_MEMORY_PROJECT_LIMIT_CHARS}">`,
      '',
      '</project>',
    ].join('\n'),
  );
});

test('toJSON/fromJSON round-trip; a missing block is restored empty; malformed input is refused', () => {
  const mem = fresh();
  mem.append('project', 'Monorepo with turbo.');
  const copy = CoreMemory.fromJSON(JSON.parse(JSON.stringify(mem.toJSON())));
  assert.equal(copy.render(), mem.render());
  assert.equal(copy.lastModified, mem.lastModified);
  const partial = CoreMemory.fromJSON({ blocks: [{ label: 'persona', value: 'p' }], lastModified: 'x' });
  assert.deepEqual(partial.labels, ['persona', 'human', 'project']);
  assert.throws(() => CoreMemory.fromJSON({ blocks: 'nope' }), /malformed/);
  assert.throws(() => CoreMemory.fromJSON({ blocks: [{ label: 'a', value: 1 }] }), /block 0/);
  assert.throws(
    () =>
      CoreMemory.fromJSON({
        blocks: [
          { label: 'a', value: '' },
          { label: 'a', value: '' },
        ],
      }),
    /appears twice/,
  );
});

test('a saved block above a (lowered) limit is kept whole and may only shrink', () => {
  const big = `${'b'.repeat(CORE_MEMORY_BLOCK_LIMIT_CHARS + 40)}cut this!`;
  const mem = CoreMemory.fromJSON({ blocks: [{ label: 'human', value: big }], lastModified: 'x' });
  assert.equal(mem.get('human'), big, 'not truncated on load');
  expectRefused(mem, () => mem.append('human', 'more'), /Exceeds/);
  expectRefused(mem, () => mem.replace('human', 'cut this!', 'grown longer!'), /Exceeds/);
  mem.replace('human', 'cut this!', '');
  assert.equal(charCount(mem.get('human')), CORE_MEMORY_BLOCK_LIMIT_CHARS + 40, 'a shrinking edit is allowed even while still over');
});

test('a throwing listener does not undo the edit', () => {
  const mem = fresh();
  mem.onChange(() => {
    throw new Error('listener bug');
  });
  mem.append('human', 'ok');
  assert.equal(mem.get('human'), 'Name: Ada.\nok');
});

test('presets: two personas and two humans, all within limits, used by create()', () => {
  assert.ok(Object.keys(PERSONA_PRESETS).length >= 2);
  assert.ok(Object.keys(HUMAN_PRESETS).length >= 2);
  for (const p of [...Object.values(PERSONA_PRESETS), ...Object.values(HUMAN_PRESETS)]) {
    assert.ok(p.text.length > 40 && charCount(p.text) <= CORE_MEMORY_BLOCK_LIMIT_CHARS, p.name);
  }
  const mem = CoreMemory.create({ personaPreset: 'terse', humanPreset: 'learner' });
  assert.equal(mem.get('persona'), PERSONA_PRESETS.terse!.text);
  assert.equal(mem.get('human'), HUMAN_PRESETS.learner!.text);
  assert.throws(
    () => CoreMemory.create({ personaPreset: 'pirate' }),
    /Unknown persona preset "pirate". Available: coding-assistant, terse/,
  );
});
