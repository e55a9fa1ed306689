/**
 * The optional rerank of search results by the chat model, with the real `openai` client against
 * the scripted server: what the model is sent, how its answer is read, and that every failure
 * (slow, refused, rambling) leaves the search's own order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIChatModel } from '../../../src/core/llm/openaiChatModel';
import { parseRanking, rerank, rerankMessages, type RerankCandidate } from '../../../src/core/index/rerank';
import { RERANK_EXCERPT_CHARS, RERANK_TOP } from '../../../src/core/limits';
import { badKey, content, hang, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';

let server: FakeOpenAIServer;
before(async () => {
  server = await startFakeOpenAIServer({ models: ['local-model'] });
});
after(async () => {
  await server?.close();
});

const model = (): OpenAIChatModel => new OpenAIChatModel({ baseUrl: server.url, model: 'local-model', requestTimeoutMs: 5_000 });

function candidates(n: number): RerankCandidate[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `src/file${i + 1}.ts`,
    startLine: i * 10 + 1,
    endLine: i * 10 + 9,
    text: `text ${i + 1}`,
  }));
}

test('rerank: the model sees the question and each hit as [n] path:lines over a short excerpt, with no tools and no secret', async () => {
  const hits = candidates(3);
  hits[1] = { ...hits[1]!, text: `const key = "sk-proj-${'a'.repeat(40)}";\n${'x'.repeat(RERANK_EXCERPT_CHARS * 2)}` };
  server.enqueue(content('[2, 3, 1]'));
  const before = server.chatRequests().length;
  const outcome = await rerank('where is the key read', hits, { model: model() });
  assert.deepEqual(outcome, { reranked: true, order: [1, 2, 0] });
  const sent = server.chatRequests()[before]!.body;
  assert.equal(sent.tools, undefined, 'a ranking needs no functions');
  const user = sent.messages.find((m) => m.role === 'user')!.content as string;
  assert.match(user, /^Question: where is the key read/);
  assert.match(user, /\[1\] src\/file1\.ts:1-9\ntext 1/);
  assert.match(user, /\[3\] src\/file3\.ts:21-29\ntext 3/);
  assert.doesNotMatch(user, /sk-proj-a{40}/, 'a key in a hit is masked before it leaves');
  const second = /\[2\][^\n]*\n([\s\S]*?)\n\n\[3\]/.exec(user)![1]!;
  assert.ok(second.length <= RERANK_EXCERPT_CHARS + 1, `excerpt cut to ${RERANK_EXCERPT_CHARS} characters (was ${second.length})`);
});

test('rerank: only the first RERANK_TOP hits are shown; the ones the model leaves out follow in the search order, then the rest', async () => {
  const hits = candidates(RERANK_TOP + 5);
  server.enqueue(content('[5, 2]'));
  const before = server.chatRequests().length;
  const outcome = await rerank('q', hits, { model: model() });
  assert.equal(outcome.reranked, true);
  const expected = [4, 1, ...Array.from({ length: RERANK_TOP }, (_, i) => i).filter((i) => i !== 4 && i !== 1)];
  for (let i = RERANK_TOP; i < RERANK_TOP + 5; i++) expected.push(i);
  assert.deepEqual(outcome.order, expected);
  const user = server.chatRequests()[before]!.body.messages.find((m) => m.role === 'user')!.content as string;
  assert.match(user, new RegExp(`\\[${RERANK_TOP}\\] `));
  assert.doesNotMatch(user, new RegExp(`\\[${RERANK_TOP + 1}\\] `));
});

test('parseRanking: JSON arrays, plain lists, reasoning before the answer; repeats and numbers out of range ignored', () => {
  assert.deepEqual(parseRanking('[3, 1, 2]', 3), [2, 0, 1]);
  assert.deepEqual(parseRanking('The best are 3, 1 and then 7.', 8), [2, 0, 6]);
  assert.deepEqual(parseRanking('<think>maybe [9, 8]</think>\nAnswer: [2, 2, 99, 0, 1]', 10), [1, 0]);
  assert.deepEqual(parseRanking('First I looked at [4]. Final: [1, 4]', 5), [0, 3], 'the last array is the answer');
  assert.deepEqual(parseRanking('1. [3]\n2. [1]', 3), [2, 0], 'bracketed numbers, not the list markers');
  assert.deepEqual(parseRanking('[2]', 3), [1]);
  assert.equal(parseRanking('None of these help.', 5), undefined);
  assert.equal(parseRanking('[0, 42]', 5), undefined);
  assert.equal(parseRanking('', 5), undefined);
});

test('rerank: an answer that names no result keeps the search order and says why', async () => {
  server.enqueue(content('I am not sure which of these is relevant.'));
  const outcome = await rerank('q', candidates(4), { model: model() });
  assert.equal(outcome.reranked, false);
  assert.deepEqual(outcome.order, [0, 1, 2, 3]);
  assert.equal(outcome.reranked === false && outcome.reason, 'unreadable');
});

test('rerank: a model that does not answer in time leaves the search order within the time limit', async () => {
  server.enqueue(hang());
  const started = Date.now();
  const outcome = await rerank('q', candidates(4), { model: model(), timeoutMs: 400 });
  const took = Date.now() - started;
  assert.equal(outcome.reranked === false && outcome.reason, 'timeout');
  assert.deepEqual(outcome.order, [0, 1, 2, 3]);
  assert.ok(took < 400 + 1_500, `bounded by the limit (took ${took} ms)`);
});

test('rerank: a refused request (bad key) leaves the search order; a single hit is not sent at all', async () => {
  server.enqueue(badKey());
  const outcome = await rerank('q', candidates(3), { model: model() });
  assert.equal(outcome.reranked === false && outcome.reason, 'error');
  assert.deepEqual(outcome.order, [0, 1, 2]);
  const before = server.chatRequests().length;
  const one = await rerank('q', candidates(1), { model: model() });
  assert.equal(one.reranked === false && one.reason, 'too_few');
  assert.equal(server.chatRequests().length, before);
});

test("rerank: the caller's cancel is not swallowed as a fallback", async () => {
  server.enqueue(hang());
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stopped')), 100);
  await assert.rejects(rerank('q', candidates(3), { model: model(), signal: controller.signal, timeoutMs: 5_000 }));
});

test('rerankMessages: a remembered item without a path is named as such', () => {
  const [, user] = rerankMessages('q', [{ text: 'likes tabs' }, { path: 'a.ts', text: 'x' }]);
  assert.match(user!.content as string, /\[1\] remembered item\nlikes tabs/);
  assert.match(user!.content as string, /\[2\] a\.ts\nx/);
});
