// `npm run package` (after the production build): builds the .vsix with @vscode/vsce on Node 24
// (vsce needs Node >= 22) and checks that it carries only what runs. Everything is bundled by
// esbuild, so no node_modules go in (--no-dependencies). Output: artifacts/memgpt-vscode-<version>.vsix
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHost } from '../test/harness/bootstrap.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.join(root, 'artifacts', `${manifest.name}-${manifest.version}.vsix`);

/** Files a .vsix may hold (paths inside the zip). vsce adds its manifest and renames LICENSE. */
const ALLOWED = [
  /^extension\.vsixmanifest$/,
  /^\[Content_Types\]\.xml$/,
  /^extension\/package\.json$/,
  /^extension\/readme\.md$/i,
  /^extension\/changelog\.md$/i,
  /^extension\/LICENSE(\.txt)?$/,
  /^extension\/dist\/(extension|extensionRuntime|cli|cliMain|recallRebuildWorker)\.js(\.map)?$/,
  /^extension\/dist\/schemas\/index\.proto$/,
  /^extension\/dist\/tree-sitter\/(web-)?tree-sitter(-[a-z_]+)?\.wasm$/,
  /^extension\/dist\/tokenizer\/(o200k_base|cl100k_base)\.js$/,
  /^extension\/dist\/vendor\/(openai|mcp-sdk|pg|web-tree-sitter|vectra)\.js(\.map)?$/,
  /^extension\/dist\/vendor\/schemas\/index\.proto$/,
  /^extension\/media\/.+/,
  /^extension\/docs\/cli\.md$/,
];
const REQUIRED = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/extensionRuntime.js',
  'extension/dist/recallRebuildWorker.js',
  // the `memgpt` binary and the command line it compiles (src/cli/launcher.ts)
  'extension/dist/cli.js',
  'extension/dist/cliMain.js',
  'extension/dist/schemas/index.proto',
  'extension/media/dist/webview.js',
  'extension/dist/tree-sitter/web-tree-sitter.wasm',
  'extension/dist/tree-sitter/tree-sitter-typescript.wasm',
  'extension/dist/tokenizer/o200k_base.js',
  'extension/dist/tokenizer/cl100k_base.js',
  // The libraries loaded on first use (VENDOR_GROUPS in esbuild.mjs).
  'extension/dist/vendor/openai.js',
  'extension/dist/vendor/mcp-sdk.js',
  'extension/dist/vendor/pg.js',
  'extension/dist/vendor/web-tree-sitter.js',
  'extension/dist/vendor/vectra.js',
  'extension/dist/vendor/schemas/index.proto',
];

function fail(message) {
  console.error(`npm run package: ${message}`);
  process.exit(1);
}

/** Names of the entries of a zip file, from its central directory. */
function zipEntries(file) {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail(`${file} is not a zip file (no end-of-central-directory record).`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) fail(`${file}: corrupt central directory at entry ${n}.`);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

const host = ensureHost(root);
mkdirSync(path.dirname(out), { recursive: true });
const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
const r = spawnSync(
  host.node24,
  [
    vsce,
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    // No public repository yet: README links stay relative (docs/cli.md ships inside the .vsix).
    '--no-rewrite-relative-links',
    '--out',
    out,
  ],
  {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
if (r.status !== 0) fail(`vsce failed (exit ${r.status ?? r.signal}); its output is above.`);

const entries = zipEntries(out).filter((e) => !e.endsWith('/'));
const unexpected = entries.filter((e) => !ALLOWED.some((re) => re.test(e)));
const missing = REQUIRED.filter((e) => !entries.includes(e));
if (unexpected.length) fail(`the .vsix carries files that do not run:\n  ${unexpected.join('\n  ')}\nExclude them in .vscodeignore.`);
if (missing.length) fail(`the .vsix lacks ${missing.join(', ')}. Run the production build first (npm run package does).`);
console.log(`\n${path.relative(root, out)}: ${entries.length} files, ${(statSync(out).size / 1024).toFixed(0)} KiB, only what runs:`);
for (const e of entries) console.log(`  ${e}`);
