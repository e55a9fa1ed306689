import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CORE_LAYERS, findLayerViolations } from './coreLayers';

const coreDir = path.resolve(__dirname, '../../../src/core');

test('every folder of src/core is placed in the layer list', () => {
  const folders = readdirSync(coreDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual(folders, [...CORE_LAYERS].sort(), 'add a new core folder to CORE_LAYERS at the height it belongs');
});

test('src/core imports run downward only: no folder imports one above it, so there are no cycles', () => {
  const found = findLayerViolations(coreDir);
  const where = found.map((v) => `${path.relative(coreDir, v.file)}:${v.line}: ${v.from} → ${v.to} (${v.specifier})`).join('\n');
  assert.deepEqual(found, [], `Upward imports in src/core (order: ${CORE_LAYERS.join(' < ')}):\n${where}`);
});

const scratch = mkdtempSync(path.join(os.tmpdir(), 'core-layers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the checker catches upward imports in every form and lets downward and same-folder ones pass', () => {
  const files: Record<string, string> = {
    'low/a.ts': "import { b } from '../high/b';\n",
    'low/dynamic.ts': "async function f() {\n  return import('../high/b');\n}\n",
    'low/typeOnly.ts': "import type { B } from '../high/b';\n",
    'low/reexport.ts': "export * from '../high/b';\n",
    'low/fine.ts':
      "import { c } from './c';\n// import { b } from '../high/b';\n/* import { b } from '../high/b'; */\nimport { l } from '../limits';\n",
    'high/b.ts': "import { a } from '../low/a';\nexport const b = 1;\n",
    'stray/x.ts': "import { a } from '../low/a';\n",
    'limits.ts': 'export const l = 1;\n',
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(scratch, name)), { recursive: true });
    writeFileSync(path.join(scratch, name), content);
  }
  const found = findLayerViolations(scratch, ['low', 'high']);
  const files2 = found.map((v) => `${path.relative(scratch, v.file)} ${v.from}→${v.to}`).sort();
  assert.deepEqual(files2, [
    'low/a.ts low→high',
    'low/dynamic.ts low→high',
    'low/reexport.ts low→high',
    'low/typeOnly.ts low→high',
    'stray/x.ts stray→low',
  ]);
  assert.equal(found.find((v) => v.file.endsWith('dynamic.ts'))?.line, 2);
});
