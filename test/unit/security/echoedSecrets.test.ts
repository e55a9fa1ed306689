/**
 * A model that echoes the API key (or any key-shaped secret) into memory must not get it stored:
 * end to end through the real runtime, model client and stores, against the scripted fake server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, toolCall, toolCalls } from '../../fixtures/fakeOpenAIServer';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import type { AgentEvent } from '../../../src/core/agent/events';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';

/** Every file under `dir`, recursively, as [relative path, bytes]. */
async function allFiles(dir: string): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out.push([path.relative(dir, abs), await readFile(abs)]);
  }
  return out;
}

function occurrences(haystack: string | Buffer, needle: string): number {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const n = Buffer.from(needle, 'utf8').toString('latin1');
  return text.split(n).length - 1;
}

const random = () => Math.random().toString(36).slice(2, 10);

test('secrets the model writes into core and archival memory are scrubbed from every file, the export and what the model reads back', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-echo-'));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'README.md'), '# Project\n');
  const stateDir = path.join(root, 'state');
  const server = await startFakeOpenAIServer({ models: ['local-model'] });
  // The configured key has no well-known shape: only knowing it can catch it.
  const apiKey = `corp-gateway-${random()}-${random()}-Zq81`;
  const shaped = {
    anthropic: `sk-ant-api03-${random()}${random()}${random()}AA`,
    openai: `sk-proj-${random()}${random()}${random()}BB`,
    github: `ghp_${random()}${random()}${random()}${random()}`.slice(0, 40),
    githubPat: `github_pat_11ABCDEFG0${random()}${random()}_${random()}${random()}${random()}`,
    aws: `AKIA${random().toUpperCase()}${random().toUpperCase()}`.slice(0, 20).replace(/[^A-Z0-9]/g, 'Q'),
    slack: `xoxb-1234567890-${random()}${random()}`,
    pemBody: `MIIEvQIBADANBgkqhkiG9w0BAQEFAASC${random()}${random()}`,
    bearer: `eyJhbGciOiJIUzI1NiJ9.${random()}${random()}.${random()}${random()}`,
  };
  const pem = `-----BEGIN PRIVATE KEY-----\n${shaped.pemBody}\n${random()}${random()}==\n-----END PRIVATE KEY-----`;
  const secrets = [apiKey, ...Object.values(shaped)];
  const runtime = await WorkspaceRuntime.open({
    storageRoot: stateDir,
    folders: [{ name: 'project', path: folder }],
    trusted: true,
    config: testRuntimeConfig({ baseUrl: server.url, apiKey }),
  });
  const events: AgentEvent[] = [];
  runtime.chat.onEvent((e) => events.push(e));
  try {
    server.enqueue(
      // Its private thoughts repeat the key too.
      toolCall(
        'core_memory_append',
        { label: 'human', content: `The user's gateway key is ${apiKey}.`, request_heartbeat: true },
        { content: `Thinking: the key is ${apiKey}` },
      ),
      toolCalls([
        {
          name: 'archival_memory_insert',
          arguments: { content: `Keys: ${apiKey} ${shaped.anthropic} ${shaped.openai} ${shaped.github}`, request_heartbeat: false },
        },
        {
          name: 'archival_memory_insert',
          arguments: {
            content: `More: ${shaped.githubPat} ${shaped.aws} ${shaped.slack} Authorization: Bearer ${shaped.bearer}\n${pem}`,
            request_heartbeat: true,
          },
        },
      ]),
      sendMessage(`Saved. Your key is ${apiKey}.`),
      toolCall('archival_memory_search', { query: 'gateway key', request_heartbeat: true }),
      toolCall('conversation_search', { query: 'gateway', request_heartbeat: true }),
      sendMessage('Done.'),
    );
    const first = await runtime.chat.handle({ type: 'user_message', text: `Please remember my gateway key ${apiKey}` }, { source: 'cli' });
    assert.equal(first.reason, 'done', first.error);
    const second = await runtime.chat.handle({ type: 'user_message', text: 'What do you know about my key?' }, { source: 'cli' });
    assert.equal(second.reason, 'done', second.error);

    // What the user sees says a secret was removed.
    assert.deepEqual(first.messages, ['Saved. Your key is [redacted secret].']);
    // Memory holds the marker, not the key.
    const core = (await runtime.memory.coreMemory()).map((b) => b.value).join('\n');
    assert.match(core, /gateway key is \[redacted secret\]/);
    const memories = await runtime.memory.searchArchival('Keys', { limit: 5 });
    assert.ok(
      memories.some((h) => h.text.includes('[redacted secret]')),
      'archival memory holds the marker',
    );

    // The model never reads a secret back: not in core memory, the queue, or search results.
    const bodies = server
      .chatRequests()
      .slice(1)
      .map((r) => JSON.stringify(r.body.messages));
    for (const s of secrets) for (const b of bodies) assert.equal(occurrences(b, s), 0, `a request to the model holds ${s}`);
    for (const e of events) {
      if (e.type === 'monologue' || e.type === 'message_complete' || e.type === 'function_call_finished') {
        for (const s of secrets) assert.equal(occurrences(JSON.stringify(e), s), 0, `${e.type} event holds ${s}`);
      }
    }

    // Nothing on disk and nothing exported holds one: not the agent, recall, memories or the index.
    const agents = await runtime.agents.listAgents();
    const exports = [
      JSON.stringify(await runtime.agents.exportAgent(agents[0]!.id), null, 2),
      // The CLI's export reads the stored agent directly.
      JSON.stringify(await runtime.storage.agents.exportAgent(agents[0]!.id, runtime.storage.recall), null, 2),
    ];
    await runtime.close();
    const files = await allFiles(stateDir);
    assert.ok(
      files.some(([rel]) => rel.endsWith('recall.log')) && files.some(([rel]) => rel.endsWith('memories.jsonl')),
      files.map(([r]) => r).join(', '),
    );
    for (const s of secrets) {
      for (const [rel, bytes] of files) assert.equal(occurrences(bytes, s), 0, `${rel} holds ${s}`);
      for (const text of exports) assert.equal(occurrences(text, s), 0, `the export holds ${s}`);
    }
    assert.ok(
      exports.every((t) => t.includes('[redacted secret]')),
      'the export shows where a secret was removed',
    );
  } finally {
    await runtime.close().catch(() => undefined);
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('defence behind the agent: "Remember selection" and the export mask keys that reached storage another way', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-echo-'));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  const stateDir = path.join(root, 'state');
  const server = await startFakeOpenAIServer({ models: ['local-model'] });
  const apiKey = `corp-gateway-${random()}-${random()}-Zq82`;
  const github = `ghp_${'x'.repeat(12)}${random()}${random()}${random()}`;
  const runtime = await WorkspaceRuntime.open({
    storageRoot: stateDir,
    folders: [{ name: 'project', path: folder }],
    trusted: true,
    config: testRuntimeConfig({ baseUrl: server.url, apiKey }),
  });
  try {
    // A selection of code with a hard-coded token, remembered by the user.
    await runtime.memory.remember(`const client = new Client({ token: '${github}', fallback: '${apiKey}' });`, {
      path: 'src/client.ts',
      startLine: 1,
      endLine: 1,
    });
    // A record an older version stored in plain text.
    server.enqueue(sendMessage('Hi.'));
    await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    const id = (await runtime.agents.listAgents())[0]!.id;
    await runtime.storage.recall.append([
      { agentId: id, time: new Date().toISOString(), kind: 'user', message: { role: 'user', content: `old: ${apiKey} ${github}` } },
    ]);
    const exported = JSON.stringify(await runtime.storage.agents.exportAgent(id, runtime.storage.recall));
    assert.equal(occurrences(exported, apiKey) + occurrences(exported, github), 0, 'the export masks what recall holds in plain text');
    assert.match(exported, /old: \[redacted secret\] \[redacted secret\]/);
    await runtime.close();
    const memories = (await allFiles(stateDir)).filter(([rel]) => rel.endsWith('memories.jsonl'));
    assert.equal(memories.length, 1);
    const log = memories[0]![1].toString('utf8');
    assert.equal(occurrences(log, apiKey) + occurrences(log, github), 0, 'the remembered selection is stored masked');
    assert.match(log, /token: '\[redacted secret\]', fallback: '\[redacted secret\]'/);
  } finally {
    await runtime.close().catch(() => undefined);
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
});
