import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { findEditorImports } from './editorImports';

const repoRoot = path.resolve(__dirname, '../../..');

test('no file under src/core loads the vscode module (the core runs in plain Node)', () => {
  const found = findEditorImports(path.join(repoRoot, 'src/core'));
  const where = found.map((f) => `${path.relative(repoRoot, f.file)}:${f.line}: ${f.text}`).join('\n');
  assert.deepEqual(found, [], `src/core must not import vscode; move this into src/vscode/ and pass it in:\n${where}`);
});

const scratch = mkdtempSync(path.join(os.tmpdir(), 'editor-imports-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the checker catches every way of loading vscode', () => {
  const bad: Record<string, string> = {
    'static.ts': "import * as vscode from 'vscode';\n",
    'named.ts': 'import { window } from "vscode";\n',
    'typeOnly.ts': "import type { Uri } from 'vscode';\n",
    'reexport.ts': "export { Uri } from 'vscode';\n",
    'sideEffect.ts': "import 'vscode';\n",
    'importEquals.ts': "import vscode = require('vscode');\n",
    'nested/require.js': "const vscode = require ( 'vscode' );\n",
    'dynamic.mts': 'async function f() {\n  const vscode = await import(`vscode`);\n}\n',
  };
  for (const [name, content] of Object.entries(bad)) {
    mkdirSync(path.dirname(path.join(scratch, 'bad', name)), { recursive: true });
    writeFileSync(path.join(scratch, 'bad', name), content);
  }
  const found = findEditorImports(path.join(scratch, 'bad'));
  const files = found.map((f) => path.relative(path.join(scratch, 'bad'), f.file)).sort();
  assert.deepEqual(files, Object.keys(bad).sort());
  assert.equal(found.find((f) => f.file.endsWith('dynamic.mts'))?.line, 2);
});

test('the checker ignores comments and look-alike modules', () => {
  const dir = path.join(scratch, 'good');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'fine.ts'),
    [
      "// import * as vscode from 'vscode';",
      "/* require('vscode') */",
      "import { x } from 'vscode-languageserver';",
      "import { y } from './vscode';",
      "const url = 'https://code.visualstudio.com'; // not an import",
      "export const editor = 'vscode';",
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'notes.md'), "import * as vscode from 'vscode';\n");
  assert.deepEqual(findEditorImports(dir), []);
});
