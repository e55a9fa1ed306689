import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatModelError, type ChatMessage, type ToolSchema } from '../../../src/core/interfaces/chatModel';
import { LmReplyAssembler, lmFailure, noModelError, pickModel, toLmMessages, toLmTools } from '../../../src/vscode/lmMessages';

const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

test('system text, function calls and results map onto the two roles of VS Code’s API', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'Instructions and core memory' },
    { role: 'user', content: 'Note: the summary' },
    { role: 'user', content: 'Where is the total computed?' },
    {
      role: 'assistant',
      content: 'Thinking: search first.',
      tool_calls: [call('c1', 'archival_memory_search', '{"query":"total"}'), call('c2', 'read_file', 'not json at all')],
    },
    { role: 'tool', tool_call_id: 'c1', content: '{"status":"OK"}' },
    { role: 'system', content: '[event] file saved' },
    { role: 'tool', tool_call_id: 'c2', content: '{"status":"Failed"}' },
    { role: 'assistant', content: null, tool_calls: [call('c3', 'send_message', '{"message":"In billing.ts"}')] },
    { role: 'assistant', content: null },
  ];
  assert.deepEqual(toLmMessages(messages), [
    {
      role: 'user',
      parts: [
        { kind: 'text', value: 'Instructions and core memory' },
        { kind: 'text', value: 'Note: the summary' },
        { kind: 'text', value: 'Where is the total computed?' },
      ],
    },
    {
      role: 'assistant',
      parts: [
        { kind: 'text', value: 'Thinking: search first.' },
        { kind: 'toolCall', callId: 'c1', name: 'archival_memory_search', input: { query: 'total' } },
        // Broken arguments were already answered with a failed result; the API needs an object.
        { kind: 'toolCall', callId: 'c2', name: 'read_file', input: {} },
      ],
    },
    {
      role: 'user',
      parts: [
        // Results first, so they answer the calls; the event text after them.
        { kind: 'toolResult', callId: 'c1', text: '{"status":"OK"}' },
        { kind: 'toolResult', callId: 'c2', text: '{"status":"Failed"}' },
        { kind: 'text', value: '[event] file saved' },
      ],
    },
    { role: 'assistant', parts: [{ kind: 'toolCall', callId: 'c3', name: 'send_message', input: { message: 'In billing.ts' } }] },
  ]);
});

test('our function schemas become LanguageModelChatTool input schemas unchanged', () => {
  const tools: ToolSchema[] = [
    {
      type: 'function',
      function: {
        name: 'send_message',
        description: 'Sends a message to the user.',
        parameters: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'], additionalProperties: false },
      },
    },
  ];
  assert.deepEqual(toLmTools(tools), [
    { name: 'send_message', description: 'Sends a message to the user.', inputSchema: tools[0]!.function.parameters },
  ]);
});

test('streamed text and tool-call parts become one response, told to the listener as they come', () => {
  const heard: string[] = [];
  const reply = new LmReplyAssembler({
    onContentDelta: (t) => heard.push(`content:${t}`),
    onToolCallStart: (id, name) => heard.push(`call:${id}:${name}`),
    onSendMessageDelta: (id, t) => heard.push(`send:${id}:${t}`),
  });
  assert.equal(reply.streamed, false);
  reply.text('Looking ');
  reply.text('');
  reply.text('it up.');
  reply.toolCall('a', 'core_memory_append', { label: 'human', content: 'likes tests' });
  reply.toolCall('', 'send_message', { message: 'Done.' });
  assert.equal(reply.streamed, true);
  assert.deepEqual(heard, [
    'content:Looking ',
    'content:it up.',
    'call:a:core_memory_append',
    'call:call_2:send_message',
    'send:call_2:Done.',
  ]);
  assert.deepEqual(reply.response(), {
    content: 'Looking it up.',
    finishReason: 'tool_calls',
    toolCalls: [
      call('a', 'core_memory_append', '{"label":"human","content":"likes tests"}'),
      call('call_2', 'send_message', '{"message":"Done."}'),
    ],
  });
  const plain = new LmReplyAssembler({});
  plain.text('just words');
  assert.deepEqual(plain.response(), { content: 'just words', toolCalls: [], finishReason: 'stop' });
});

test('LanguageModelError codes become error kinds with words that say what to do', () => {
  const denied = lmFailure('NoPermissions', 'User did not consent.', 'copilot/gpt-4o');
  assert.equal(denied.error.kind, 'auth');
  assert.equal(denied.retryable, false);
  assert.match(
    denied.error.message,
    /has not allowed MemGPT to use the language model 'copilot\/gpt-4o'.*choose Allow.*Manage Language Model Access/,
  );
  const blocked = lmFailure('Blocked', 'quota', 'copilot/gpt-4o');
  assert.equal(blocked.error.kind, 'rate_limited');
  assert.equal(blocked.retryable, false, 'a used-up quota is not fixed by retrying at once');
  assert.match(blocked.error.message, /quota or rate limit is used up.*Select Model/);
  const gone = lmFailure('NotFound', '', 'copilot/gpt-4o');
  assert.equal(gone.error.kind, 'not_found');
  assert.match(gone.error.message, /no longer available in VS Code.*Select Model/);
  assert.equal(
    lmFailure('Unknown', 'prompt token count of 130000 exceeds the limit; maximum context length is 128000', 'm').error.kind,
    'context_length',
  );
  const limited = lmFailure(undefined, 'Server error: 429 Too Many Requests', 'm');
  assert.equal(limited.error.kind, 'rate_limited');
  assert.equal(limited.retryable, true);
  assert.equal(lmFailure(undefined, 'boom', 'm').error.kind, 'bad_response');
});

test('memgpt.model picks an editor model by id, vendor/id, family or name; empty picks the first', () => {
  const models = [
    { id: 'gpt-4.1', family: 'gpt-4.1', name: 'GPT-4.1', vendor: 'copilot' },
    { id: 'claude-sonnet-4', family: 'claude-sonnet-4', name: 'Claude Sonnet 4', vendor: 'copilot' },
    { id: 'scripted-1', family: 'scripted', name: 'Scripted Model', vendor: 'test' },
  ];
  assert.equal(pickModel(models, '')?.id, 'gpt-4.1');
  assert.equal(pickModel(models, 'claude-sonnet-4')?.id, 'claude-sonnet-4');
  assert.equal(pickModel(models, 'test/scripted-1')?.id, 'scripted-1');
  assert.equal(pickModel(models, 'SCRIPTED')?.id, 'scripted-1');
  assert.equal(pickModel(models, 'scripted model')?.id, 'scripted-1');
  assert.equal(pickModel(models, 'gpt-5'), undefined);
  assert.equal(pickModel([], ''), undefined);
  const none = noModelError([], '');
  assert.ok(none instanceof ChatModelError);
  assert.match(none.message, /offers no language models.*GitHub Copilot/);
  assert.match(
    noModelError(models, 'gpt-5').message,
    /No VS Code language model matches MemGPT: Model "gpt-5". Available: gpt-4.1, claude-sonnet-4, scripted-1/,
  );
});
