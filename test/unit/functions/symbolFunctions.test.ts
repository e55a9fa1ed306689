/** find_symbol and file_outline through the real agent loop, the scripted fake model server answering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { makeHarness, lastToolResults, stepRequests } from '../agent/agentHarness';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';

const FILES = {
  'src/cache.ts': `/** Keeps the most recent entries. */\nexport class LruCache {\n  /** Reads a value and marks it recent. */\n  get(key: string): number | undefined { return undefined; }\n}\n`,
  'src/warm.py': `from cache import LruCache\n\ndef warm(cache):\n    """Fills the cache before the first request."""\n    return LruCache()\n`,
  'README.md': '# tiny\n',
};

test('find_symbol: definitions with scope, signature and doc first, then references; file_outline nests by scope; mistakes fail back to the model', async () => {
  const h = await makeHarness({ files: FILES });
  try {
    const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: path.join(h.dir, 'ws') }], archival: h.archival });
    await indexer.indexAll();
    h.server.enqueue(
      toolCall('find_symbol', { name: 'LruCache', request_heartbeat: true }),
      toolCall('find_symbol', { name: 'LruCache.get', request_heartbeat: true }),
      toolCall('file_outline', { path: 'src/cache.ts', request_heartbeat: true }),
      toolCall('file_outline', { path: 'README.md', request_heartbeat: true }),
      toolCall('find_symbol', { name: 'NoSuchThing', request_heartbeat: true }),
      sendMessage('done'),
    );
    await h.agent.handle({ type: 'user_message', text: 'where is the cache' });
    const names = stepRequests(h.server)[0]!.body.tools!.map((t) => t.function.name);
    assert.ok(names.includes('find_symbol') && names.includes('file_outline'), 'offered with the workspace functions');
    const results = stepRequests(h.server)
      .slice(1)
      .map((r) => JSON.parse(r.body.messages.at(-1)!.content as string) as { status: string; message: string });
    assert.equal(
      results[0]!.message,
      'LruCache: 1 definition(s), 2 reference(s).\nDefinitions:\n- src/cache.ts:2 class LruCache: class LruCache\n    Keeps the most recent entries.\nReferences:\n- src/warm.py:1\n- src/warm.py:5',
    );
    assert.match(
      results[1]!.message,
      /- src\/cache\.ts:4 method get in LruCache: get\(key: string\): number \| undefined\n {4}Reads a value and marks it recent\./,
    );
    assert.equal(
      results[2]!.message,
      'src/cache.ts: 2 definition(s), lines first-last:\n1-5 class LruCache: class LruCache\n  3-4 method get: get(key: string): number | undefined',
    );
    assert.equal(results[3]!.status, 'Failed');
    assert.match(results[3]!.message, /README\.md has no outline: .*Use read_file\./);
    assert.match(results[4]!.message, /No definition or use of NoSuchThing is indexed/);
    await indexer.dispose();
  } finally {
    await h.close();
  }
});

test('find_symbol before anything is indexed points the model at the text search', async () => {
  const h = await makeHarness({ files: FILES });
  try {
    h.server.enqueue(toolCall('find_symbol', { name: 'LruCache', request_heartbeat: true }), sendMessage('ok'));
    await h.agent.handle({ type: 'user_message', text: 'where' });
    const [r] = lastToolResults(h.server);
    assert.equal(r!.status, 'Failed');
    assert.match(r!.message, /No code symbols are indexed yet.*Use search_text/);
  } finally {
    await h.close();
  }
});
