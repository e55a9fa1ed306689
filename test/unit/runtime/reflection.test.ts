/**
 * Reflection and automatic turns through the real loop: the real `openai` client against the
 * scripted server on 127.0.0.1, a real WorkspaceRuntime with its archival index on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { badKey, hang, sendMessage, startFakeOpenAIServer, toolCalls, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import type { RuntimeConfig } from '../../../src/core/runtime/runtimeConfig';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';
import { REFLECTION_MAX_OUTPUT_TOKENS } from '../../../src/core/limits';

interface Fixture {
  folder: string;
  stateDir: string;
  server: FakeOpenAIServer;
  config: RuntimeConfig;
  close(): Promise<void>;
}

async function fixture(reflection?: RuntimeConfig['reflection']): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-reflect-'));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  const server = await startFakeOpenAIServer({ models: ['chat-model', 'cheap-model'], rejectUnknownModels: true });
  const config = testRuntimeConfig({ model: 'chat-model', baseUrl: server.url, ...(reflection ? { reflection } : {}) });
  return {
    folder,
    stateDir: path.join(root, 'state'),
    server,
    config,
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

const open = (f: Fixture) =>
  WorkspaceRuntime.open({ storageRoot: f.stateDir, folders: [{ name: 'project', path: f.folder }], trusted: true, config: f.config });

const WORDY_HUMAN =
  'Name: Ada.\nAda is the name of the user.\nThe user prefers tabs over spaces.\nThe user likes tabs, not spaces, for indentation.';
const TIGHT_HUMAN = 'Name: Ada. Prefers tabs over spaces for indentation.';

/** A runtime whose active agent has two duplicate items, one other item and a wordy `human` block. */
async function seeded(f: Fixture): Promise<{ runtime: WorkspaceRuntime; agentId: string }> {
  const runtime = await open(f);
  const agent = await runtime.agent();
  await runtime.memory.remember('Ada prefers tabs over spaces.');
  await runtime.memory.remember('The user (Ada) likes tabs, not spaces.');
  await runtime.memory.remember('The build uses esbuild.');
  await runtime.memory.setCoreMemoryBlock('human', WORDY_HUMAN);
  return { runtime, agentId: agent.id };
}

/** The pass's answer: items 1 and 2 merged, `human` shortened. */
const MERGE_AND_TIGHTEN = toolCalls([
  { name: 'merge_memories', arguments: { items: [1, 2], content: 'Ada prefers tabs over spaces.' } },
  { name: 'tighten_block', arguments: { label: 'human', new_content: TIGHT_HUMAN } },
]);

/** src/session.ts of the citation tests: lines 2-3 hold the settings, 5-7 the check. */
const SESSION_TS = [
  '// sessions',
  'export const TTL_MS = 3_600_000;',
  'export const RENEW = false;',
  '',
  'export function expired(t: number) {',
  '  return Date.now() - t > TTL_MS;',
  '}',
];

/** Writes src/session.ts from SESSION_TS into the fixture's folder; `setTtl` rewrites its TTL line. */
async function writeSessionFile(f: Fixture): Promise<{ file: string; setTtl(ttl: string): Promise<void> }> {
  const file = path.join(f.folder, 'src', 'session.ts');
  await mkdir(path.dirname(file), { recursive: true });
  const lines = [...SESSION_TS];
  await writeFile(file, `${lines.join('\n')}\n`);
  return {
    file,
    async setTtl(ttl) {
      lines[1] = `export const TTL_MS = ${ttl};`;
      await writeFile(file, `${lines.join('\n')}\n`);
    },
  };
}

