/**
 * The built `memgpt` binary compiles its command line through V8's code cache (src/cli/launcher.ts)
 * on Node versions without a compile cache of their own. The cache is derived data in the user's
 * own folder of the temporary directory: the first run writes it, later runs use it unchanged, a
 * damaged file is compiled from source and replaced, a folder others may write to is not used,
 * and NODE_DISABLE_COMPILE_CACHE turns it off. The answers are the same in every case.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { BILLING_TS, cleanEnv, cliProject, ensureBuilt, runCli, type CliProject } from './cliHarness';

// Node 22.1+ caches compiled code itself: the launcher hands over to it and writes no file of its own.
const ownCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache !== 'function';
const skip = !ownCache ? 'this Node has its own compile cache' : process.platform === 'win32' ? 'checks POSIX folder modes' : false;

let project: CliProject;

before(async () => {
  ensureBuilt();
  project = await cliProject('memgpt-compile-cache-', { 'src/billing.ts': BILLING_TS });
  const index = await runCli(['index', project.folder], {
    env: cleanEnv({ MEMGPT_STATE_DIR: path.join(project.root, 'state'), TMPDIR: tmp('index') }),
  });
  assert.equal(index.code, 0, index.stderr);
});

after(() => {
  if (project) rmSync(project.root, { recursive: true, force: true });
});

/** A temporary directory of the test's own, so that each case starts without a cache. */
function tmp(name: string): string {
  const dir = path.join(project.root, `tmp-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const cacheFolder = (temp: string): string => path.join(temp, `memgpt-compile-cache-${process.getuid!()}`);
const cacheFiles = (temp: string): string[] => (existsSync(cacheFolder(temp)) ? readdirSync(cacheFolder(temp)) : []);

async function search(temp: string, extra: Record<string, string> = {}): Promise<string> {
  const r = await runCli(['search', project.folder, 'invoice total', '--json', '-k', '3'], {
    env: cleanEnv({ MEMGPT_STATE_DIR: path.join(project.root, 'state'), TMPDIR: temp, ...extra }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'the cache says nothing');
  const hits = (JSON.parse(r.stdout) as { results: { path: string }[] }).results;
  assert.equal(hits[0]?.path, 'src/billing.ts');
  return r.stdout;
}

test('the first run writes the code cache, the next runs read it unchanged and answer the same', { skip }, async () => {
  const temp = tmp('fresh');
  const first = await search(temp);
  const files = cacheFiles(temp);
  assert.equal(files.length, 1, `one cache file: ${files.join(', ')}`);
  assert.match(files[0]!, /-search-/, 'one cache a command');
  const file = path.join(cacheFolder(temp), files[0]!);
  assert.equal(statSync(cacheFolder(temp)).mode & 0o777, 0o700, 'the folder is the user’s alone');
  const written = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  assert.ok(written.length > 10_000, `a cache of the compiled bundle (${written.length} bytes)`);
  assert.equal(await search(temp), first);
  // accepted by V8, so not rewritten
  assert.equal(statSync(file).mtimeMs, mtime);
  assert.deepEqual(readFileSync(file), written);
});

test('a damaged cache file is compiled from source and replaced; the answer is the same', { skip }, async () => {
  const temp = tmp('damaged');
  const first = await search(temp);
  const file = path.join(cacheFolder(temp), cacheFiles(temp)[0]!);
  const size = statSync(file).size;
  const garbage = Buffer.alloc(size, 0x5a);
  writeFileSync(file, garbage);
  assert.equal(await search(temp), first);
  assert.notDeepEqual(readFileSync(file), garbage, 'V8 refused the damaged data and the launcher wrote a fresh cache');
  // a truncated file too
  writeFileSync(file, readFileSync(file).subarray(0, 100));
  assert.equal(await search(temp), first);
  assert.ok(statSync(file).size > 10_000);
});

test('a cache folder others may write to is not used', { skip }, async () => {
  const temp = tmp('shared');
  mkdirSync(cacheFolder(temp), { recursive: true });
  chmodSync(cacheFolder(temp), 0o777);
  await search(temp);
  assert.deepEqual(cacheFiles(temp), [], 'nothing is written to, or read from, a folder anyone can write');
});

test('NODE_DISABLE_COMPILE_CACHE turns the cache off, and the help says so', { skip }, async () => {
  const temp = tmp('disabled');
  await search(temp, { NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.deepEqual(cacheFiles(temp), []);
  assert.equal(existsSync(cacheFolder(temp)), false);
  const help = await runCli(['--help'], { env: cleanEnv({ TMPDIR: temp }) });
  assert.match(help.stdout, /^ {2}NODE_DISABLE_COMPILE_CACHE=1 /m);
});
