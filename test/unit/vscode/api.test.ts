import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PERSONA_PRESETS } from '../../../src/core/memory/presets';
import { createClientApi } from '../../../src/vscode/api';
import { InMemoryRuntime } from './inMemoryRuntime';

describe('MemGptClientApi over the runtime port', () => {
  it('createAgent: preset names become presets, other text becomes the block itself; the new agent is active', async () => {
    const runtime = new InMemoryRuntime();
    const api = createClientApi(runtime);
    const a = await api.createAgent({ name: 'Terse', persona: 'terse' });
    const b = await api.createAgent({ persona: 'I am a pirate who reviews code.', human: 'learner' });
    assert.deepEqual(
      runtime.calls.filter((c) => c.startsWith('create:')),
      ['create:Terse:terse:-', 'create:MemGPT 3:-:text'],
    );
    const memA = await api.getMemory(a.id);
    assert.equal(memA.core.persona, PERSONA_PRESETS.terse!.text);
    const memB = await api.getMemory(b.id);
    assert.equal(memB.core.persona, 'I am a pirate who reviews code.');
    assert.match(memB.core.human ?? '', /new to this codebase/);
    assert.deepEqual(
      (await api.listAgents()).filter((x) => x.active).map((x) => x.id),
      [b.id],
    );
  });

  it('userMessage switches to the agent, then collects the reply and function calls of the turn', async () => {
    const runtime = new InMemoryRuntime();
    const api = createClientApi(runtime);
    const first = (await api.listAgents())[0]!.id;
    const other = await api.createAgent({ name: 'Other' });
    runtime.script = (input, emit) => {
      assert.equal(input.type, 'user_message');
      emit({ type: 'step_started', stepId: 's', step: 1 });
      emit({
        type: 'function_call_finished',
        stepId: 's',
        callId: 'c1',
        name: 'core_memory_append',
        arguments: '{"label":"human","content":"likes tea"}',
        status: 'OK',
        result: '{"status":"OK"}',
      });
      emit({ type: 'message_complete', stepId: 's', callId: 'c2', text: 'Noted: tea.' });
      emit({ type: 'turn_finished', reason: 'done' });
      return { reason: 'done', messages: ['Noted: tea.'] };
    };
    const seen: string[] = [];
    const sub = api.onEvent((e) => seen.push(e.type));
    const r = await api.userMessage(first, 'I like tea');
    sub.dispose();
    assert.ok(runtime.calls.includes(`switch:${first}`), 'switched away from the newer agent');
    assert.deepEqual(r.reply, ['Noted: tea.']);
    assert.deepEqual(
      r.functionCalls.map((f) => [f.name, f.status]),
      [['core_memory_append', 'OK']],
    );
    assert.equal(r.events.length, 4);
    assert.equal(r.finishReason, 'done');
    assert.deepEqual(seen, ['step_started', 'function_call_finished', 'message_complete', 'turn_finished']);
    assert.ok(other.id);
  });

  it('redacts turn errors and refuses unknown agents and empty text with clear errors', async () => {
    const runtime = new InMemoryRuntime();
    const api = createClientApi(runtime, async (t) => t.replace('sk-secretsecretsecret1234', '[redacted]'));
    const id = (await api.listAgents())[0]!.id;
    runtime.script = () => ({ reason: 'error', messages: [], error: 'auth failed for sk-secretsecretsecret1234' });
    const r = await api.userMessage(id, 'hi');
    assert.equal(r.error, 'auth failed for [redacted]');
    await assert.rejects(api.userMessage('nope', 'hi'), /No agent with id "nope".*listAgents/);
    await assert.rejects(api.userMessage(id, '   '), /non-empty text/);
    await assert.rejects(api.getMemory('nope'), /No agent with id/);
  });

  it('getMemory gives core blocks with limits and the memory counts', async () => {
    const runtime = new InMemoryRuntime();
    const api = createClientApi(runtime);
    const id = (await api.listAgents())[0]!.id;
    const m = await api.getMemory(id);
    assert.deepEqual(Object.keys(m.core).sort(), ['human', 'persona', 'project']);
    assert.equal(m.limits.persona, 2000);
    assert.equal(m.recallCount, 3);
    assert.equal(m.archivalCount, 7);
  });
});
