/**
 * Whether the window's login may run a turn depends on the user's last message having an answer:
 * the records are shaped as the agent writes them (MemGPT envelopes, send_message calls).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastUserMessageUnanswered } from '../../../src/core/events/agentWakeups';
import { answer, input, loginEvent as event, said, thought } from './recallRecords';

test('an answered question, or none at all, lets the login run', () => {
  assert.equal(lastUserMessageUnanswered([]), false);
  assert.equal(lastUserMessageUnanswered([event(), thought(true)]), false, 'only events and an automatic thought');
  assert.equal(lastUserMessageUnanswered([said('hi'), thought(), answer('Hello.')]), false);
  assert.equal(lastUserMessageUnanswered([said('hi'), answer('Hello.'), event(), thought(true)]), false, 'a later silent login turn');
});

test('a question without a reply (failed, stopped) keeps the login queued, whatever automatic turns said after it', () => {
  assert.equal(lastUserMessageUnanswered([said('hi'), answer('Hello.'), said('why?')]), true, 'failed before any step');
  assert.equal(lastUserMessageUnanswered([said('why?'), thought()]), true, 'stopped after a thought');
  assert.equal(lastUserMessageUnanswered([said('why?'), event(true), answer('Welcome back!', true)]), true, 'a greeting is no answer');
  // A log written before the marks: the greeting reads as an answer, as it did then.
  assert.equal(lastUserMessageUnanswered([said('why?'), event(), answer('Welcome back!')]), false);
  // A queued event after the question (a file opened) changes nothing.
  assert.equal(lastUserMessageUnanswered([said('why?'), input({ type: 'file_opened', path: 'a.ts' })]), true);
});
