import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { askAboutSelectionMessage, capText, provenanceLabel, rememberedSelectionText } from '../../../src/core/events/selection';
import { REMEMBER_SELECTION_MAX_CHARS } from '../../../src/core/limits';

describe('selection texts', () => {
  it('labels provenance as path:start-end (path:line for one line)', () => {
    assert.equal(provenanceLabel('src/a.ts', 3, 9), 'src/a.ts:3-9');
    assert.equal(provenanceLabel('src/a.ts', 4, 4), 'src/a.ts:4');
  });

  it('stores small selections whole with their provenance', () => {
    const r = rememberedSelectionText({ path: 'src/a.ts', startLine: 1, endLine: 2, text: 'const a = 1;\nconst b = 2;' });
    assert.equal(r.truncated, false);
    assert.equal(r.text, 'From src/a.ts:1-2:\nconst a = 1;\nconst b = 2;');
  });

  it('caps huge selections, says so, and prefers a line end', () => {
    const line = 'x'.repeat(99) + '\n';
    const text = line.repeat(1000);
    const r = rememberedSelectionText({ path: 'big.txt', startLine: 1, endLine: 1000, text });
    assert.equal(r.truncated, true);
    assert.equal(r.originalChars, text.length);
    assert.ok(r.text.length < REMEMBER_SELECTION_MAX_CHARS + 200);
    assert.match(r.text, /\[cut: the first \d+ of 100000 characters were kept\]$/);
    const kept = capText(text, REMEMBER_SELECTION_MAX_CHARS).text;
    assert.ok(kept.endsWith('x'), 'cut at a line end, the newline itself dropped');
    assert.equal(kept.length % 100, 99);
  });

  it('never splits a surrogate pair', () => {
    const r = capText('a' + '😀'.repeat(10), 4);
    assert.equal(r.text, 'a😀');
  });

  it('quotes the selection in a fence the code cannot break out of', () => {
    const text = 'const s = "```";\n````\n';
    const { message } = askAboutSelectionMessage({ path: 'src/q.ts', startLine: 5, endLine: 6, text, languageId: 'typescript' }, 'Why?');
    assert.ok(message.startsWith('Why?\n\nFrom `src/q.ts:5-6`:\n`````typescript\n'));
    assert.ok(message.endsWith('\n`````'));
    const { message: dflt } = askAboutSelectionMessage({ path: 'a.py', startLine: 1, endLine: 1, text: 'x', languageId: 'py"thon<' }, '  ');
    assert.ok(dflt.startsWith('Explain this code.'));
    assert.match(dflt, /```python\n/);
  });
});
