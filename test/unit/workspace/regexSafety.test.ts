import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegexSafety } from '../../../src/core/workspace/regexSafety';

const SAFE = [
  'foo',
  'foo\\w+bar',
  '^export (async )?function \\w+',
  'class\\s+[A-Z]\\w*',
  '(get|set)Item',
  '[(+*]+',
  '\\(a+\\)+',
  '(?:import|require)\\(',
  '(ab){3}',
  '(a+)?b',
  'todo(Store)?\\.ts',
  '(?<name>\\w+)=',
];
const UNSAFE = ['(a+)+$', '(a*)*b', '(x|x)*y', '(\\w+\\s?)+$', '((ab)*)+', '(a|aa)+$', '(.*a){2,}', '(\\d+)\\1', '(?:a+)+'];

test('ordinary search patterns pass', () => {
  for (const p of SAFE) assert.equal(checkRegexSafety(p).safe, true, p);
});

test('patterns that can backtrack exponentially are refused, with a reason', () => {
  for (const p of UNSAFE) {
    const v = checkRegexSafety(p);
    assert.equal(v.safe, false, p);
    assert.ok(v.reason && v.reason.length > 20, p);
  }
});
