/**
 * Core-memory scopes and the blocks the agent shapes: the user's blocks shared by every
 * workspace of one state folder (real files, real locks, two writing processes), the workspace's
 * shared by its agents, the human-per-workspace setting, conversion of memory saved before
 * scopes, and create / rename / update / delete within the total budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { CoreMemory, CoreMemoryError } from '../../../src/core/memory/coreMemory';
import { openMemoryScopes, ScopedCoreMemory, type HumanScope } from '../../../src/core/memory/memoryScopes';
import { HUMAN_PRESETS } from '../../../src/core/memory/presets';
import { SharedBlockFile } from '../../../src/core/memory/sharedBlockFile';
import { CORE_MEMORY_TOTAL_BUDGET_CHARS } from '../../../src/core/limits';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'memgpt-scopes-'));
}

/** One window's scopes: the state folder's user file, and its own workspace's file. */
function scopesFor(root: string, workspace: string, humanScope: HumanScope = 'user', notices: string[] = []) {
  return openMemoryScopes({
    userFile: path.join(root, 'user', 'blocks.json'),
    workspaceFile: path.join(root, 'workspaces', workspace, 'blocks.json'),
    readOnly: false,
    humanScope,
    notice: (_key, message) => notices.push(message),
  });
}

/** A new agent's memory as AgentStateStore.create makes it, converted to scopes. */
async function agentMemory(root: string, workspace: string, humanScope: HumanScope = 'user', notices: string[] = []) {
  const scopes = scopesFor(root, workspace, humanScope, notices);
  await scopes.load();
  const own = (await scopes.adopt(CoreMemory.create().toJSON(), 'MemGPT'))!;
  const memory = new ScopedCoreMemory(CoreMemory.fromJSON(own), scopes);
  return { scopes, memory, own };
}