async function humanBlock(runtime: WorkspaceRuntime): Promise<string> {
  return (await runtime.memory.coreMemory()).find((b) => b.label === 'human')!.value;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a pass merges two duplicate items and shortens a block through the memory functions; undo restores them exactly, also after a reopen', async () => {
  const f = await fixture({ enabled: false, model: 'cheap-model', afterTurns: 20, idleMinutes: 0 });
  try {
    const { runtime, agentId } = await seeded(f);
    const itemsBefore = runtime.index.storedMemories(agentId);
    assert.equal(itemsBefore.length, 3);
    f.server.enqueue(MERGE_AND_TIGHTEN);

    const outcome = await runtime.reflection.reflect();
    assert.equal(outcome.status, 'changed', JSON.stringify(outcome));
    assert.ok(outcome.status === 'changed');
    const request = f.server.chatRequests().at(-1)!;
    assert.equal(request.body.model, 'cheap-model', 'the pass uses its own model');
    assert.equal((request.body as { max_tokens?: number }).max_tokens, REFLECTION_MAX_OUTPUT_TOKENS, 'the answer is bounded');
    const prompt = JSON.stringify(request.body.messages);
    assert.match(prompt, /1\. Ada prefers tabs over spaces\./);
    assert.match(prompt, /The user likes tabs, not spaces, for indentation/);

    const record = outcome.record;
    assert.deepEqual(record.blocks, [{ label: 'human', scope: 'user', before: WORDY_HUMAN, after: TIGHT_HUMAN }]);
    assert.equal(record.merges.length, 1);
    assert.deepEqual(
      record.merges[0]!.removed.map((m) => m.id),
      itemsBefore.slice(0, 2).map((m) => m.id),
    );
    assert.equal(await humanBlock(runtime), TIGHT_HUMAN);
    const told = (await runtime.chat.recallPage(undefined, 5)).map((r) => JSON.stringify(r.message)).join('\n');
    assert.match(told, /Memory tidied by reflection: merged 2 items into 1; shortened human/, 'the agent is told at its next step');
    const itemsAfter = runtime.index.storedMemories(agentId);
    assert.deepEqual(
      itemsAfter.map((m) => m.text).sort(),
      ['Ada prefers tabs over spaces.', 'The build uses esbuild.'],
      'two duplicates became one item',
    );
    const hits = (await runtime.memory.searchArchival('tabs spaces', { limit: 10, source: 'memory' })).map((h) => h.id);
    assert.ok(hits.includes(record.merges[0]!.added.id), 'the merged item is found');
    for (const removed of record.merges[0]!.removed) assert.ok(!hits.includes(removed.id), 'a merged-away item is no longer found');
    assert.deepEqual(
      (await runtime.reflection.records(agentId)).map((r) => r.id),
      [record.id],
      'the record is kept',
    );

    const undone = await runtime.reflection.undo(record.id);
    assert.ok(undone.undoneAt);
    assert.equal(await humanBlock(runtime), WORDY_HUMAN, 'the block is back, byte for byte');
    const restored = runtime.index.storedMemories(agentId);
    assert.deepEqual(restored, itemsBefore, 'the items are back with their ids, text, time and owner');
    await assert.rejects(runtime.reflection.undo(record.id), /already undone/);
    await runtime.close();

    // The memory log replays forgotten and restored items in order.
    const reopened = await open(f);
    assert.deepEqual(reopened.index.storedMemories(agentId), itemsBefore);
    const found = (await reopened.memory.searchArchival('tabs spaces', { limit: 10, source: 'memory' })).map((h) => h.id);
    for (const item of itemsBefore.slice(0, 2)) assert.ok(found.includes(item.id), 'an original item is found again');
    assert.ok(!found.includes(record.merges[0]!.added.id), 'the merged item is gone');
    assert.equal((await reopened.reflection.records(agentId))[0]!.undoneAt, undone.undoneAt);
    await reopened.close();
  } finally {
    await f.close();
  }
});

