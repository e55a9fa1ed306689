/**
 * The CLI's pure parts, in process: argument parsing, flags + environment → RuntimeConfig and
 * state folder, the streaming redactor, the progress bar text, the turn printer on real events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseArgs } from '../../../src/cli/args';
import { OPTIONS } from '../../../src/cli/commandTable';
import { defaultStateDir, resolveStateDir, runtimeConfigFrom } from '../../../src/cli/config';
import { modelConfigured as modelReachable, type RuntimeConfig } from '../../../src/core/runtime/runtimeConfig';

const modelConfigured = (c: RuntimeConfig): boolean => modelReachable(c.baseUrl, c.apiKey !== undefined);
import { CliError, ExitCode } from '../../../src/cli/exitCodes';
import { Output, StreamRedactor, cliWording } from '../../../src/cli/output';
import { renderProgress, shortenPath } from '../../../src/cli/progressBar';
import { TurnPrinter } from '../../../src/cli/turnPrinter';

function usageFailure(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.usage && pattern.test(e.message));
}

test('parseArgs: options before and after positionals, = and separate values, short -k, --', () => {
  const p = parseArgs(['--state-dir', '/s', 'search', 'proj', '-k', '3', '--json', '--path=src/**', '--', '--not-an-option'], OPTIONS);
  assert.deepEqual(p.positionals, ['search', 'proj', '--not-an-option']);
  assert.deepEqual(p.options, { 'state-dir': '/s', k: 3, json: true, path: 'src/**' });
  assert.deepEqual(p.given, ['state-dir', 'k', 'json', 'path']);
  assert.equal(parseArgs(['-k5'], OPTIONS).options.k, 5);
  assert.deepEqual(parseArgs(['ask', '.', '-'], OPTIONS).positionals, ['ask', '.', '-'], 'a lone - is stdin, a positional');
});

test('parseArgs: every malformed argument is a usage error that names it', () => {
  usageFailure(() => parseArgs(['--modle', 'x'], OPTIONS), /Unknown option --modle\. Did you mean --model\?/);
  usageFailure(() => parseArgs(['-z'], OPTIONS), /Unknown option -z/);
  usageFailure(() => parseArgs(['--model'], OPTIONS), /--model needs a value/);
  usageFailure(() => parseArgs(['-k', '2.5'], OPTIONS), /needs a whole number; got "2\.5"/);
  usageFailure(() => parseArgs(['--json=yes'], OPTIONS), /--json takes no value/);
  usageFailure(() => parseArgs(['--model', 'a', '--model', 'b'], OPTIONS), /given twice/);
});

test('state folder: flag over MEMGPT_STATE_DIR over the per-user default of each platform', () => {
  assert.equal(defaultStateDir({}, 'linux', '/home/ada'), '/home/ada/.local/state/memgpt-vscode');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/xdg' }, 'linux', '/home/ada'), '/xdg/memgpt-vscode');
  assert.equal(defaultStateDir({}, 'darwin', '/Users/ada'), '/Users/ada/Library/Application Support/memgpt-vscode');
  assert.equal(
    defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'win32', 'C:\\Users\\ada'),
    'C:\\Users\\ada\\AppData\\Local\\memgpt-vscode',
  );
  assert.equal(resolveStateDir({ 'state-dir': 'rel' }, { MEMGPT_STATE_DIR: '/env' }), path.resolve('rel'));
  assert.equal(resolveStateDir({}, { MEMGPT_STATE_DIR: '/env' }), '/env');
});

test('config: environment defaults, flags win, the key only from OPENAI_API_KEY, bad values are usage errors', () => {
  const env = { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_MODEL: 'llama3.1', OPENAI_API_KEY: 'sk-abcdef' };
  const c = runtimeConfigFrom({}, env);
  assert.equal(c.baseUrl, 'http://127.0.0.1:11434/v1');
  assert.equal(c.model, 'llama3.1');
  assert.equal(c.apiKey, 'sk-abcdef');
  assert.deepEqual(c.embeddings, { baseUrl: '', model: 'text-embedding-3-small' }, 'local embedder by default');
  assert.equal(runtimeConfigFrom({}, { ...env, MEMGPT_MODEL: 'qwen2.5' }).model, 'qwen2.5', 'MEMGPT_MODEL before OPENAI_MODEL');
  const flagged = runtimeConfigFrom(
    { 'base-url': 'http://h:1/v1', model: 'm', 'context-window': 4096, 'embeddings-base-url': 'http://e/v1' },
    env,
  );
  assert.deepEqual(
    [flagged.baseUrl, flagged.model, flagged.contextWindow, flagged.embeddings.baseUrl],
    ['http://h:1/v1', 'm', 4096, 'http://e/v1'],
  );
  usageFailure(() => runtimeConfigFrom({ 'context-window': 1000 }, {}), /at least 2048/);
  usageFailure(() => runtimeConfigFrom({ 'base-url': 'localhost:11434' }, {}), /not an http\(s\) URL/);
  usageFailure(() => runtimeConfigFrom({}, { OPENAI_BASE_URL: 'ollama' }), /OPENAI_BASE_URL "ollama"/);
  assert.equal(modelConfigured(runtimeConfigFrom({}, {})), false, 'OpenAI without a key');
  assert.equal(modelConfigured(runtimeConfigFrom({}, { OPENAI_API_KEY: 'sk-123456' })), true);
  assert.equal(modelConfigured(runtimeConfigFrom({ 'base-url': 'http://127.0.0.1:1234/v1' }, {})), true, 'local servers need no key');
});

test('StreamRedactor removes a key split across any pieces and holds back no more than it must', () => {
  const key = 'sk-live-0123456789';
  const text = `before ${key} middle ${key}${key} end s`;
  for (let size = 1; size <= text.length; size += 3) {
    const r = new StreamRedactor(key);
    let out = '';
    for (let i = 0; i < text.length; i += size) out += r.push(text.slice(i, i + size));
    out += r.end();
    assert.equal(out, 'before [redacted] middle [redacted][redacted] end s', `piece size ${size}`);
  }
  const r = new StreamRedactor(key);
  assert.equal(r.push('plain text'), 'plain text');
  assert.equal(r.push(' sk-li'), ' ', 'a possible key prefix is held back');
  assert.equal(r.push('ghtly'), 'sk-lightly');
  assert.equal(new StreamRedactor(undefined).push('sk-live-0123456789'), 'sk-live-0123456789', 'no key, nothing to hold');
});

test('Output: messages lose key shapes and name CLI flags; content loses only the known key', () => {
  const err: string[] = [];
  const out: string[] = [];
  const o = new Output({ write: (t: string) => out.push(t) }, { write: (t: string) => err.push(t) }, 'secret-key-123');
  o.message('failed with secret-key-123 and Bearer abcdefghijkl; change MemGPT: Base URL or MemGPT: Select Model');
  assert.equal(err.join(''), 'failed with [redacted] and Bearer [redacted]; change --base-url or --model\n');
  o.content('api_key = os.environ["X"] and secret-key-123');
  assert.equal(out.join(''), 'api_key = os.environ["X"] and [redacted]', 'code in replies is not mangled');
  assert.equal(cliWording('Set a valid key with MemGPT: Set API Key'), 'Set a valid key with the OPENAI_API_KEY variable');
  assert.equal(
    cliWording('Set a valid Anthropic key with MemGPT: Set API Key (or ANTHROPIC_API_KEY for the command line).'),
    'Set a valid Anthropic key with the ANTHROPIC_API_KEY variable.',
  );
});

test('renderProgress: bar, counts and current file within the terminal width', () => {
  const line = renderProgress(
    { phase: 'indexing', filesDone: 25, filesTotal: 100, currentFile: 'src/deeply/nested/folder/file.ts' },
    80,
    1500,
  );
  assert.ok(line.length < 80, line);
  assert.match(line, /^\[#{5,8}-+\] 25\/100 files 25% 1\.5 s {2}.*file\.ts$/);
  assert.match(renderProgress({ phase: 'indexing', filesDone: 0, filesTotal: 0 }, 80, 0), /0\/0 files 100%/);
  assert.match(renderProgress({ phase: 'discovering', filesDone: 0, filesTotal: 12 }, 80, 200), /^Finding files… 12 so far/);
  assert.ok(renderProgress({ phase: 'indexing', filesDone: 1, filesTotal: 2, currentFile: 'x'.repeat(300) }, 40, 0).length < 40);
  assert.equal(shortenPath('a/b/c/file.ts', 8), '…file.ts');
});

test('TurnPrinter: streamed and whole messages end with one newline; call lines go to stderr after the reply line', () => {
  const out: string[] = [];
  const err: string[] = [];
  const o = new Output({ write: (t: string) => out.push(t) }, { write: (t: string) => err.push(`${t}`) }, undefined);
  const p = new TurnPrinter(o, false);
  p.onEvent({ type: 'function_call_started', stepId: 's', callId: 'a', name: 'archival_memory_search', arguments: '{"query":"x"}' });
  p.onEvent({
    type: 'function_call_finished',
    stepId: 's',
    callId: 'a',
    name: 'archival_memory_search',
    arguments: '{"query":"x"}',
    status: 'Failed',
    result: 'no index',
  });
  p.onEvent({ type: 'message_delta', stepId: 's', callId: 'b', delta: 'Hel' });
  p.onEvent({ type: 'message_delta', stepId: 's', callId: 'b', delta: 'lo' });
  p.onEvent({ type: 'message_complete', stepId: 's', callId: 'b', text: 'Hello world' });
  p.onEvent({ type: 'message_complete', stepId: 's', callId: 'c', text: 'Second, not streamed' });
  p.onEvent({ type: 'message_delta', stepId: 's', callId: 'd', delta: 'cut o' });
  p.finish();
  assert.equal(out.join(''), 'Hello world\nSecond, not streamed\ncut o\n');
  assert.deepEqual(err, ['→ archival_memory_search({"query":"x"})\n', '  ✗ archival_memory_search failed: no index\n']);
  assert.deepEqual(p.functionCalls, [{ name: 'archival_memory_search', arguments: { query: 'x' }, status: 'Failed' }]);
});
