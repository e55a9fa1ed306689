/**
 * The heavy libraries are files of their own (VENDOR_GROUPS in esbuild.mjs), loaded on first use:
 * the built `memgpt --version` and `memgpt search` and the extension's activation load none of
 * them, and the .vsix lists carry every one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI, REPO, cleanEnv, ensureBuilt } from '../cli/cliHarness';

let root: string;
let preload: string;

before(() => {
  ensureBuilt();
  root = mkdtempSync(path.join(tmpdir(), 'memgpt-lazy-'));
  // Records every file under dist/vendor/ the process requires, on stderr.
  preload = path.join(root, 'trace.cjs');
  writeFileSync(
    preload,
    `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/[\\\\/]dist[\\\\/]vendor[\\\\/]/.test(request)) process.stderr.write('VENDOR ' + require('node:path').basename(request) + '\\n');
  return load.call(this, request, ...rest);
};
`,
  );
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function vendorGroups(): string[] {
  const build = readFileSync(path.join(REPO, 'esbuild.mjs'), 'utf8');
  const block = /VENDOR_GROUPS = \{([\s\S]*?)\n\};/.exec(build)![1]!;
  return [...block.matchAll(/^ {2}'?([a-z-]+)'?: \[/gm)].map((m) => m[1]!).sort();
}

function vendorLoads(stderr: string): string[] {
  return [...stderr.matchAll(/^VENDOR (.+)$/gm)].map((m) => m[1]!);
}

test('vendor files: the .vsix allow-list and required files name exactly the groups esbuild.mjs builds', () => {
  const groups = vendorGroups();
  assert.deepEqual(groups, ['mcp-sdk', 'openai', 'pg', 'vectra', 'web-tree-sitter']);
  const packaging = readFileSync(path.join(REPO, 'scripts', 'package.mjs'), 'utf8');
  const allowed = /dist\\\/vendor\\\/\(([a-z|-]+)\)/.exec(packaging)![1]!.split('|').sort();
  assert.deepEqual(allowed, groups);
  for (const g of groups) assert.ok(packaging.includes(`'extension/dist/vendor/${g}.js'`), `${g}.js is required in the .vsix`);
  const ignore = readFileSync(path.join(REPO, '.vscodeignore'), 'utf8');
  assert.match(ignore, /^!dist\/vendor\/\*\.js$/m);
  assert.match(ignore, /^!dist\/vendor\/schemas\/index\.proto$/m);
});

test('memgpt --version and memgpt search load no vendor file; memgpt index loads tree-sitter only when it parses', () => {
  const folder = path.join(root, 'project');
  mkdirSync(path.join(folder, 'src'), { recursive: true });
  writeFileSync(path.join(folder, 'src', 'total.ts'), 'export function invoiceTotal(xs: number[]): number {\n  return xs.length;\n}\n');
  const env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state') });
  const run = (args: string[]) => spawnSync(process.execPath, ['-r', preload, CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });

  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.deepEqual(vendorLoads(version.stderr), []);

  const index = run(['index', folder]);
  assert.equal(index.status, 0, index.stderr);
  assert.deepEqual(vendorLoads(index.stderr), ['web-tree-sitter.js'], 'parsing a TypeScript file loads tree-sitter, and only it');

  const search = run(['search', folder, 'invoice total', '--json']);
  assert.equal(search.status, 0, search.stderr);
  assert.equal((JSON.parse(search.stdout) as { results: { path: string }[] }).results[0]?.path, 'src/total.ts');
  assert.deepEqual(vendorLoads(search.stderr), []);
});

test('the extension activates in plain Node with a vscode stand-in: every command, the chat view and the runtime, no vendor file', () => {
  const folder = path.join(root, 'window');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'notes.md'), '# Notes\n');
  const r = spawnSync(
    process.execPath,
    [path.join(REPO, 'test', 'fixtures', 'activateExtension.mjs'), REPO, folder, path.join(root, 'storage')],
    {
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    commands: number;
    expectedCommands: number;
    missing: string[];
    chatView: boolean;
    runtime: boolean;
    error: string | null;
    vendorLoaded: string[];
    readyMs: number | null;
    runtimeBundleMs: number | null;
  };
  assert.deepEqual(result.missing, []);
  assert.ok(result.expectedCommands > 10, `${result.expectedCommands} commands in the manifest`);
  assert.equal(result.chatView, true);
  assert.equal(result.runtime, true, 'the memory opened');
  assert.equal(result.error, null);
  assert.deepEqual(result.vendorLoaded, []);
  assert.equal(typeof result.readyMs, 'number');
  // The view and every command are registered from dist/extension.js alone; the runtime's bundle comes after.
  assert.equal(typeof result.runtimeBundleMs, 'number', 'dist/extensionRuntime.js was loaded');
  assert.ok(result.runtimeBundleMs! >= result.readyMs!, `runtime bundle at ${result.runtimeBundleMs} ms, ready at ${result.readyMs} ms`);
});

test('the extension entry bundle holds the chat view and the commands only: the runtime is in dist/extensionRuntime.js', () => {
  const entry = readFileSync(path.join(REPO, 'dist', 'extension.js'), 'utf8');
  const runtime = readFileSync(path.join(REPO, 'dist', 'extensionRuntime.js'), 'utf8');
  // esbuild marks each bundled source file with a `// path` comment
  const sources = (bundle: string): string[] => [...bundle.matchAll(/^\/\/ (src\/\S+\.ts)$/gm)].map((m) => m[1]!);
  assert.ok(sources(entry).includes('src/vscode/chatView.ts'));
  assert.ok(!sources(entry).includes('src/core/runtime/workspaceRuntime.ts'), 'the runtime is not in the entry bundle');
  assert.ok(sources(runtime).includes('src/core/runtime/workspaceRuntime.ts'));
  // A module with state of its own in both bundles would exist twice (two event emitters, two caches).
  const shared = sources(entry).filter((s) => sources(runtime).includes(s));
  assert.deepEqual(
    shared.filter((s) => !['src/core/limits.ts', 'src/vscode/commandIds.ts'].includes(s)),
    [],
    `shared: ${shared.join(', ')}`,
  );
});
