/**
 * The question a tool call puts to the user, in each front end: the chat's transcript hangs the
 * card on the MCP function's own call card (also when the card arrives first, after a reload),
 * and the terminal names the server, the tool and the arguments and reads y / n reason / always.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApprovalRequest } from '../../../src/core/interfaces/approval';
import type { ApprovalCard } from '../../../src/protocol';
import { describeRequest, parseAnswer } from '../../../src/cli/approvalPrompt';
import { Transcript } from '../../../src/webview/transcript';

const REQUEST: ApprovalRequest = {
  kind: 'tool',
  callId: 'call_7',
  functionName: 'mcp__github__create_issue',
  server: 'github',
  tool: 'create_issue',
  source: '.vscode/mcp.json',
  arguments: '{\n  "title": "Crash on save"\n}',
  argumentsCut: false,
  readOnlyHint: false,
};

const CARD: ApprovalCard = {
  id: 'approval-7',
  callId: 'call_7',
  kind: 'tool',
  functionName: 'mcp__github__create_issue',
  server: 'github',
  tool: 'create_issue',
  source: '.vscode/mcp.json',
  arguments: REQUEST.kind === 'tool' ? REQUEST.arguments : '',
  argumentsCut: false,
  readOnlyHint: false,
};

test('the transcript puts a tool approval on that MCP call card, or makes the card when it comes first', () => {
  const t = new Transcript();
  t.apply({
    type: 'function_call_started',
    stepId: 's1',
    callId: 'call_7',
    name: 'mcp__github__create_issue',
    arguments: '{"title":"Crash on save"}',
  });
  const change = t.setApproval(CARD);
  assert.equal(change.appended.length, 0);
  const card = t.get('f-call_7');
  assert.ok(card?.kind === 'function' && card.approval?.id === 'approval-7' && card.name === 'mcp__github__create_issue');
  const fresh = new Transcript();
  const made = fresh.setApproval(CARD);
  assert.equal(made.appended.length, 1);
  const item = made.appended[0]!;
  assert.ok(item.kind === 'function' && item.name === 'mcp__github__create_issue', 'named after the MCP function, not write_file');
});

test('the terminal names the server, the tool and the arguments, and "always" is offered for the tool', () => {
  const text = describeRequest(REQUEST);
  assert.match(text, /tool "create_issue" of MCP server "github" \(\.vscode\/mcp\.json\)/);
  assert.match(text, /"title": "Crash on save"/);
  assert.deepEqual(parseAnswer('y', REQUEST), { decision: 'accept' });
  assert.deepEqual(parseAnswer('n not on this repo', REQUEST), { decision: 'reject', reason: 'not on this repo' });
  assert.deepEqual(parseAnswer('a', REQUEST), { decision: 'always' });
  assert.equal(parseAnswer('maybe', REQUEST), undefined);
});
