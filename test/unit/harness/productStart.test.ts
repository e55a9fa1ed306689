/**
 * What `npm start` opens (issue 17, item 6): our own sample workspace trusted and without an empty
 * secondary side bar; a folder the user passes keeps VS Code's trust prompt and Restricted Mode.
 * test/webview/npmStart.test.ts runs `npm start` itself and looks at the window.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PRODUCT_SETTINGS, writeUserSettings } from '../../harness/codeServer';

// scripts/ are ES modules; this test file is CommonJS, so it loads them dynamically.
let plan: typeof import('../../../scripts/productLaunch.mjs', { with: { 'resolution-mode': 'import' } }).launchPlan;
before(async () => {
  ({ launchPlan: plan } = await import('../../../scripts/productLaunch.mjs'));
});

const root = path.resolve(__dirname, '..', '..', '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'product-start-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('npm start alone opens our sample workspace trusted', () => {
  const p = plan(root, undefined);
  assert.equal(p.workspace, path.join(root, 'sample-workspace'));
  assert.equal(p.ownSample, true);
  assert.equal(p.disableWorkspaceTrust, true);
  // The same folder named explicitly, or through a link, is still ours.
  const link = path.join(scratch, 'sample-link');
  symlinkSync(path.join(root, 'sample-workspace'), link);
  assert.equal(plan(root, link).disableWorkspaceTrust, true);
  assert.equal(plan(root, path.join(root, 'sample-workspace') + path.sep).ownSample, true);
});

test('a folder the user passes stays untrusted until the user trusts it', () => {
  const mine = path.join(scratch, 'project');
  mkdirSync(mine);
  const p = plan(root, mine);
  assert.equal(p.workspace, mine);
  assert.equal(p.ownSample, false);
  assert.equal(p.disableWorkspaceTrust, false);
  assert.equal(
    plan(root, path.join(root, 'sample-workspace', 'src')).disableWorkspaceTrust,
    false,
    'a folder inside the sample is not the sample',
  );
});

test('the product settings close the secondary side bar by default; a user who opened it keeps their choice', () => {
  assert.equal(PRODUCT_SETTINGS['workbench.secondarySideBar.defaultVisibility'], 'hidden');
  const fresh = path.join(scratch, 'ud-fresh');
  const written = JSON.parse(readFileSync(writeUserSettings(fresh, {}, PRODUCT_SETTINGS), 'utf8')) as Record<string, unknown>;
  assert.equal(written['workbench.secondarySideBar.defaultVisibility'], 'hidden');
  // A product folder from before this change gets the setting on the next start.
  const old = path.join(scratch, 'ud-old');
  mkdirSync(path.join(old, 'User'), { recursive: true });
  writeFileSync(path.join(old, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'memgpt.model': 'llama3.1' }));
  const upgraded = JSON.parse(readFileSync(writeUserSettings(old, {}, PRODUCT_SETTINGS), 'utf8')) as Record<string, unknown>;
  assert.equal(upgraded['workbench.secondarySideBar.defaultVisibility'], 'hidden');
  assert.equal(upgraded['memgpt.model'], 'llama3.1');
  const chosen = path.join(scratch, 'ud-chosen');
  mkdirSync(path.join(chosen, 'User'), { recursive: true });
  writeFileSync(path.join(chosen, 'User', 'settings.json'), JSON.stringify({ 'workbench.secondarySideBar.defaultVisibility': 'visible' }));
  const kept = JSON.parse(readFileSync(writeUserSettings(chosen, {}, PRODUCT_SETTINGS), 'utf8')) as Record<string, unknown>;
  assert.equal(kept['workbench.secondarySideBar.defaultVisibility'], 'visible');
});
