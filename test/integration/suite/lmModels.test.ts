/**
 * VS Code's own language models as MemGPT's model (memgpt.provider "vscode-lm"), in the real
 * extension host: a chat-model provider registered by the companion test extension
 * (vscode.lm.registerLanguageModelChatProvider) answers through VS Code's Language Model API, and
 * a full turn with function calls runs through our agent: our functions go out as tools, the
 * calls come back as tool-call parts, the results go back as tool-result parts, the model's own
 * countTokens is asked, and a request over its window is summarised instead of failing.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EchoTestApi } from '../support/echoExtension';
import type { ScriptedModels } from '../support/scriptedModels';
import { SCRIPTED_MODEL_ID, SCRIPTED_VENDOR } from '../support/echoCommand';
import { activatedExtension, waitFor } from '../support/extensionApi';
import { LmChatModel, VsCodeModelSource } from '../../../src/vscode/lmChatModel';
import { editorModelOffer } from '../../../src/vscode/editorModelSetup';
import { CalibratedTokenCounter } from '../../../src/core/tokens/calibratedTokenCounter';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import { ChatModelError } from '../../../src/core/interfaces/chatModel';

const ECHO_ID = 'memgpt-vscode.memgpt-test-echo';

describe('lmModels: VS Code’s language models as the agent’s model', function () {
  this.timeout(120_000);
  let models: ScriptedModels;

  before(async () => {
    await activatedExtension();
    const echo = vscode.extensions.getExtension<EchoTestApi>(ECHO_ID);
    if (!echo) throw new Error(`${ECHO_ID} is not installed next to MemGPT.`);
    models = (await echo.activate()).registerScriptedModels(32_000);
    await waitFor(
      'the scripted model in vscode.lm.selectChatModels',
      async () => (await vscode.lm.selectChatModels({ vendor: SCRIPTED_VENDOR })).length > 0,
    );
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('provider', 'vscode-lm', vscode.ConfigurationTarget.Global);
    await config.update('model', 'scripted', vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('provider', undefined, vscode.ConfigurationTarget.Global);
    await config.update('model', undefined, vscode.ConfigurationTarget.Global);
    models?.dispose();
  });

  it('runs a full turn with function calls through the editor’s model', async () => {
    const api = (await activatedExtension()).exports;
    const { id } = await api.createAgent({ name: 'Editor model' });
    models.enqueue(
      [
        { text: 'The user told me something worth keeping.' },
        {
          toolCall: {
            name: 'core_memory_append',
            input: { label: 'human', content: 'Works on the invoicing service.', request_heartbeat: true },
            callId: 'lm-call-1',
          },
        },
      ],
      [{ toolCall: { name: 'send_message', input: { message: 'Noted: you work on invoicing.' } } }],
    );
    const before = models.requests.length;
    const countsBefore = models.tokenCounts;
    const response = await api.userMessage(id, 'I work on the invoicing service.');
    assert.equal(response.finishReason, 'done', response.error);
    assert.deepEqual(response.reply, ['Noted: you work on invoicing.']);
    assert.equal(response.functionCalls.find((f) => f.name === 'core_memory_append')?.status, 'OK');
    assert.match((await api.getMemory(id)).core.human ?? '', /Works on the invoicing service\./);

    const [first, second] = models.requests.slice(before);
    assert.ok(first && second, 'one request, then the heartbeat');
    assert.equal(models.requests.length - before, 2);
    // Our functions went out as LanguageModelChatTools with their JSON schemas.
    const tools = new Map(first.tools.map((t) => [t.name, t.required]));
    assert.deepEqual(tools.get('send_message'), ['message']);
    assert.ok(tools.get('core_memory_append')?.includes('label'));
    assert.ok(tools.has('archival_memory_search'));
    // The system text and the user's message arrive as user text; the question is the newest.
    assert.equal(first.messages[0]?.role, 'user');
    assert.match(JSON.stringify(first.messages.at(-1)), /invoicing service/);
    // The heartbeat request carries the call and its result as tool parts, paired by id.
    const call = second.messages.flatMap((m) => m.parts).find((p) => p.kind === 'toolCall' && p.callId === 'lm-call-1');
    assert.ok(call, 'the tool call part is in the next request');
    const result = second.messages.flatMap((m) => m.parts).find((p) => p.kind === 'toolResult' && p.callId === 'lm-call-1');
    assert.ok(
      result && result.kind === 'toolResult' && /"status":\s*"OK"/.test(result.text),
      `the result answers the call: ${JSON.stringify(result)}`,
    );
    assert.ok(models.tokenCounts > countsBefore, 'the model’s own countTokens was asked');
  });

  it('counts with the model’s countTokens: calibrates the estimate, and refuses an over-long request as context_length before sending', async () => {
    const [lm] = await vscode.lm.selectChatModels({ vendor: SCRIPTED_VENDOR, id: SCRIPTED_MODEL_ID });
    assert.ok(lm);
    const counter = new CalibratedTokenCounter(await createTokenCounter(lm.family));
    const model = new LmChatModel(lm, { counter, maxRetries: 0 });
    models.enqueue([{ toolCall: { name: 'send_message', input: { message: 'ok' } } }]);
    // "word " is one token to gpt-tokenizer; the scripted model counts a token per 3 characters.
    const reply = await model.complete({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'word '.repeat(600) },
      ],
      tools: [],
    });
    assert.equal(reply.toolCalls[0]?.function.name, 'send_message');
    assert.equal(counter.samples, 1);
    assert.ok(counter.ratio > 1.4 && counter.ratio < 2, `ratio ${counter.ratio}`);

    const before = models.requests.length;
    await assert.rejects(
      model.complete({ messages: [{ role: 'user', content: 'x'.repeat(32_000 * 3 + 300) }], tools: [] }),
      (err: unknown) => err instanceof ChatModelError && err.kind === 'context_length' && /takes 32000/.test(err.message),
    );
    assert.equal(models.requests.length, before, 'nothing was sent');
  });

  it('lists the editor’s models for Select Model and names a missing one clearly', async () => {
    const source = new VsCodeModelSource(() => 30_000);
    assert.ok((await source.list()).includes(SCRIPTED_MODEL_ID));
    assert.equal((await source.open('memgpt-test/scripted-1')).contextWindow, 32_000, 'the window is the model’s maxInputTokens');
    await assert.rejects(
      source.open('no-such-model'),
      (err: unknown) =>
        err instanceof ChatModelError &&
        err.kind === 'not_found' &&
        /No VS Code language model matches MemGPT: Model "no-such-model"\. Available: .*scripted-1/.test(err.message),
    );
  });

  it('the setup card’s offer: names the editor’s model, and choosing it sends one request (where VS Code asks consent) before switching', async () => {
    assert.equal(await editorModelOffer(), 'Scripted Model (memgpt-test)');
    const api = (await activatedExtension()).exports;
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('provider', undefined, vscode.ConfigurationTarget.Global);
    await config.update('model', undefined, vscode.ConfigurationTarget.Global);
    const before = models.requests.length;
    const result = await api.chatBackend!.useEditorModel();
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /Using Scripted Model from VS Code \(memgpt-test\): no key needed/);
    assert.equal(models.requests.length, before + 1, 'one real request checked the model');
    assert.equal(vscode.workspace.getConfiguration('memgpt').get('provider'), 'vscode-lm');
    assert.equal(vscode.workspace.getConfiguration('memgpt').get('model'), SCRIPTED_MODEL_ID);
  });
});
