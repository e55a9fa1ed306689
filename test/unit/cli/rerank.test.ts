/**
 * `memgpt search --rerank` (and MEMGPT_RERANK=1) end to end: the built CLI asks the scripted model
 * to order the hits and prints them in its order; a refused request or an answer that is not a
 * ranking leaves the search's own order with exit 0; without the flag no model request is made.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { badKey, content, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { cleanEnv, cliProject, ensureBuilt, runCli } from './cliHarness';

let root: string;
let folder: string;
let server: FakeOpenAIServer;
let env: Record<string, string>;

before(async () => {
  ensureBuilt();
  ({ root, folder } = await cliProject('memgpt-rerank-', {
    'src/invoice.ts': 'export function invoiceTotal(lines: number[]): number {\n  return lines.length;\n}\n',
    'src/tax.ts': 'export function invoiceTax(total: number): number {\n  return total * 0.2;\n}\n',
    'src/mail.ts': 'export function sendInvoice(to: string): string {\n  return `invoice to ${to}`;\n}\n',
  }));
  server = await startFakeOpenAIServer({ models: ['local-model'] });
  env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state'), OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model' });
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function searchPaths(extra: string[], extraEnv: Record<string, string> = {}): Promise<string[]> {
  const r = await runCli(['search', folder, 'invoice', '--json', ...extra], { env: { ...env, ...extraEnv } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'a rerank that fails is not the user’s problem');
  return (JSON.parse(r.stdout) as { results: { path: string }[] }).results.map((h) => h.path);
}

test('search --rerank: hits come back in the order the model names; without the flag the model is not asked', async () => {
  const requestsBefore = server.chatRequests().length;
  const own = await searchPaths([]);
  assert.equal(server.chatRequests().length, requestsBefore, 'no model request without --rerank');
  assert.equal(own.length, 3, own.join(', '));

  server.enqueue(content('[3, 1]'));
  const reranked = await searchPaths(['--rerank']);
  assert.deepEqual(reranked, [own[2], own[0], own[1]]);
  const sent = server.chatRequests()[requestsBefore]!.body.messages.find((m) => m.role === 'user')!.content as string;
  assert.match(sent, /^Question: invoice/);
  assert.match(sent, /\[3\] src\//);

  server.enqueue(content('[2]'));
  assert.deepEqual(await searchPaths([], { MEMGPT_RERANK: '1' }), [own[1], own[0], own[2]], 'MEMGPT_RERANK=1 does the same');
});

test('search --rerank: a refused request or an answer that is not a ranking keeps the search order, exit 0', async () => {
  const own = await searchPaths([]);
  server.enqueue(badKey());
  assert.deepEqual(await searchPaths(['--rerank']), own);
  server.enqueue(content('These all look relevant to me.'));
  assert.deepEqual(await searchPaths(['--rerank']), own);
});