test('undo after a later edit of the same block refuses with a clear message and changes nothing', async () => {
  const f = await fixture();
  try {
    const { runtime, agentId } = await seeded(f);
    f.server.enqueue(MERGE_AND_TIGHTEN);
    const outcome = await runtime.reflection.reflect();
    assert.ok(outcome.status === 'changed');
    const edited = `${TIGHT_HUMAN}\nUses vim.`;
    await runtime.memory.setCoreMemoryBlock('human', edited);
    const items = runtime.index.storedMemories(agentId);

    await assert.rejects(runtime.reflection.undo(outcome.record.id), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'reflection_conflict');
      assert.match(error.message, /Nothing was undone: block "human" was edited after the reflection/);
      return true;
    });
    assert.equal(await humanBlock(runtime), edited, "the user's later edit stands");
    assert.deepEqual(runtime.index.storedMemories(agentId), items, 'the items were not touched either');
    assert.equal((await runtime.reflection.records(agentId))[0]!.undoneAt, undefined);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a user message arriving mid-pass pre-empts it: the pass stops, memory is unchanged, and the user is answered promptly', async (t) => {
  const f = await fixture();
  try {
    const { runtime, agentId } = await seeded(f);
    const items = runtime.index.storedMemories(agentId);
    f.server.enqueue(hang(), sendMessage('Hello Ada.'));
    const pass = runtime.reflection.reflect();
    await until('the pass to ask the model', () => f.server.chatRequests().length === 1);

    const started = Date.now();
    const turn = await runtime.chat.handle({ type: 'user_message', text: 'Are you there?' });
    const elapsed = Date.now() - started;
    assert.equal(turn.reason, 'done', turn.error);
    assert.deepEqual(turn.messages, ['Hello Ada.']);
    t.diagnostic(`the user's message was answered ${elapsed} ms after it was sent`);
    // Far below the request deadline (30 s) the user would have waited behind the hung request before.
    assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
    assert.deepEqual(await pass, { status: 'preempted' });
    assert.equal(await humanBlock(runtime), WORDY_HUMAN);
    assert.deepEqual(runtime.index.storedMemories(agentId), items);
    assert.deepEqual(await runtime.reflection.records(), []);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a model failure leaves memory unchanged and keeps no record', async () => {
  const f = await fixture();
  try {
    const { runtime, agentId } = await seeded(f);
    const items = runtime.index.storedMemories(agentId);
    f.server.enqueue(badKey());
    const outcome = await runtime.reflection.reflect();
    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.status === 'failed' && /key|401|auth/i.test(outcome.error), JSON.stringify(outcome));
    assert.equal(await humanBlock(runtime), WORDY_HUMAN);
    assert.deepEqual(runtime.index.storedMemories(agentId), items);
    assert.deepEqual(await runtime.reflection.records(), []);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('changes that fail validation are refused and reported, never applied', async () => {
  const f = await fixture();
  try {
    const { runtime, agentId } = await seeded(f);
    const items = runtime.index.storedMemories(agentId);
    f.server.enqueue(
      toolCalls([
        { name: 'merge_memories', arguments: { items: [1], content: 'one item is no merge' } },
        { name: 'merge_memories', arguments: { items: [1, 9], content: 'item 9 does not exist' } },
        { name: 'tighten_block', arguments: { label: 'human', new_content: `${WORDY_HUMAN} and longer` } },
        { name: 'tighten_block', arguments: { label: 'nope', new_content: 'x' } },
        { name: 'core_memory_append', arguments: { label: 'human', content: 'not offered' } },
      ]),
    );
    const outcome = await runtime.reflection.reflect();
    assert.equal(outcome.status, 'unchanged');
    assert.ok(outcome.status === 'unchanged');
    assert.equal(outcome.refused.length, 5, outcome.refused.join('\n'));
    assert.equal(await humanBlock(runtime), WORDY_HUMAN);
    assert.deepEqual(runtime.index.storedMemories(agentId), items);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('with reflection on, a pass runs by itself after N user turns, with the chat model when none is named', async () => {
  const f = await fixture({ enabled: true, model: '', afterTurns: 2, idleMinutes: 0 });
  try {
    const { runtime, agentId } = await seeded(f);
    f.server.enqueue(sendMessage('One.'), sendMessage('Two.'), MERGE_AND_TIGHTEN);
    await runtime.chat.handle({ type: 'user_message', text: 'first' });
    assert.equal(f.server.chatRequests().length, 1, 'no pass after one turn');
    await runtime.chat.handle({ type: 'user_message', text: 'second' });
    await until('the automatic pass to change memory', async () => (await runtime.reflection.records(agentId)).length === 1);
    const request = f.server.chatRequests()[2]!;
    assert.equal(request.body.model, 'chat-model');
    assert.deepEqual(
      (request.body.tools as { function: { name: string } }[]).map((t) => t.function.name),
      ['merge_memories', 'tighten_block'],
    );
    assert.equal((await runtime.reflection.records(agentId))[0]!.trigger, 'turns');
    assert.equal(await humanBlock(runtime), TIGHT_HUMAN);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('with reflection on, a pass runs when the agent stays idle after a turn', async () => {
  // 0.005 min = 300 ms: the settings allow whole minutes; the runtime takes any positive value.
  const f = await fixture({ enabled: true, model: '', afterTurns: 50, idleMinutes: 0.005 });
  try {
    const { runtime, agentId } = await seeded(f);
    f.server.enqueue(sendMessage('One.'), MERGE_AND_TIGHTEN);
    await runtime.chat.handle({ type: 'user_message', text: 'first' });
    await until('the idle pass', async () => (await runtime.reflection.records(agentId)).length === 1);
    assert.equal((await runtime.reflection.records(agentId))[0]!.trigger, 'idle');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a merge keeps the code citations of the merged items, so the merged item still turns stale when that code changes', async () => {
  const f = await fixture({ enabled: false, model: 'cheap-model', afterTurns: 20, idleMinutes: 0 });
  try {
    const { file, setTtl } = await writeSessionFile(f);
    const runtime = await open(f);
    const agentId = (await runtime.agent()).id;
    // A remembered selection keeps its citation beside the text; the other cites in its text.
    await runtime.memory.remember('Sessions expire after an hour and are not renewed.', {
      path: 'src/session.ts',
      startLine: 2,
      endLine: 3,
    });
    await runtime.memory.remember('Expiry is checked in src/session.ts:5-7 against the hour.');
    f.server.enqueue(
      toolCalls([
        { name: 'merge_memories', arguments: { items: [1, 2], content: 'Sessions expire after an hour, unrenewed; expired() checks it.' } },
      ]),
    );
    const outcome = await runtime.reflection.reflect();
    assert.ok(outcome.status === 'changed', JSON.stringify(outcome));
    const merged = outcome.record.merges[0]!.added;
    assert.equal(
      merged.text,
      'Sessions expire after an hour, unrenewed; expired() checks it.\n(Cites src/session.ts:2-3, src/session.ts:5-7.)',
    );
    assert.deepEqual(
      runtime.index.storedMemories(agentId).map((m) => m.id),
      [merged.id],
    );
    const noteOf = async () =>
      (await runtime.memory.searchArchival('sessions expire hour', { limit: 10, source: 'memory' })).find((h) => h.id === merged.id)?.note;
    assert.equal(await noteOf(), undefined, 'fresh while the code is as it was');
    await setTtl('7_200_000');
    await runtime.files.fileChanged(file);
    await until('the merged item to be marked stale', async () => /src\/session\.ts:2-3/.test((await noteOf()) ?? ''));
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a merge keeps a stale item stale (its old fingerprint, not the code as it reads now); two fresh items merge fresh; undo brings the stale item back as it was', async () => {
  const f = await fixture({ enabled: false, model: 'cheap-model', afterTurns: 20, idleMinutes: 0 });
  try {
    const { file: session, setTtl } = await writeSessionFile(f);
    await writeFile(path.join(f.folder, 'src', 'config.ts'), 'export const PORT = 8080;\nexport const HOST = "0.0.0.0";\n');
    const runtime = await open(f);
    const writeSession = async (ttl: string): Promise<void> => {
      await setTtl(ttl);
      await runtime.files.fileChanged(session);
    };
    const agentId = (await runtime.agent()).id;
    const stale = await runtime.memory.remember('Sessions last one hour, set in src/session.ts:2-3.');
    const fresh = await runtime.memory.remember('Session expiry is checked in src/session.ts:5-7.');
    await runtime.memory.remember('The config port is set in src/config.ts:1.');
    await runtime.memory.remember('The config host is set in src/config.ts:2.');
    // Not merged: an item citing the same changed line must not count as refreshed by the merge.
    const bystander = await runtime.memory.remember('The session TTL constant is at src/session.ts:2.');

    const noteOf = async (id: string, query: string): Promise<string | undefined> => {
      const hit = (await runtime.memory.searchArchival(query, { limit: 20, source: 'memory' })).find((h) => h.id === id);
      assert.ok(hit, `item ${id} is found by "${query}"`);
      return hit.note;
    };
    await writeSession('7_200_000');
    await until('the first item to turn stale', async () =>
      /stale: lines 2-3 of src\/session\.ts/.test((await noteOf(stale, 'sessions hour')) ?? ''),
    );
    assert.equal(await noteOf(fresh, 'session expiry checked'), undefined);

    f.server.enqueue(
      toolCalls([
        { name: 'merge_memories', arguments: { items: [1, 2], content: 'Sessions last one hour; expired() checks it.' } },
        { name: 'merge_memories', arguments: { items: [3, 4], content: 'The config port and host are set in config.ts.' } },
      ]),
    );
    const outcome = await runtime.reflection.reflect();
    assert.ok(outcome.status === 'changed', JSON.stringify(outcome));
    const [sessions, config] = outcome.record.merges.map((m) => m.added);
    assert.ok(sessions && config);
    assert.deepEqual(
      runtime.index
        .storedMemories(agentId)
        .map((m) => m.id)
        .sort(),
      [bystander, sessions.id, config.id].sort(),
    );

    const sessionsNote = await noteOf(sessions.id, 'sessions hour expired');
    assert.match(sessionsNote ?? '', /stale: lines 2-3 of src\/session\.ts changed/, 'stale + fresh merge into a stale item');
    assert.doesNotMatch(sessionsNote ?? '', /5-7/, 'the fresh item brought its citation in fresh');
    assert.equal(await noteOf(config.id, 'config port host'), undefined, 'fresh + fresh merge into a fresh item');
    assert.match((await noteOf(bystander, 'session TTL constant')) ?? '', /stale: lines 2-2 of src\/session\.ts/);

    // The merged item holds the fingerprint from before the change: the old line back makes it fresh.
    await writeSession('3_600_000');
    await until('the merged item to turn fresh', async () => (await noteOf(sessions.id, 'sessions hour expired')) === undefined);
    await writeSession('1_800_000');
    await until('the merged item to turn stale again', async () =>
      /lines 2-3/.test((await noteOf(sessions.id, 'sessions hour expired')) ?? ''),
    );

    await runtime.reflection.undo(outcome.record.id);
    assert.match(
      (await noteOf(stale, 'sessions hour')) ?? '',
      /stale: lines 2-3 of src\/session\.ts changed/,
      'undone: stale and shown again',
    );
    assert.equal(await noteOf(fresh, 'session expiry checked'), undefined);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a merge whose own text cites the changed code afresh does not hide a merged stale item once the merge is undone', async () => {
  const f = await fixture({ enabled: false, model: 'cheap-model', afterTurns: 20, idleMinutes: 0 });
  try {
    const { file: session, setTtl } = await writeSessionFile(f);
    const runtime = await open(f);
    const stale = await runtime.memory.remember('Sessions last one hour, set in src/session.ts:2-3.');
    await runtime.memory.remember('Sessions are never renewed.');
    await setTtl('7_200_000');
    await runtime.files.fileChanged(session);
    const noteOf = async (): Promise<string | undefined> =>
      (await runtime.memory.searchArchival('sessions hour', { limit: 20, source: 'memory' })).find((h) => h.id === stale)?.note;
    await until('the item to turn stale', async () => /lines 2-3/.test((await noteOf()) ?? ''));

    // The merged text cites lines 1-3 as they read now: it refreshes them, so it is fresh there.
    f.server.enqueue(
      toolCalls([
        { name: 'merge_memories', arguments: { items: [1, 2], content: 'Sessions last two hours, unrenewed (src/session.ts:1-3).' } },
      ]),
    );
    const outcome = await runtime.reflection.reflect();
    assert.ok(outcome.status === 'changed', JSON.stringify(outcome));
    await runtime.reflection.undo(outcome.record.id);
    assert.match((await noteOf()) ?? 'not found', /stale: lines 2-3 of src\/session\.ts changed/, 'the undone item shows again, stale');
    await runtime.close();
  } finally {
    await f.close();
  }
});
