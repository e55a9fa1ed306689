import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describeEmbedder } from '../../../src/core/embed/embedderInfo';
import type { RuntimeConfig } from '../../../src/core/runtime/runtimeConfig';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import { writeTinyModel2Vec } from '../../fixtures/tinyModel2Vec';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';

async function fixture(): Promise<{ root: string; folder: string; config: RuntimeConfig }> {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-m2v-runtime-'));
  const folder = path.join(root, 'project');
  await mkdir(path.join(folder, 'src'), { recursive: true });
  await writeFile(
    path.join(folder, 'src', 'loader.ts'),
    'export function readPath(p: string) {\n  // load the file from disk\n  return p;\n}\n',
  );
  await writeFile(path.join(folder, 'src', 'theme.ts'), 'export const palette = "dark colour theme";\n');
  const config: RuntimeConfig = testRuntimeConfig({ model: 'm', baseUrl: 'http://127.0.0.1:9' });
  return { root, folder, config };
}

test('a named model folder gives semantic search; switching models says so, re-indexes and keeps remembered items', async () => {
  const f = await fixture();
  try {
    const runtime = await WorkspaceRuntime.open({
      storageRoot: path.join(f.root, 'state'),
      folders: [{ name: 'project', path: f.folder }],
      trusted: true,
      config: f.config,
    });
    assert.equal(describeEmbedder(runtime.index.embedderId).semantic, false, 'no model: the hashing fallback');
    assert.match(describeEmbedder(runtime.index.embedderId).label, /lexical search only/);
    await runtime.index.indexWorkspace({});
    await runtime.memory.remember('The palette reads the theme colour from disk.');

    const model = writeTinyModel2Vec(path.join(f.root, 'tiny-model'));
    await runtime.configure({ ...f.config, embeddings: { ...f.config.embeddings, localModelPath: model } });
    assert.match(runtime.index.embedderId, /^model2vec:tiny-model:4:/);
    assert.equal(describeEmbedder(runtime.index.embedderId).semantic, true);
    assert.ok(
      runtime.memory.notices().some((n) => /now uses semantic \(local model tiny-model, 4 dimensions\)/.test(n) && /re-embedded/.test(n)),
      runtime.memory.notices().join('\n'),
    );
    // The remembered item was re-embedded into the new index from its log; the files need a pass.
    assert.equal(runtime.memory.archivalCounts().memory, 1);
    assert.equal(runtime.memory.archivalCounts().workspace, 0);
    const pass = await runtime.index.indexWorkspace({});
    assert.equal(pass.indexed, 2, 'every file is embedded again with the new model');
    const hits = await runtime.memory.searchArchival('palette colour', { limit: 5 });
    assert.ok(hits.some((h) => h.path === 'src/theme.ts'));
    await runtime.close();
  } finally {
    await rm(f.root, { recursive: true, force: true });
  }
});

test('a damaged model folder falls back to the hashing embedder with a notice that names the file', async () => {
  const f = await fixture();
  try {
    const model = writeTinyModel2Vec(path.join(f.root, 'broken-model'));
    await rm(path.join(model, 'tokenizer.json'));
    const config = { ...f.config, embeddings: { ...f.config.embeddings, localModelPath: model } };
    const runtime = await WorkspaceRuntime.open({
      storageRoot: path.join(f.root, 'state'),
      folders: [{ name: 'project', path: f.folder }],
      trusted: true,
      config,
    });
    assert.match(runtime.index.embedderId, /^local-hash-/);
    assert.ok(
      runtime.memory.notices().some((n) => /could not be loaded.*no tokenizer\.json.*lexical search only/s.test(n)),
      runtime.memory.notices().join('\n'),
    );
    // Still searchable by words.
    await runtime.index.indexWorkspace({});
    const hits = await runtime.memory.searchArchival('readPath', { limit: 5 });
    assert.equal(hits[0]?.path, 'src/loader.ts');
    await runtime.close();
  } finally {
    await rm(f.root, { recursive: true, force: true });
  }
});
