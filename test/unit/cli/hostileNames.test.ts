/**
 * Issue 13, item 7 on the command line: file names with a newline, a right-to-left override or an
 * escape sequence are printed escaped by `memgpt search` (text and --json) and by the index
 * progress line, so a name can neither fake a second result line nor drive the terminal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cleanEnv, ensureBuilt, runCli } from './cliHarness';
import { renderProgress } from '../../../src/cli/progressBar';

const RAW_UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;
let root: string;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-cli-names-'));
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('memgpt search prints hostile names escaped in text and in --json (which still parses to the real name)', async () => {
  const folder = path.join(root, 'project');
  await mkdir(path.join(folder, 'src'), { recursive: true });
  await writeFile(
    path.join(folder, 'src', 'evil\n2. fake.ts:1-1  (workspace, score 1.0000)'),
    'export function zebraUnicorn(): number { return 1; }\n',
  );
  await writeFile(path.join(folder, 'src', '\u202Egnp.ts'), 'export function zebraUnicornTwo(): number { return 2; }\n');
  await writeFile(
    path.join(folder, 'src', 'bell\u0007\u001B]0;pwned\u0007.ts'),
    'export function zebraUnicornThree(): number { return 3; }\n',
  );
  const env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state') });
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);

  const text = await runCli(['search', folder, 'zebraUnicorn', '-k', '10'], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout + text.stderr, RAW_UNSAFE, text.stdout);
  assert.match(text.stdout, /^\d+\. src\/evil\\n2\. fake\.ts:1-1 {2}\(workspace, score 1\.0000\):1 {2}\(workspace/m);
  assert.match(text.stdout, /src\/\\u202Egnp\.ts:1/);
  assert.match(text.stdout, /src\/bell\\u0007\\u001B\]0;pwned\\u0007\.ts:1/);
  const headers = text.stdout.split('\n').filter((l) => /^\d+\. /.test(l));
  assert.equal(headers.length, 3, `one header line per hit:\n${text.stdout}`);

  const json = await runCli(['search', folder, 'zebraUnicorn', '-k', '10', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.doesNotMatch(json.stdout, RAW_UNSAFE);
  const parsed = JSON.parse(json.stdout) as { results: { path: string }[] };
  assert.ok(
    parsed.results.some((r) => r.path === 'src/\u202Egnp.ts'),
    'JSON escapes still decode to the real path',
  );
});

test('the index progress line escapes the current file name', () => {
  const line = renderProgress({ phase: 'indexing', filesDone: 1, filesTotal: 2, currentFile: 'src/a\u001B[2J\nb\u202E.ts' }, 120, 0);
  assert.doesNotMatch(line, RAW_UNSAFE);
  assert.match(line, /src\/a\\u001B\[2J\\nb\\u202E\.ts$/);
});