test("human is the user's: an edit in one workspace is seen by another open one at its next refresh; project stays per workspace", async () => {
  const root = tempDir();
  try {
    const a = await agentMemory(root, 'ws-a');
    const b = await agentMemory(root, 'ws-b');
    assert.deepEqual(
      a.memory.view.allBlocks().map((x) => [x.label, x.scope]),
      [
        ['persona', 'agent'],
        ['human', 'user'],
        ['project', 'workspace'],
      ],
    );
    // The agent's own file keeps only its own blocks.
    assert.deepEqual(
      a.own.blocks.map((x) => x.label),
      ['persona'],
    );

    await a.memory.append('human', 'Prefers tabs over spaces.');
    await a.memory.append('project', 'Uses pnpm.');
    assert.doesNotMatch(b.memory.view.get('human'), /Prefers tabs/, 'not before its next step');
    assert.equal(await b.memory.refresh(), true);
    assert.match(b.memory.view.get('human'), /Prefers tabs over spaces\./);
    assert.doesNotMatch(b.memory.view.get('project'), /pnpm/, "the other workspace's project is its own");
    assert.match(b.memory.view.render(), /<human characters="\d+\/2000" scope="user">/);
    // Nothing changed since: a refresh reports nothing, so the prompt stays byte-identical.
    assert.equal(await b.memory.refresh(), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with humanScope "workspace", human starts from the user\'s copy and its edits stay in that workspace', async () => {
  const root = tempDir();
  try {
    const a = await agentMemory(root, 'ws-a');
    await a.memory.append('human', 'Name: Ada.');
    const c = await agentMemory(root, 'ws-c', 'workspace');
    assert.equal(c.memory.view.scopeOf('human'), 'workspace');
    assert.match(c.memory.view.get('human'), /Name: Ada\./, 'seeded from the user copy');
    await c.memory.append('human', 'Here she writes Rust.');
    await a.memory.refresh();
    assert.doesNotMatch(a.memory.view.get('human'), /Rust/, 'the user copy is untouched');
    const user = JSON.parse(readFileSync(path.join(root, 'user', 'blocks.json'), 'utf8')) as { blocks: { label: string; value: string }[] };
    assert.doesNotMatch(user.blocks.find((x) => x.label === 'human')!.value, /Rust/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('two processes appending to the user memory at once: every line of both is kept', async () => {
  const root = tempDir();
  try {
    const outfile = path.join(root, 'writer.js');
    buildSync({
      entryPoints: [path.join(__dirname, 'children', 'sharedBlockWriter.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      logLevel: 'error',
    });
    const file = path.join(root, 'user', 'blocks.json');
    const n = 25;
    const run = (tag: string) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [outfile, file, 'human', tag, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(out);
          else reject(new Error(`writer ${tag} exited ${code}: ${err}`));
        });
      });
    const outs = await Promise.all([run('first'), run('second')]);
    assert.deepEqual(outs, ['done\n', 'done\n']);
    const read = await new SharedBlockFile(file, 'user').read();
    const lines = read.blocks.find((b) => b.label === 'human')!.value.split('\n');
    assert.equal(lines.length, 2 * n, 'no write was lost');
    for (const tag of ['first', 'second']) {
      // Each writer's own lines arrive in its order.
      assert.deepEqual(
        lines.filter((l) => l.startsWith(`${tag}-`)),
        Array.from({ length: n }, (_, i) => `${tag}-${i}`),
      );
    }
    assert.equal(read.revision, 2 * n);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a lock left by a crashed process is taken over; a live one is waited for, then the write goes through', async () => {
  const root = tempDir();
  try {
    const file = path.join(root, 'user', 'blocks.json');
    const shared = new SharedBlockFile(file, 'user');
    await shared.update((blocks) => void blocks.push({ label: 'human', value: 'one', limit: 2000 }));
    // A process id that cannot exist: its lock is stale at once.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), time: Date.now() }));
    await shared.update((blocks) => void (blocks[0]!.value += '\ntwo'));
    assert.equal((await shared.read()).blocks[0]!.value, 'one\ntwo');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('memory saved before scopes is converted without loss: learned text moves, a differing one is kept beside it, and the user is told', async () => {
  const root = tempDir();
  try {
    const notices: string[] = [];
    const legacyA = CoreMemory.create({ human: 'Name: Ada. Likes short answers.', project: 'Monorepo with pnpm.' }).toJSON();
    const scopesA = scopesFor(root, 'ws-a', 'user', notices);
    await scopesA.load();
    const ownA = (await scopesA.adopt(legacyA, 'Agent A'))!;
    assert.deepEqual(
      ownA.blocks.map((b) => b.label),
      ['persona'],
    );
    assert.equal(ownA.scoped, true);
    assert.match(
      notices.join('\n'),
      /"Agent A" was converted to scopes.*'human' is now in the user memory.*'project' is now in the workspace memory/,
    );
    assert.equal(await scopesA.adopt(ownA, 'Agent A'), null, 'converted once');

    const legacyB = CoreMemory.create({ human: 'Name: Bob.' }).toJSON();
    const scopesB = scopesFor(root, 'ws-b', 'user', notices);
    await scopesB.load();
    const ownB = (await scopesB.adopt(legacyB, 'Agent B'))!;
    const kept = ownB.blocks.find((b) => b.label === 'human_kept');
    assert.ok(kept, "the differing human is kept as the agent's own block");
    assert.equal(kept.value, 'Name: Bob.');
    assert.match(kept.description!, /merge/);
    assert.match(notices.at(-1)!, /"Agent B".*'human' differed from the user memory's and was kept as its own block 'human_kept'/);
    const view = new ScopedCoreMemory(CoreMemory.fromJSON(ownB), scopesB).view;
    assert.equal(view.get('human'), 'Name: Ada. Likes short answers.');
    assert.equal(view.get('human_kept'), 'Name: Bob.');

    // An agent that never learned anything (its preset) converts silently.
    const before = notices.length;
    await scopesFor(root, 'ws-c', 'user', notices).adopt(CoreMemory.create({ human: HUMAN_PRESETS.developer!.text }).toJSON(), 'Fresh');
    assert.equal(notices.length, before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the agent shapes blocks: create with a description and limit, rename, update, delete; within the total budget', async () => {
  const root = tempDir();
  try {
    const a = await agentMemory(root, 'ws-a');
    const b = await agentMemory(root, 'ws-b');
    await a.memory.createBlock('coding_style', { description: 'How the user likes code written.', limit: 1000, scope: 'user' });
    await a.memory.append('coding_style', 'Early returns; no classes for plain data.');
    assert.match(
      a.memory.view.render(),
      /<coding_style characters="\d+\/1000" scope="user" description="How the user likes code written\.">/,
    );
    await b.memory.refresh();
    assert.match(b.memory.view.get('coding_style'), /Early returns/, 'a user block reaches the other workspace');

    await a.memory.createBlock('scratch', { description: 'Notes for the current task.', limit: 500, scope: 'agent' });
    await a.memory.renameBlock('scratch', 'task_notes');
    assert.equal(a.memory.view.has('scratch'), false);
    await a.memory.updateBlock('task_notes', { limit: 800, description: 'Notes for the task at hand.' });
    assert.equal(a.memory.view.limit('task_notes'), 800);
    await a.memory.append('task_notes', 'Step 2 of 3 done.');
    assert.equal(await a.memory.deleteBlock('task_notes'), 'Step 2 of 3 done.');
    assert.equal(a.memory.view.has('task_notes'), false);

    const refused = async (work: () => Promise<unknown>, pattern: RegExp) =>
      assert.rejects(work, (e: unknown) => e instanceof CoreMemoryError && pattern.test(e.message));
    const rendered = a.memory.view.render();
    await refused(
      () => a.memory.createBlock('huge', { description: 'Too big.', limit: 5000, scope: 'agent' }),
      new RegExp(`add up to ${CORE_MEMORY_TOTAL_BUDGET_CHARS} characters and \\d+ are left`),
    );
    await refused(() => a.memory.createBlock('Bad Label', { description: 'x', limit: 200, scope: 'agent' }), /not usable/);
    await refused(() => a.memory.createBlock('human', { description: 'x', limit: 200, scope: 'agent' }), /exists already/);
    await refused(() => a.memory.createBlock('nodesc', { description: ' ', limit: 200, scope: 'agent' }), /needs a description/);
    await refused(() => a.memory.deleteBlock('human'), /standard block and cannot be deleted/);
    await refused(() => a.memory.renameBlock('persona', 'me'), /standard block and cannot be renamed/);
    assert.equal(a.memory.view.render(), rendered, 'refused edits change nothing');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a damaged user memory file is kept aside and said; one from a newer version is left untouched and never written over', async () => {
  const root = tempDir();
  try {
    const file = path.join(root, 'user', 'blocks.json');
    const { mkdirSync, readdirSync } = await import('node:fs');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"format": "memgpt-memory-blocks", "version": 1, "blocks": [');
    const notices: string[] = [];
    const a = await agentMemory(root, 'ws-a', 'user', notices);
    assert.match(notices.join('\n'), /The user memory file blocks\.json was unreadable .*kept aside as blocks\.json\.corrupt-/);
    assert.ok(
      readdirSync(path.dirname(file)).some((n) => n.startsWith('blocks.json.corrupt-')),
      'the damaged bytes are kept',
    );
    assert.equal(a.memory.view.scopeOf('human'), 'user');

    const newer = JSON.stringify({
      format: 'memgpt-memory-blocks',
      version: 99,
      revision: 5,
      blocks: [{ label: 'human', value: 'From the future.' }],
    });
    writeFileSync(file, newer);
    const later: string[] = [];
    const scopes = scopesFor(root, 'ws-b', 'user', later);
    await scopes.load();
    assert.match(later.join('\n'), /The user memory is not shown: .*newer version of MemGPT/);
    // An old agent is not converted while it cannot be (it runs as saved); a converted one cannot write there.
    assert.equal(await scopes.adopt(CoreMemory.create({ human: 'Name: Bo.' }).toJSON(), 'Old'), null);
    assert.match(later.at(-1)!, /"Old" was not converted to scopes this time/);
    const b = new ScopedCoreMemory(CoreMemory.fromJSON({ blocks: [], lastModified: '', scoped: true }), scopes);
    b.view.setShared([{ label: 'human', value: '', limit: 2000, scope: 'user' }], '');
    await assert.rejects(() => b.append('human', 'x'), /newer version of MemGPT/);
    assert.equal(readFileSync(file, 'utf8'), newer, 'left exactly as it was');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
