import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AgentNotFoundError, AgentStateStore } from '../../../src/core/agent/agentStateStore';
import { AGENT_STATE_SCHEMA_VERSION, AgentStateTooNewError, validateAgentState, type AgentState } from '../../../src/core/agent/agentState';
import { CorruptFileError } from '../../../src/core/storage/atomicFile';
import { CoreMemory } from '../../../src/core/memory/coreMemory';
import { FileRecallStore } from '../../../src/core/memory/recallStore';
import { PERSONA_PRESETS } from '../../../src/core/memory/presets';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'agents-'));
const stores: FileRecallStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
});
async function recallAt(dir: string): Promise<FileRecallStore> {
  const s = await FileRecallStore.open(dir);
  stores.push(s);
  return s;
}

test('create, list, load, save: a full round trip through disk, restart included', async () => {
  const dir = tmp();
  const store = await AgentStateStore.open(dir);
  const a = await store.create({ name: 'Helper', personaPreset: 'terse', settingsUsed: { model: 'gpt-4o-mini', contextWindow: 128000 } });
  assert.equal(a.schemaVersion, AGENT_STATE_SCHEMA_VERSION);
  assert.equal(CoreMemory.fromJSON(a.coreMemory).get('persona'), PERSONA_PRESETS.terse!.text);
  assert.equal(await store.activeAgentId(), a.id, 'the first agent becomes active');

  const mem = CoreMemory.fromJSON(a.coreMemory);
  mem.append('project', 'Build with `npm run build`.');
  const changed: AgentState = {
    ...a,
    coreMemory: mem.toJSON(),
    inContextIds: ['r1', 'r2'],
    summary: { text: 'We met.', recallIdsCovered: 4, updatedAt: new Date().toISOString() },
    pressureWarned: true,
    lastLogin: '2024-05-01T10:00:00.000Z',
    counters: { steps: 3, messages: 7, flushes: 1 },
  };
  await store.save(changed);
  const reopened = await AgentStateStore.open(dir);
  assert.deepEqual(await reopened.load(a.id), changed);
  assert.equal(await reopened.activeAgentId(), a.id);

  const b = await reopened.create({ name: 'Second' });
  const list = await reopened.list();
  assert.deepEqual(list.agents.map((x) => x.name).sort(), ['Helper', 'Second']);
  assert.deepEqual(list.unavailable, []);
  assert.equal(await reopened.activeAgentId(), a.id, 'creating another agent does not switch');
  await reopened.setActive(b.id);
  assert.equal(await (await AgentStateStore.open(dir)).activeAgentId(), b.id, 'the active agent is persisted');
});

test('fields added later by other modules survive load and save', async () => {
  const store = await AgentStateStore.open(tmp());
  const a = await store.create({ name: 'A' });
  await store.save({ ...a, pausedUntil: '2024-01-01T00:00:00Z' } as AgentState);
  assert.equal(((await store.load(a.id)) as AgentState & { pausedUntil?: string }).pausedUntil, '2024-01-01T00:00:00Z');
});

test('invalid states are refused on save with the bad field named', async () => {
  const store = await AgentStateStore.open(tmp());
  const a = await store.create({ name: 'A' });
  await assert.rejects(store.save({ ...a, inContextIds: [1] as unknown as string[] }), /"inContextIds" must be an array of strings/);
  await assert.rejects(
    store.save({ ...a, counters: { steps: -1, messages: 0, flushes: 0 } }),
    /"counters.steps" must be a non-negative integer/,
  );
  await assert.rejects(store.save({ ...a, id: '../escape' }), /Invalid agent id/);
  assert.deepEqual(await store.load(a.id), a, 'nothing was overwritten');
});

test('a corrupt state file is moved aside and reported; the other agents still list', async () => {
  const dir = tmp();
  const store = await AgentStateStore.open(dir);
  const good = await store.create({ name: 'Good' });
  const bad = await store.create({ name: 'Bad' });
  writeFileSync(path.join(dir, `${bad.id}.json`), '{"schemaVersion": 1, "id": ');
  await assert.rejects(store.load(bad.id), CorruptFileError);
  assert.ok(
    readdirSync(dir).some((n) => n.startsWith(`${bad.id}.json.corrupt-`)),
    'the bytes are kept',
  );
  const list = await store.list();
  assert.deepEqual(
    list.agents.map((x) => x.id),
    [good.id],
  );
  await assert.rejects(store.load(bad.id), AgentNotFoundError);
});

test('a state from a NEWER schema is refused and left untouched', async () => {
  const dir = tmp();
  const store = await AgentStateStore.open(dir);
  const a = await store.create({ name: 'Future' });
  const file = path.join(dir, `${a.id}.json`);
  const future = { ...a, schemaVersion: AGENT_STATE_SCHEMA_VERSION + 1, hologram: true };
  writeFileSync(file, JSON.stringify(future));
  await assert.rejects(
    store.load(a.id),
    (e: unknown) => e instanceof AgentStateTooNewError && /newer version of MemGPT/.test(e.message) && /left unchanged/.test(e.message),
  );
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), future);
  const list = await store.list();
  assert.equal(list.unavailable.length, 1);
  assert.match(list.unavailable[0]!.reason, /newer version/);
});

