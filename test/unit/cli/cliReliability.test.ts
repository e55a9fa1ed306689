/**
 * The built `memgpt` binary against a model server that hangs, rate-limits for an hour or sends a
 * broken stream (issue 13, items 2 and 10), and `export --out` into a folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hang, rateLimited, sendMessage, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { cleanEnv, ensureBuilt, runCli } from './cliHarness';

let root: string;
let folder: string;
let stateCounter = 0;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-cli-rel-'));
  folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'README.md'), '# Project\n');
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function withServer(fn: (server: FakeOpenAIServer, env: Record<string, string>) => Promise<void>): Promise<void> {
  const server = await startFakeOpenAIServer({ models: ['local-model'] });
  const env = cleanEnv({
    MEMGPT_STATE_DIR: path.join(root, `state-${++stateCounter}`),
    OPENAI_BASE_URL: server.url,
    MEMGPT_MODEL: 'local-model',
  });
  try {
    await fn(server, env);
  } finally {
    await server.close();
  }
}

/**
 * How long a whole `ask` takes when the server answers at once: process start, storage, one
 * request. The timing checks below add the time under test to this, measured in the same run, so a
 * loaded machine slows both sides alike.
 */
async function answeredAskMs(server: FakeOpenAIServer, env: Record<string, string>): Promise<number> {
  server.enqueue(sendMessage('here'));
  const started = Date.now();
  const r = await runCli(['ask', folder, 'warm up', '--request-timeout', '2'], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return Date.now() - started;
}

test('ask against a server that never answers: progress on stderr, then the cause, within the deadline', async () => {
  await withServer(async (server, env) => {
    const baseline = await answeredAskMs(server, env);
    server.enqueue(hang(), hang(), hang(), hang(), hang());
    const started = Date.now();
    const r = await runCli(['ask', folder, 'hello?', '--request-timeout', '2'], { env, timeoutMs: 60_000 });
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`Waiting for the model at ${server.url}… 1 s`), r.stderr);
    assert.match(
      r.stderr.trim().split('\n').at(-1)!,
      new RegExp(`The model server at ${server.url.replace(/[./]/g, '\\$&')} did not answer within 2 s`),
    );
    assert.match(r.stderr, /--request-timeout/, 'the error says how to wait longer, in CLI words');
    // The deadline is twice the time-out (4 s): the wait must end there, not after every try.
    assert.ok(took < baseline * 1.5 + 4000 + 2000, `took ${took} ms; an answered ask took ${baseline} ms`);
  });
});

test('ask with 429 Retry-After: 3600 fails at once with the cause, not "Retrying after a pause."', async () => {
  await withServer(async (server, env) => {
    const baseline = await answeredAskMs(server, env);
    server.enqueue(rateLimited('3600'), sendMessage('too late'));
    const started = Date.now();
    const r = await runCli(['ask', folder, 'hello?', '--request-timeout', '2'], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /asked to wait 3600 s \(429 rate limit.*longer than the 4 s deadline/);
    assert.doesNotMatch(r.stderr, /Retrying after a pause/);
    assert.equal(server.chatRequests().length, 2, 'the warm-up and the rate-limited request, no retry');
    const took = Date.now() - started;
    // At once: no pause at all, so no more than an answered ask (with slack for a loaded machine).
    assert.ok(took < baseline * 1.5 + 1500, `took ${took} ms; an answered ask took ${baseline} ms`);
  });
});

test('a malformed stream: one error line on stderr, nothing from the SDK', async () => {
  await withServer(async (server, env) => {
    server.enqueue(sendMessage('hi', { malformedAfterChunks: 2 }));
    const r = await runCli(['ask', folder, 'hello?'], { env, timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /Could not parse message into JSON|From chunk/);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
    assert.match(lines[0]!, /malformed streaming response/);
  });
});

test('export --out <folder> writes <folder>/<agent>-<date>.json and says so; a bad --out never names a temp file', async () => {
  await withServer(async (server, env) => {
    server.enqueue(sendMessage('hello there'));
    const asked = await runCli(['ask', folder, 'hi'], { env });
    assert.equal(asked.code, 0, asked.stderr);

    const outDir = path.join(root, 'exports');
    await mkdir(outDir);
    const r = await runCli(['export', folder, '--out', outDir], { env });
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(outDir);
    assert.equal(files.length, 1, `one file: ${files.join(', ')}`);
    const now = new Date();
    const date = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    assert.match(files[0]!, new RegExp(`^memgpt-${date}\\.json$`, 'i'));
    const written = path.join(outDir, files[0]!);
    assert.ok(r.stderr.includes(written), r.stderr);
    assert.doesNotMatch(r.stderr, /\.tmp/);
    assert.ok(Array.isArray((JSON.parse(await readFile(written, 'utf8')) as { recall: unknown[] }).recall));

    // A second export the same day does not overwrite the first.
    const again = await runCli(['export', folder, '--out', outDir], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readdirSync(outDir).length, 2);

    const missing = path.join(root, 'no-such-folder', 'agent.json');
    const bad = await runCli(['export', folder, '--out', missing], { env });
    assert.notEqual(bad.code, 0);
    assert.ok(bad.stderr.includes(missing), bad.stderr);
    assert.doesNotMatch(bad.stderr, /\.tmp/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.ok(!existsSync(path.dirname(missing)));
  });
});
