import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { makeHarness } from './agentHarness';
import { AgentDirectory } from '../../../src/core/agent/agentDirectory';

test('agent directory: create with presets, switch, reset keeps recall, export/import round trip', async () => {
  const h = await makeHarness();
  try {
    const { model, counter, archival, workspace } = h.deps;
    const dir = new AgentDirectory({
      states: h.states,
      recall: h.recall,
      deps: { model, counter, archival, workspace },
      settings: { contextWindow: 8192, replyNudge: false },
    });
    const first = await dir.active();
    assert.equal(first.id, h.agentId, 'the existing agent is the active one');
    h.server.enqueue(toolCall('core_memory_append', { label: 'human', content: 'Name: Lin' }));
    await first.handle({ type: 'user_message', text: 'I am Lin' });

    const terse = await dir.create({ name: 'Terse', personaPreset: 'terse' });
    const active = await dir.active();
    assert.equal(active.id, terse.id);
    assert.match(active.coreMemory.get('persona'), /terse/);
    assert.equal((await dir.list()).agents.length, 2);

    const back = await dir.switchTo(h.agentId);
    assert.match(back.coreMemory.get('human'), /Name: Lin/);

    const exported = await dir.exportAgent(h.agentId);
    assert.equal(exported.recall.length, h.recall.count(h.agentId));
    const recallBefore = h.recall.count(h.agentId);
    const reset = await dir.reset(h.agentId);
    assert.deepEqual(reset.inContextIds, []);
    assert.doesNotMatch(reset.coreMemory.blocks.find((b) => b.label === 'human')!.value, /Lin/);
    assert.equal(h.recall.count(h.agentId), recallBefore, 'recall keeps the old messages');
    const again = await dir.active();
    h.server.enqueue(toolCall('conversation_search', { query: 'Lin', request_heartbeat: true }), sendMessage('found you'));
    const r = await again.handle({ type: 'user_message', text: 'who am I?' });
    assert.deepEqual(r.messages, ['found you']);

    const imported = await dir.importAgent(exported);
    assert.notEqual(imported.id, h.agentId);
    assert.match(imported.name, /imported/);
    assert.match(imported.coreMemory.blocks.find((b) => b.label === 'human')!.value, /Name: Lin/);
    await assert.rejects(dir.importAgent({ format: 'something-else' }), /not a MemGPT agent export/);
  } finally {
    await h.close();
  }
});
