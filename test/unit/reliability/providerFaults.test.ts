import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { makeRig, conversationProblems, userTexts } from '../../fixtures/reliability/agentRig';
import {
  duplicatedContextMessages,
  FaultDirector,
  FAULT_MAX_RETRIES,
  FAULT_REQUEST_TIMEOUT_MS,
  PROVIDER_FAULTS,
  runFaultTurn,
} from '../../fixtures/reliability/providerFaults';

/*
 * Every provider fault through the real Agent, the real `openai` client and
 * the scripted server, with storage opened as the extension opens it.
 */

async function faultRig() {
  const director = new FaultDirector();
  const rig = await makeRig({
    server: { responder: director.responder },
    maxRetries: FAULT_MAX_RETRIES,
    requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
  });
  return { rig, director };
}

for (const fault of PROVIDER_FAULTS) {
  test(`provider fault: ${fault.name} → ${fault.expect === 'recovered' ? 'retried and recovered' : 'clear error'}; conversation intact`, async () => {
    const { rig, director } = await faultRig();
    try {
      // A normal turn first, so the fault hits a conversation that has history.
      director.play([sendMessage('hello')]);
      assert.equal((await rig.agent.handle({ type: 'user_message', text: 'hi' })).reason, 'done');
      const problems = await runFaultTurn(rig, director, fault, 1);
      assert.deepEqual(problems, []);
      // The next turn works and its request holds every earlier message exactly once.
      director.play([sendMessage('still here')]);
      const after = await rig.agent.handle({ type: 'user_message', text: 'are you there?' });
      assert.equal(after.reason, 'done', after.error);
      assert.deepEqual(after.messages, ['still here']);
      const last = rig.server.chatRequests().at(-1)!;
      assert.deepEqual(duplicatedContextMessages(last), []);
      assert.deepEqual(userTexts(rig.records()), ['hi', `turn 1: please survive "${fault.name}"`, 'are you there?']);
    } finally {
      await rig.close();
    }
  });
}

test('all faults in one conversation, then a restart: every user message once, in order; state loads', async () => {
  const { rig, director } = await faultRig();
  try {
    const problems: string[] = [];
    let turn = 0;
    for (const fault of PROVIDER_FAULTS) problems.push(...(await runFaultTurn(rig, director, fault, ++turn)));
    assert.deepEqual(problems, []);
    const before = rig.records();
    await rig.restart();
    const after = rig.records();
    assert.equal(after.length, before.length, 'nothing lost or added by the restart');
    assert.deepEqual(conversationProblems(after), []);
    assert.deepEqual(
      userTexts(after),
      PROVIDER_FAULTS.map((f, i) => `turn ${i + 1}: please survive "${f.name}"`),
    );
    director.play([sendMessage('back after restart')]);
    const r = await rig.agent.handle({ type: 'user_message', text: 'after restart' });
    assert.deepEqual(r.messages, ['back after restart']);
    assert.deepEqual(duplicatedContextMessages(rig.server.chatRequests().at(-1)!), []);
  } finally {
    await rig.close();
  }
});