test('older states are upgraded by the migration chain', () => {
  const v1 = {
    schemaVersion: 1,
    id: 'x',
    name: 'Old',
    createdAt: '2024-01-01T00:00:00Z',
    coreMemory: { blocks: [], lastModified: 'x' },
    inContextIds: [],
  };
  const migrations = { 2: (raw: Record<string, unknown>) => ({ ...raw, name: `${String(raw.name)} (v2)` }) };
  const up = validateAgentState(v1, migrations, 2);
  assert.equal(up.schemaVersion, 2);
  assert.equal(up.name, 'Old (v2)');
  assert.deepEqual(up.counters, { steps: 0, messages: 0, flushes: 0 }, 'missing counters default to zero');
  assert.throws(() => validateAgentState(v1, {}, 2), /no migration of agent state to schema 2/);
});

test('delete: the active agent moves to another one, or to none', async () => {
  const store = await AgentStateStore.open(tmp());
  const a = await store.create({ name: 'A' });
  const b = await store.create({ name: 'B' });
  await store.delete(a.id);
  assert.equal(await store.activeAgentId(), b.id);
  await store.delete(b.id);
  assert.equal(await store.activeAgentId(), null);
  await assert.rejects(store.setActive(a.id), AgentNotFoundError);
  assert.throws(() => validateAgentState({}), /schemaVersion/);
});

test('export carries state and recall but never a secret; import remaps ids and renames on conflict', async () => {
  const dirA = tmp();
  const agents = await AgentStateStore.open(path.join(dirA, 'agents'));
  const recall = await recallAt(path.join(dirA, 'recall'));
  const a = await agents.create({ name: 'Porter' });
  const t = new Date().toISOString();
  const recs = await recall.append([
    { agentId: a.id, time: t, kind: 'user', message: { role: 'user', content: 'remember the walrus' } },
    { agentId: a.id, time: t, kind: 'assistant', message: { role: 'assistant', content: 'noted walrus' } },
    { agentId: 'someone-else', time: t, kind: 'user', message: { role: 'user', content: 'not exported' } },
  ]);
  await agents.save({
    ...a,
    inContextIds: [recs[0]!.id, recs[1]!.id],
    settingsUsed: { ...a.settingsUsed, apiKey: 'sk-SECRET' } as AgentState['settingsUsed'],
  });

  const exported = await agents.exportAgent(a.id, recall);
  const json = JSON.stringify(exported);
  assert.ok(!json.includes('sk-SECRET'), 'no API key in the export');
  assert.equal(exported.recall.length, 2);
  assert.ok(!json.includes('not exported'));

  // Into a fresh workspace: the id is free, so it is kept.
  const dirB = tmp();
  const agentsB = await AgentStateStore.open(path.join(dirB, 'agents'));
  const recallB = await recallAt(path.join(dirB, 'recall'));
  await recallB.append([{ agentId: 'local', time: t, kind: 'user', message: { role: 'user', content: 'local history' } }]);
  const inB = await agentsB.importAgent(JSON.parse(json), recallB);
  assert.equal(inB.id, a.id);
  assert.equal(inB.name, 'Porter');
  assert.equal(recallB.search(inB.id, 'walrus', 0).total, 2);
  assert.deepEqual(
    recallB.get(inB.inContextIds).map((r) => r.message.content),
    ['remember the walrus', 'noted walrus'],
    'in-context ids point at the imported records',
  );
  assert.equal(await agentsB.activeAgentId(), inB.id);

  // Back into the original workspace: id and name are taken.
  const again = await agents.importAgent(JSON.parse(json), recall);
  assert.notEqual(again.id, a.id);
  assert.equal(again.name, 'Porter (imported)');
  assert.equal(recall.count(again.id), 2);
  assert.deepEqual(
    recall.get(again.inContextIds).map((r) => r.agentId),
    [again.id, again.id],
  );
  assert.equal(recall.count(a.id), 2, "the original agent's recall is untouched");
});

test('a bad import is refused with a clear error and imports nothing', async () => {
  const dir = tmp();
  const agents = await AgentStateStore.open(path.join(dir, 'agents'));
  const recall = await recallAt(path.join(dir, 'recall'));
  await assert.rejects(agents.importAgent({ hello: 1 }, recall), /not a MemGPT agent export.*Nothing was imported/);
  await assert.rejects(
    agents.importAgent({ format: 'memgpt-vscode-agent', formatVersion: 99, agent: {}, recall: [] }, recall),
    /format version 99/,
  );
  await assert.rejects(
    agents.importAgent({ format: 'memgpt-vscode-agent', formatVersion: 1, agent: { schemaVersion: 1 }, recall: [] }, recall),
    /agent in this export is invalid/,
  );
  const ok = await agents.create({ name: 'x' });
  const exp = await agents.exportAgent(ok.id, recall);
  await assert.rejects(agents.importAgent({ ...exp, recall: [{ id: 'r1' }] }, recall), /Recall record 0 of this export is malformed/);
  assert.equal((await agents.list()).agents.length, 1);
  assert.equal(recall.count(), 0);
});
