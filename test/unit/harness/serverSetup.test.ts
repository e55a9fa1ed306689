import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { QUIET_SETTINGS, writeUserSettings } from '../../harness/codeServer';
import { linkExtensionFolder, listInstalledExtension } from '../../harness/extensionsDir';
import { workbenchUrl } from '../../harness/browser';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'server-setup-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('user settings: defaults, then what the user set, then the explicit values', () => {
  const ud = path.join(scratch, 'ud');
  mkdirSync(path.join(ud, 'User'), { recursive: true });
  writeFileSync(path.join(ud, 'User/settings.json'), JSON.stringify({ 'git.enabled': true, 'memgpt.model': 'old' }));
  const file = writeUserSettings(ud, { 'memgpt.model': 'llama3.1', 'memgpt.baseUrl': 'http://127.0.0.1:11434/v1' });
  const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.equal(written['git.enabled'], true, "the user's choice beats a default");
  assert.equal(written['memgpt.model'], 'llama3.1', 'explicit values win');
  assert.equal(written['telemetry.telemetryLevel'], QUIET_SETTINGS['telemetry.telemetryLevel']);
});

test('user settings: a hand-edited file with comments is replaced, not a crash', () => {
  const ud = path.join(scratch, 'ud2');
  mkdirSync(path.join(ud, 'User'), { recursive: true });
  writeFileSync(path.join(ud, 'User/settings.json'), '// mine\n{ "a": 1, }');
  const written = JSON.parse(readFileSync(writeUserSettings(ud, { b: 2 }), 'utf8')) as Record<string, unknown>;
  assert.equal(written.b, 2);
});

test('the extension folder is linked and listed; other installed extensions stay listed', () => {
  const exts = path.join(scratch, 'exts');
  const ext = path.join(scratch, 'ext');
  mkdirSync(ext, { recursive: true });
  writeFileSync(path.join(ext, 'package.json'), JSON.stringify({ publisher: 'p', name: 'n', version: '1.2.3' }));
  listInstalledExtension(exts, 'other.ext', '0.1.0', 'other.ext-0.1.0');
  assert.equal(linkExtensionFolder(exts, ext), 'p.n');
  assert.equal(linkExtensionFolder(exts, ext), 'p.n', 'a second start replaces the link');
  const link = path.join(exts, 'p.n-1.2.3');
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), ext);
  const list = JSON.parse(readFileSync(path.join(exts, 'extensions.json'), 'utf8')) as {
    identifier: { id: string };
    location: { path: string };
  }[];
  assert.deepEqual(list.map((e) => e.identifier.id).sort(), ['other.ext', 'p.n']);
  assert.equal(list.find((e) => e.identifier.id === 'p.n')?.location.path, link);
});

test('a real folder where the link should go is refused, not deleted', () => {
  const exts = path.join(scratch, 'exts2');
  const ext = path.join(scratch, 'ext2');
  mkdirSync(ext, { recursive: true });
  writeFileSync(path.join(ext, 'package.json'), JSON.stringify({ publisher: 'p', name: 'n', version: '1.0.0' }));
  mkdirSync(path.join(exts, 'p.n-1.0.0'), { recursive: true });
  writeFileSync(path.join(exts, 'p.n-1.0.0', 'keep.txt'), 'x');
  assert.throws(() => linkExtensionFolder(exts, ext), /is a real folder/);
  assert.equal(readFileSync(path.join(exts, 'p.n-1.0.0', 'keep.txt'), 'utf8'), 'x');
});

test('workbench URL carries the folder and a payload of remote URIs', () => {
  const url = new URL(
    workbenchUrl('http://127.0.0.1:4567', { folder: '/w s', extensionDevelopmentPaths: ['/repo'], extensionTestsPath: '/repo/t.js' }),
  );
  assert.equal(url.searchParams.get('folder'), '/w s');
  assert.deepEqual(JSON.parse(url.searchParams.get('payload') ?? ''), [
    ['extensionDevelopmentPath', 'vscode-remote://127.0.0.1:4567/repo'],
    ['extensionTestsPath', 'vscode-remote://127.0.0.1:4567/repo/t.js'],
  ]);
});
