import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractTags, type Note } from '../src/model';
import { searchNotes } from '../src/search';

const note = (title: string, body: string): Note => ({
  id: title, title, body, tags: extractTags(body), createdAt: '', updatedAt: '',
});

test('tags are matched exactly, words anywhere', () => {
  const notes = [note('Groceries', 'milk #home'), note('Standup', 'demo the #work search')];
  assert.deepEqual(searchNotes(notes, '#home').map((n) => n.title), ['Groceries']);
  assert.deepEqual(searchNotes(notes, 'search #work').map((n) => n.title), ['Standup']);
  assert.deepEqual(searchNotes(notes, '#hom'), []);
});

test('title hits rank first', () => {
  const notes = [note('Other', 'about milk'), note('Milk', 'buy')];
  assert.equal(searchNotes(notes, 'milk')[0]?.title, 'Milk');
});
