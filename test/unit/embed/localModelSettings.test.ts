import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeConfigFrom } from '../../../src/cli/config';
import { renderMemoryReport, type MemoryReport } from '../../../src/cli/commands/memory';
import { describeEmbedder } from '../../../src/core/embed/embedderInfo';
import { DEFAULT_LOCAL_MODEL, installedModelDir } from '../../../src/core/embed/modelDownload';
import { parseSettings, type SettingKey } from '../../../src/vscode/settings';
import { statusView } from '../../../src/vscode/statusView';

test('describeEmbedder: real models are semantic; the hashing fallback says "lexical search only"', () => {
  assert.deepEqual(describeEmbedder('model2vec:potion-base-8M:256:0123456789ab'), {
    kind: 'model2vec',
    semantic: true,
    label: 'semantic (local model potion-base-8M, 256 dimensions)',
  });
  assert.equal(describeEmbedder('openai:text-embedding-3-small:1536@api.openai.com').semantic, true);
  assert.match(describeEmbedder('openai:text-embedding-3-small:1536@api.openai.com').label, /text-embedding-3-small at api\.openai\.com/);
  assert.deepEqual(describeEmbedder('local-hash-v1-384'), {
    kind: 'hash',
    semantic: false,
    label: 'lexical search only (no embedding model)',
  });
});

test('memgpt.embeddings.localModelPath: read from settings, else MEMGPT_LOCAL_MODEL', () => {
  const get = (values: Partial<Record<SettingKey, unknown>>) => (k: SettingKey) => values[k];
  assert.equal(parseSettings(get({})).settings.embeddings.localModelPath, '');
  assert.equal(
    parseSettings(get({ 'embeddings.localModelPath': ' /models/potion ' })).settings.embeddings.localModelPath,
    '/models/potion',
  );
  assert.equal(parseSettings(get({}), { MEMGPT_LOCAL_MODEL: '/env/model' }).settings.embeddings.localModelPath, '/env/model');
  assert.equal(
    parseSettings(get({ 'embeddings.localModelPath': '/set' }), { MEMGPT_LOCAL_MODEL: '/env/model' }).settings.embeddings.localModelPath,
    '/set',
  );
  const bad = parseSettings(get({ 'embeddings.localModelPath': 42 }));
  assert.equal(bad.settings.embeddings.localModelPath, '');
  assert.match(bad.problems[0] ?? '', /memgpt\.embeddings\.localModelPath/);
});

test('CLI: --local-model, then MEMGPT_LOCAL_MODEL, then a model downloaded into the state folder', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'memgpt-cli-model-'));
  const env = { MEMGPT_STATE_DIR: state };
  assert.equal(runtimeConfigFrom({}, env).embeddings.localModelPath, undefined, 'none: lexical search only');
  assert.equal(runtimeConfigFrom({ 'local-model': 'rel/model' }, env).embeddings.localModelPath, path.resolve('rel/model'));
  assert.equal(runtimeConfigFrom({}, { ...env, MEMGPT_LOCAL_MODEL: '/env/model' }).embeddings.localModelPath, '/env/model');
  // A complete download (the marker and every pinned file) is found without a flag.
  const dir = installedModelDir(state);
  mkdirSync(dir, { recursive: true });
  for (const f of DEFAULT_LOCAL_MODEL.files) writeFileSync(path.join(dir, f.name), '');
  assert.equal(runtimeConfigFrom({}, env).embeddings.localModelPath, undefined, 'without the completion marker it is a half download');
  writeFileSync(path.join(dir, '.memgpt-model-complete.json'), '{}');
  assert.equal(runtimeConfigFrom({}, env).embeddings.localModelPath, dir);
});

test('the status tooltip and `memgpt memory` say what search can do', () => {
  assert.match(
    statusView({ kind: 'idle' }, true, 'local-hash-v1-384').tooltip,
    /Archival search: lexical search only.*Download Local Embedding Model/,
  );
  assert.match(
    statusView({ kind: 'idle' }, true, 'model2vec:potion-base-8M:256:0123456789ab').tooltip,
    /Archival search: semantic \(local model potion-base-8M/,
  );
  const report: MemoryReport = {
    folder: '/w',
    readOnly: false,
    agent: null,
    coreMemory: [],
    recall: { count: 0 },
    archival: { total: 0, workspace: 0, memory: 0 },
    search: { embedder: 'local-hash-v1-384', semantic: false, description: 'lexical search only (no embedding model)' },
    context: null,
    notices: [],
    reflections: [],
  };
  assert.match(renderMemoryReport(report), /Search: lexical search only \(no embedding model\) \(give --local-model/);
  assert.match(
    renderMemoryReport({
      ...report,
      search: { embedder: 'model2vec:x:4:abc', semantic: true, description: 'semantic (local model x, 4 dimensions)' },
    }),
    /Search: semantic \(local model x, 4 dimensions\)\n/,
  );
});
