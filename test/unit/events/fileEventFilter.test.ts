import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileEventFilter, type EditorDocumentRef } from '../../../src/core/events/fileEventFilter';

const root = path.resolve('/work/project');
const doc = (rel: string, scheme = 'file'): EditorDocumentRef => ({ scheme, fsPath: path.join(root, rel), relativePath: rel });

describe('FileEventFilter', () => {
  const storage = path.resolve('/home/u/.config/Code/User/globalStorage/memgpt');
  const filter = new FileEventFilter({ excludeGlobs: ['**/*.generated.ts', 'fixtures/**'], ignoredDirs: [storage] });

  it('accepts ordinary workspace files', () => {
    assert.equal(filter.skipReason(doc('src/app.ts')), undefined);
    assert.equal(filter.skipReason(doc('README.md')), undefined);
  });

  it('refuses non-file schemes: output channels, untitled buffers, git views, settings', () => {
    for (const scheme of ['output', 'untitled', 'git', 'vscode-userdata', 'memgpt-memory']) {
      assert.equal(filter.skipReason(doc('src/app.ts', scheme)), 'scheme', scheme);
    }
  });

  it('refuses files outside every workspace folder', () => {
    assert.equal(filter.skipReason({ scheme: 'file', fsPath: '/etc/hosts', relativePath: undefined }), 'outside');
    assert.equal(filter.skipReason({ scheme: 'file', fsPath: '/etc/hosts', relativePath: '../etc/hosts' }), 'outside');
  });

  it("refuses the extension's own storage, even when it lies inside the workspace", () => {
    assert.equal(filter.skipReason({ scheme: 'file', fsPath: path.join(storage, 'abc/recall.log'), relativePath: undefined }), 'storage');
    const inWorkspace = new FileEventFilter({ ignoredDirs: [path.join(root, '.store')] });
    assert.equal(inWorkspace.skipReason(doc('.store/agents/a.json')), 'storage');
  });

  it('refuses secrets, default-excluded folders, logs and user excludes', () => {
    assert.equal(filter.skipReason(doc('.env')), 'secret');
    assert.equal(filter.skipReason(doc('config/.env.local')), 'secret');
    assert.equal(filter.skipReason(doc('deploy/id_rsa')), 'secret');
    assert.equal(filter.skipReason(doc('node_modules/x/index.js')), 'excluded');
    assert.equal(filter.skipReason(doc('server.log')), 'log');
    assert.equal(filter.skipReason(doc('src/api.generated.ts')), 'excluded');
    assert.equal(filter.skipReason(doc('fixtures/a.json')), 'excluded');
  });

  it('matches user globs per folder in multi-root workspaces, and not across folders in single-root', () => {
    const multi = new FileEventFilter({ excludeGlobs: ['fixtures/**'], multiRoot: true });
    assert.equal(multi.skipReason(doc('backend/fixtures/a.json')), 'excluded');
    assert.equal(multi.skipReason(doc('backend/src/a.ts')), undefined);
    const single = new FileEventFilter({ excludeGlobs: ['fixtures/**'] });
    assert.equal(single.skipReason(doc('test/fixtures/a.json')), undefined);
  });
});
